"""The collection window: when readers may send ideas (FEEDBACK_OPENS_AT, FEEDBACK_CLOSES_AT).

Each setting is an ISO 8601 time with a zone (``2027-03-01T09:00+01:00``, ``...Z``) or a
date (``2027-03-15``): a date opens at the start of that day and closes at its end, in UTC.
Either may be unset. Outside the window the form is replaced by a notice and a late post is
refused with the reader's text kept; reading, +1s, the authors' links and moderation go on.
"""

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


class Phase(enum.StrEnum):
    BEFORE = "before"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Window:
    opens_at: datetime | None = None
    closes_at: datetime | None = None

    def phase(self, now: datetime) -> Phase:
        if self.opens_at is not None and now < self.opens_at:
            return Phase.BEFORE
        if self.closes_at is not None and now >= self.closes_at:
            return Phase.CLOSED
        return Phase.OPEN

    @property
    def limited(self) -> bool:
        return self.opens_at is not None or self.closes_at is not None


def _moment(value, name: str, closes: bool) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
        return moment + timedelta(days=1) if closes else moment
    elif isinstance(value, str):
        text = value.strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            day = None
        if day is not None and len(text) <= 10:
            return _moment(day, name, closes)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"FEEDBACK_{name} must be an ISO 8601 date or time with a zone, such as "
                f"2027-03-15 or 2027-03-15T18:00+01:00, not {value!r}."
            ) from None
    else:
        raise ValueError(f"FEEDBACK_{name} must be a date or a time, not {value!r}.")
    if moment.tzinfo is None:
        raise ValueError(
            f"FEEDBACK_{name} needs a zone, such as {moment.isoformat()}Z or "
            f"{moment.isoformat()}+01:00: without one, nobody knows when it is."
        )
    return moment.astimezone(UTC)


def window_of(config) -> Window:
    """The window the settings describe.

    :raise ValueError: for a value that is not a date or a time with a zone, or a window
        that closes before it opens; the message names the setting.
    """
    window = Window(
        _moment(config.get("OPENS_AT"), "OPENS_AT", closes=False),
        _moment(config.get("CLOSES_AT"), "CLOSES_AT", closes=True),
    )
    if window.opens_at and window.closes_at and window.closes_at <= window.opens_at:
        raise ValueError("FEEDBACK_CLOSES_AT must come after FEEDBACK_OPENS_AT.")
    return window


def time_left(now: datetime, until: datetime) -> str:
    """How long until ``until``, in the largest unit that reads well: "3 days", "5 hours"."""
    seconds = (until - now).total_seconds()
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        count = int(seconds // size)
        if count >= (2 if unit != "minute" else 1):
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def when(moment: datetime) -> str:
    """A moment as readers read it: "15 March 2027, 18:00 UTC"."""
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def closing(moment: datetime, on: bool = True) -> str:
    """When collection closes, as readers read it, with its preposition ("on 15 March 2027,
    18:00 UTC") or, with ``on`` false, after "until". A close at midnight UTC, as a date in
    the setting gives, is "the end of 15 March 2027 (UTC)", not the next day at 00:00."""
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        day = moment - timedelta(days=1)
        return f"{'at ' if on else ''}the end of {day.day} {day:%B %Y} (UTC)"
    return f"{'on ' if on else ''}{when(moment)}"
