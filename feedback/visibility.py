"""The one privacy gate: what the public may see."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from feedback.digest.contents import ANONYMOUS, credit_of
from feedback.markup import profile_url
from feedback.models import Credit, Status, Submission, Topic, Visibility

SORTS = ("new", "top")


def public_submissions(sort: str = "new", topic: Topic | None = None) -> sa.Select:
    """Select the submissions anyone may see: public and approved.

    ``sort`` is "new" (newest first) or "top" (most +1s first, then newest); ``topic``
    narrows to one topic. Every public page, feed and API response starts here.
    """
    query = sa.select(Submission).where(
        Submission.status == Status.APPROVED, Submission.visibility == Visibility.PUBLIC
    )
    if topic is not None:
        query = query.where(Submission.topic_id == topic.id)
    if sort == "top":
        return query.order_by(
            Submission.vote_count.desc(), Submission.created_at.desc(), Submission.id.desc()
        )
    return query.order_by(Submission.created_at.desc(), Submission.id.desc())


def is_public(item: Submission) -> bool:
    """Whether one loaded submission may be shown to the public."""
    return item.status == Status.APPROVED and item.visibility == Visibility.PUBLIC


def public_in_order(
    *, after: int = 0, since: datetime | None = None, topic: Topic | None = None
) -> sa.Select:
    """Public ideas oldest first: with an id above ``after``, or (for live updates) published
    after ``since``, so that ideas approved out of order are not missed."""
    query = public_submissions(topic=topic).order_by(None)
    if since is not None:
        return query.where(Submission.published_at > since).order_by(
            Submission.published_at, Submission.id
        )
    return query.where(Submission.id > after).order_by(Submission.id)


def get_public(session: Session, item_id: int) -> Submission | None:
    """One public submission by id, or None when it does not exist or is not public."""
    return session.scalars(public_submissions().where(Submission.id == item_id)).first()


@dataclass(frozen=True)
class PublicAuthor:
    """An author as the public sees them: a credit line, and a link only when named."""

    name: str
    url: str | None


def public_author(item: Submission) -> PublicAuthor:
    """How every public page, feed and API response credits an idea's author.

    The credit the author chose holds in public as in the digest (its own ``credit_of``): an
    anonymous author is "A reader" with no website, so neither can identify them.
    """
    if item.credit is Credit.ANONYMOUS:
        return PublicAuthor(ANONYMOUS, None)
    url = profile_url(item.website, current_app.config["HANDLE_PROFILE_URL"])
    return PublicAuthor(credit_of(item, anonymise=False), url)
