"""Asking an author to publish a private note, maybe in a version the owner trimmed."""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback import moderation, submissions
from feedback.db import utcnow
from feedback.models import ConsentRequest, Owner, Status, Submission, Visibility
from feedback.submissions import AUTHOR


class ConsentError(ValueError):
    """A request or answer that cannot be made; the message says why."""


def askable(item: Submission) -> bool:
    """Whether a request about this item may be made or answered: a private note that is
    pending or accepted (never a withdrawn, rejected or spam one)."""
    return item.visibility is Visibility.PRIVATE and item.status in (
        Status.PENDING,
        Status.APPROVED,
    )


def open_request(session: Session, item: Submission) -> ConsentRequest | None:
    """The item's unanswered, unexpired request, if any, while it can still be answered."""
    if not askable(item):
        return None
    return session.scalars(
        sa.select(ConsentRequest)
        .where(
            ConsentRequest.submission_id == item.id,
            ConsentRequest.answer.is_(None),
            ConsentRequest.expires_at > utcnow(),
        )
        .order_by(ConsentRequest.id.desc())
    ).first()


def ask(
    session: Session,
    item: Submission,
    by: Owner,
    *,
    title: str | None,
    body: str,
    days: int,
    secret_key: str,
) -> str:
    """Ask the author to let this private note be published as ``title``/``body``; return
    the manage token that the email to the author links to.

    :raise ConsentError: for a public or withdrawn item, a note already consented, or one
        with a request still open.
    """
    if not askable(item):
        raise ConsentError("Only a private note that is not withdrawn or rejected can be asked.")
    if item.consent_to_publish:
        raise ConsentError("The author already allowed publishing; use Make public.")
    if open_request(session, item) is not None:
        raise ConsentError("A request to this author is still open.")
    now = utcnow()
    request = ConsentRequest(
        submission_id=item.id,
        proposed_title=title or None,
        proposed_body=body,
        created_by=by.email,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(request)
    proposal = f"{title}\n\n{body}" if title else body
    moderation.record(session, item, by, "consent_asked", None, proposal)
    return submissions.manage_link_token(session, item, secret_key)


def answer(session: Session, item: Submission, request: ConsentRequest, accept: bool) -> None:
    """The author's answer; only a yes publishes, and it publishes the proposed version.

    :raise ConsentError: when the request expired or was answered already.
    """
    if request.answer is not None or request.expires_at <= utcnow() or not askable(item):
        raise ConsentError("This request is no longer open.")
    request.answer = "accepted" if accept else "declined"
    request.answered_at = utcnow()
    moderation.record(session, item, None, "consent_answer", None, request.answer, actor=AUTHOR)
    if not accept:
        return
    # The author's own changes, through the same services (and audit events) as an owner's.
    moderation.edit_text(
        session, item, request.proposed_title, request.proposed_body, None, actor=AUTHOR
    )
    submissions.set_consent(session, item, True)
    moderation.set_visibility(session, item, Visibility.PUBLIC, None, actor=AUTHOR)
    moderation.set_status(session, item, Status.APPROVED, None, actor=AUTHOR)
