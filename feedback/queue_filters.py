"""The owner's moderation queue: filters, counts per status, and one page of items."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback import text_search
from feedback.db import DateRangeError, Page, check_date_range, day_start, paginate
from feedback.models import Status, Submission, Visibility


@dataclass(frozen=True)
class Filters:
    """What the owner asked to see; None means any."""

    status: Status | None = Status.PENDING
    visibility: Visibility | None = None
    topic_id: int | None = None
    text: str | None = None
    since: date | None = None
    until: date | None = None
    starred: bool = False
    oldest_first: bool = True

    def narrowed(self) -> bool:
        """Whether anything beyond the status tab and the order is filtered."""
        return bool(
            self.visibility
            or self.topic_id
            or self.text
            or self.since
            or self.until
            or self.starred
        )


class FilterError(ValueError):
    """A query argument of the queue that makes no sense; the message says which and why."""


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Read the queue's query arguments.

    :raise FilterError: for a value that is not one of the allowed ones.
    """
    status_arg = args.get("status", "pending")
    if status_arg == "all":
        status = None
    elif status_arg in Status.__members__.values():
        status = Status(status_arg)
    else:
        raise FilterError(
            "status must be one of pending, approved, rejected, spam, withdrawn, all."
        )
    visibility_arg = args.get("visibility", "")
    if visibility_arg and visibility_arg not in Visibility.__members__.values():
        raise FilterError("visibility must be public or private.")
    topic_arg = args.get("topic", "")
    if topic_arg and not (topic_arg.isascii() and topic_arg.isdecimal() and len(topic_arg) < 10):
        raise FilterError("topic must be a topic's number.")
    text = args.get("q", "").strip()
    if len(text) > 200 or "\x00" in text:
        raise FilterError("The search text must be at most 200 characters, without NUL bytes.")
    dates = {}
    for name in ("since", "until"):
        value = args.get(name, "")
        try:
            dates[name] = date.fromisoformat(value) if value else None
        except ValueError:
            raise FilterError(f"{name} must be a date like 2026-03-31.") from None
    try:
        check_date_range(dates["since"], dates["until"])
    except DateRangeError as exc:
        raise FilterError(f"{exc.which}: {exc}") from None
    order = args.get("order", "")
    if order not in ("", "oldest", "newest"):
        raise FilterError("order must be oldest or newest.")
    return Filters(
        status=status,
        visibility=Visibility(visibility_arg) if visibility_arg else None,
        topic_id=int(topic_arg) if topic_arg else None,
        text=text or None,
        since=dates["since"],
        until=dates["until"],
        starred=args.get("starred") == "1",
        # Pending work is done oldest first; everything else reads newest first.
        oldest_first=order == "oldest" or (order == "" and status is Status.PENDING),
    )


def to_args(filters: Filters) -> dict[str, str]:
    """The query arguments that ask for these filters again (for tabs and page links)."""
    args = {"status": filters.status.value if filters.status else "all"}
    if filters.visibility is not None:
        args["visibility"] = filters.visibility.value
    if filters.topic_id is not None:
        args["topic"] = str(filters.topic_id)
    if filters.text:
        args["q"] = filters.text
    if filters.since is not None:
        args["since"] = filters.since.isoformat()
    if filters.until is not None:
        args["until"] = filters.until.isoformat()
    if filters.starred:
        args["starred"] = "1"
    args["order"] = "oldest" if filters.oldest_first else "newest"
    return args


def _filtered(filters: Filters) -> sa.Select:
    query = sa.select(Submission)
    if filters.status is not None:
        query = query.where(Submission.status == filters.status)
    if filters.visibility is not None:
        query = query.where(Submission.visibility == filters.visibility)
    if filters.topic_id is not None:
        query = query.where(Submission.topic_id == filters.topic_id)
    if filters.starred:
        query = query.where(Submission.starred)
    if filters.since is not None:
        query = query.where(Submission.created_at >= day_start(filters.since))
    if filters.until is not None:
        query = query.where(Submission.created_at < day_start(filters.until + timedelta(days=1)))
    if filters.text:
        query = query.where(text_search.matches(filters.text))
    return query


def page(session: Session, filters: Filters, number: int, per_page: int) -> Page[Submission]:
    """One page of the queue, oldest or newest first."""
    order = (
        (Submission.created_at, Submission.id)
        if filters.oldest_first
        else (Submission.created_at.desc(), Submission.id.desc())
    )
    return paginate(session, _filtered(filters).order_by(*order), number, per_page)


def status_counts(session: Session, filters: Filters) -> dict[Status, int]:
    """How many items each status tab holds under the other filters."""
    inner = _filtered(replace(filters, status=None)).subquery()
    rows = session.execute(
        sa.select(inner.c.status, sa.func.count()).group_by(inner.c.status)
    ).all()
    counts = dict.fromkeys(Status, 0)
    counts.update({Status(status): count for status, count in rows})
    return counts


def get_many(session: Session, ids: list[int]) -> list[Submission]:
    """The submissions with these ids, in id order (missing ids are skipped)."""
    if not ids:
        return []
    return list(
        session.scalars(
            sa.select(Submission).where(Submission.id.in_(ids)).order_by(Submission.id)
        )
    )
