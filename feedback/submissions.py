"""What readers do with their ideas. Services take a session and never commit."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback.db import utcnow
from feedback.models import Status, Submission, Topic, Visibility
from feedback.tokens import hash_token, new_manage_token


class SubmissionError(ValueError):
    """A submission that breaks a rule; ``field`` names the form field to show it next to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


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


def create(
    session: Session, idea: NewIdea, *, auto_approve_public: bool, now: datetime | None = None
) -> tuple[Submission, str]:
    """Store a new idea; return it with the author's manage token (shown once, never stored).

    ``now`` backdates the idea, for example data only.
    """
    if session.get(Topic, idea.topic_id) is None:
        raise SubmissionError("topic", "That topic no longer exists. Please choose another.")
    token, token_hash = new_manage_token()
    approve = auto_approve_public and idea.visibility is Visibility.PUBLIC
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
        # Consent to publish only means something for a private note.
        consent_to_publish=idea.visibility is Visibility.PRIVATE and idea.consent_to_publish,
        manage_token_hash=token_hash,
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
