"""What readers do with their ideas. Services take a session and never commit."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback import moderation
from feedback.db import utcnow
from feedback.models import Block, BlockKind, Credit, Status, Submission, Topic, Visibility
from feedback.tokens import hash_token, manage_token, new_manage_token

# The actor of changes the author makes through their manage link.
AUTHOR = "author"


class SubmissionError(ValueError):
    """A submission that breaks a rule.

    ``field`` names the form field to show it next to (None: the whole form), ``status`` the
    HTTP status that says so.
    """

    def __init__(self, field: str | None, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class NewIdea:
    """What a reader sends, already checked for shape by the form or the caller."""

    visibility: Visibility
    author_name: str
    email: str
    topic_id: int
    body: str
    website: str | None = None
    title: str | None = None
    consent_to_publish: bool = False
    client_hash: str | None = None
    credit: Credit = Credit.NAME
    organisation: str | None = None
    notify_author: bool = False


def _check_blocks(session: Session, idea: NewIdea) -> None:
    keys = [(BlockKind.EMAIL, idea.email.lower())]
    if idea.client_hash:
        keys.append((BlockKind.ADDRESS, idea.client_hash))
    for kind, value in keys:
        if session.scalar(sa.select(Block.id).where(Block.kind == kind, Block.value == value)):
            where = "this email address" if kind is BlockKind.EMAIL else "your network"
            raise SubmissionError(
                "email" if kind is BlockKind.EMAIL else None,
                f"The site owner does not accept ideas from {where}.",
                status=403,
            )


def create(
    session: Session,
    idea: NewIdea,
    *,
    secret_key: str,
    auto_approve_public: bool,
    trust_authors: bool = False,
    now: datetime | None = None,
) -> tuple[Submission, str]:
    """Store a new idea; return it with the author's manage token (shown once, never stored).

    Public comments are approved at once when ``auto_approve_public`` is on, or when
    ``trust_authors`` is on and an owner trusted the author. ``now`` backdates the idea, for
    example data only.

    :raise SubmissionError: for an unknown topic, or a blocked email or address.
    """
    if session.get(Topic, idea.topic_id) is None:
        raise SubmissionError("topic", "That topic no longer exists. Please choose another.")
    _check_blocks(session, idea)
    token, nonce, token_hash = new_manage_token(secret_key)
    approve = idea.visibility is Visibility.PUBLIC and (
        auto_approve_public
        or (trust_authors and moderation.is_trusted(session, idea.email, idea.author_name))
    )
    now = now or utcnow()
    item = Submission(
        visibility=idea.visibility,
        status=Status.APPROVED if approve else Status.PENDING,
        author_name=idea.author_name,
        email=idea.email,
        website=idea.website or None,
        topic_id=idea.topic_id,
        title=idea.title or None,
        body=idea.body,
        # A public comment is consent in itself (so a hidden one can be shown again); a
        # private note is published only if its author ticked the box.
        consent_to_publish=idea.visibility is Visibility.PUBLIC or idea.consent_to_publish,
        manage_token_hash=token_hash,
        manage_nonce=nonce,
        client_hash=idea.client_hash,
        credit=idea.credit,
        # The organisation only matters when the author wants to be credited with it.
        organisation=idea.organisation if idea.credit is Credit.NAME_AND_ORGANISATION else None,
        notify_author=idea.notify_author,
        created_at=now,
        updated_at=now,
        approved_at=now if approve else None,
    )
    session.add(item)
    session.flush()
    return item, token


def get_by_token(session: Session, token: str) -> Submission | None:
    """The submission a manage token belongs to, or None."""
    return session.scalar(
        sa.select(Submission).where(Submission.manage_token_hash == hash_token(token))
    )


def manage_link_token(session: Session, item: Submission, secret_key: str) -> str:
    """The item's manage token, for mailing its link again.

    Ideas stored before tokens were derivable get a new token (their old link stops working).
    """
    if item.manage_nonce is None:
        token, item.manage_nonce, item.manage_token_hash = new_manage_token(secret_key)
        return token
    token = manage_token(item.manage_nonce, secret_key)
    # After a change of SECRET_KEY the old link is dead anyway; make the mailed one work.
    item.manage_token_hash = hash_token(token)
    return token


def by_email(session: Session, email: str) -> list[Submission]:
    """Every idea sent from an address, newest first (for mailing the links again)."""
    return list(
        session.scalars(
            sa.select(Submission)
            .where(sa.func.lower(Submission.email) == email.strip().lower())
            .order_by(Submission.id.desc())
            .limit(50)
        )
    )


class AuthorActionRefused(ValueError):
    """Something the author may not do (now); the message says why."""


@dataclass(frozen=True)
class EditRules:
    """How long authors may edit, and whether an edit sends a published idea back to the queue."""

    window: timedelta
    reapprove: bool


def can_edit(item: Submission, rules: EditRules, now: datetime | None = None) -> bool:
    """Whether the author may still edit: while pending, or for a while after approval."""
    if item.status is Status.PENDING:
        return True
    if item.status is Status.APPROVED and item.approved_at is not None:
        return (now or utcnow()) - item.approved_at <= rules.window
    return False


def edit_by_author(
    session: Session,
    item: Submission,
    rules: EditRules,
    *,
    title: str | None,
    body: str,
    topic: Topic,
    website: str | None,
) -> bool:
    """Apply the author's edit, recorded in the trail; return whether it went back to pending.

    :raise AuthorActionRefused: when the idea can no longer be edited.
    """
    if not can_edit(item, rules):
        raise AuthorActionRefused("This idea can no longer be edited. You can still withdraw it.")
    changes = {
        "edit_title": (item.title, title or None),
        "edit_body": (item.body, body),
        "topic": (item.topic.slug, topic.slug),
        "edit_website": (item.website, website or None),
    }
    changed = False
    for action, (old, new) in changes.items():
        if old != new:
            moderation.record(session, item, None, action, old, new, actor=AUTHOR)
            changed = True
    item.title, item.body, item.website = title or None, body, website or None
    item.topic, item.topic_id = topic, topic.id
    back = (
        changed
        and rules.reapprove
        and item.status is Status.APPROVED
        and item.visibility is Visibility.PUBLIC
    )
    if back:
        moderation.record(session, item, None, "status", item.status, Status.PENDING, actor=AUTHOR)
        item.status = Status.PENDING
        item.approved_at = None
    return back


def withdraw(session: Session, item: Submission) -> None:
    """Take the idea back: off every public page and out of every future digest.

    Any open request to publish it can no longer be answered (consent.askable).
    """
    if item.status is Status.WITHDRAWN:
        return
    moderation.record(session, item, None, "status", item.status, Status.WITHDRAWN, actor=AUTHOR)
    item.status = Status.WITHDRAWN


def set_consent(session: Session, item: Submission, consent: bool) -> None:
    """Give or take back consent to publish a private note.

    Taking it back from a note an owner already published makes it private again.
    """
    if item.status is Status.WITHDRAWN:
        raise AuthorActionRefused("This idea is withdrawn.")
    if item.consent_to_publish is not consent:
        moderation.record(
            session, item, None, "consent", item.consent_to_publish, consent, actor=AUTHOR
        )
        item.consent_to_publish = consent
    if not consent and item.visibility is Visibility.PUBLIC:
        moderation.record(
            session, item, None, "visibility", item.visibility, Visibility.PRIVATE, actor=AUTHOR
        )
        item.visibility = Visibility.PRIVATE
