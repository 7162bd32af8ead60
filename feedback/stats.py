"""Numbers for the owner's dashboard, and the bars of its ideas-per-day chart."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback.collection import Phase, Window, time_left
from feedback.db import day_start, utcnow
from feedback.models import Status, Submission, Topic, Visibility


@dataclass(frozen=True)
class Bar:
    """One day of the chart, with its geometry in the SVG's own units."""

    day: date
    count: int
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    bar_width: float
    peak: int
    total: int


def by_status_and_visibility(session: Session) -> dict[tuple[Status, Visibility], int]:
    """How many items there are of each status and visibility."""
    rows = session.execute(
        sa.select(Submission.status, Submission.visibility, sa.func.count()).group_by(
            Submission.status, Submission.visibility
        )
    ).all()
    counts = {(s, v): 0 for s in Status for v in Visibility}
    counts.update({(Status(s), Visibility(v)): n for s, v, n in rows})
    return counts


def by_topic(session: Session) -> list[tuple[Topic, int]]:
    """Every topic with how many items it holds, in the configured order."""
    counts = (
        sa.select(Submission.topic_id, sa.func.count().label("n"))
        .group_by(Submission.topic_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(Topic, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.topic_id == Topic.id)
        .order_by(Topic.position, Topic.id)
    ).all()
    return [(topic, n) for topic, n in rows]


def per_day(session: Session, days: int = 30) -> dict[date, int]:
    """Ideas received on each of the last ``days`` days (UTC), including today."""
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    day = sa.func.date(Submission.created_at)
    rows = session.execute(
        sa.select(day, sa.func.count())
        .where(Submission.created_at >= day_start(first))
        .group_by(day)
    ).all()
    counts = {first + timedelta(days=n): 0 for n in range(days)}
    for value, n in rows:
        key = value if isinstance(value, date) else date.fromisoformat(value)
        if key in counts:
            counts[key] = n
    return counts


def chart(counts: dict[date, int], width: int = 600, height: int = 120) -> Chart:
    """Lay out a bar per day; the tallest bar fills the height."""
    peak = max(counts.values(), default=0)
    slot = width / max(len(counts), 1)
    bars = []
    for n, (day, count) in enumerate(sorted(counts.items())):
        bar_height = (count / peak) * (height - 4) if peak else 0
        bars.append(
            Bar(
                day,
                count,
                round(n * slot + 1, 2),
                round(height - bar_height, 2),
                round(bar_height, 2),
            )
        )
    return Chart(bars, width, height, round(slot - 2, 2), peak, sum(counts.values()))


def ago(then: datetime, now: datetime | None = None) -> str:
    """How long ago, in the largest whole unit: "just now", "5 minutes", "3 days"."""
    seconds = ((now or utcnow()) - then).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


@dataclass(frozen=True)
class WindowChart:
    """The collection window as the dashboard shows it: its phase, what to say of it, and
    how much of it has gone (0 to 1; None unless it both opens and closes)."""

    window: Window
    phase: Phase
    left: str | None
    elapsed: float | None
    width: int = 600


def window_chart(window: Window, now: datetime) -> WindowChart:
    phase = window.phase(now)
    left = None
    if phase is Phase.BEFORE:
        left = time_left(now, window.opens_at)
    elif phase is Phase.OPEN and window.closes_at is not None:
        left = time_left(now, window.closes_at)
    elapsed = None
    if window.opens_at is not None and window.closes_at is not None:
        span = (window.closes_at - window.opens_at).total_seconds()
        elapsed = min(max((now - window.opens_at).total_seconds() / span, 0.0), 1.0)
    return WindowChart(window, phase, left, elapsed)
