"""What readers do with their ideas. Services take a session and never commit."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback import moderation
from feedback.db import utcnow
from feedback.models import Block, BlockKind, Credit, Status, Submission, Topic, Visibility
from feedback.tokens import hash_token, new_manage_token


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
    token, token_hash = new_manage_token()
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
