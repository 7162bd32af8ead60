"""The one privacy gate: what the public may see."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback.models import Status, Submission, Visibility


def public_submissions() -> sa.Select[tuple[Submission]]:
    """Select the submissions anyone may see: public and approved, newest first."""
    return (
        sa.select(Submission)
        .where(Submission.status == Status.APPROVED, Submission.visibility == Visibility.PUBLIC)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
    )


def is_public(item: Submission) -> bool:
    """Whether one loaded submission may be shown to the public."""
    return item.status == Status.APPROVED and item.visibility == Visibility.PUBLIC


def get_public(session: Session, item_id: int) -> Submission | None:
    """One public submission by id, or None when it does not exist or is not public."""
    return session.scalars(public_submissions().where(Submission.id == item_id)).first()
