"""Spam traps: a honeypot field and a minimum time to fill in the form, then content rules
(spam phrases, too many links) that send an idea to review rather than drop it."""

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from feedback import markup

_SALT = "feedback.form-started"


# A form left open longer than this asks to be sent again (the text is kept).
MAX_FORM_AGE = 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def started_token(backdate: float = 0) -> str:
    """A signed note of when the form was shown (optionally as if shown earlier)."""
    return _serializer().dumps({"t": round(time.time() - backdate, 3)})


def seconds_since_start(token: str | None) -> float | None:
    """Seconds since the form was shown, or None when the note is missing, forged or old."""
    if not token:
        return None
    try:
        started = _serializer().loads(token, max_age=MAX_FORM_AGE)["t"]
    except (BadSignature, KeyError, TypeError):
        return None
    if not isinstance(started, int | float):
        return None
    return time.time() - started


def too_fast(elapsed: float) -> bool:
    """True when the form came back faster than a person reads and types."""
    return elapsed < current_app.config["MIN_FILL_SECONDS"]


# Held ideas and ideas marked spam carry this reason's author in the trail.
SCREEN_ACTOR = "anti-spam rules"


def normalise_phrase(text: str) -> str:
    """A phrase as it is matched: case folded, runs of whitespace as one space."""
    return " ".join(text.casefold().split())


def phrases_from_setting(value: object) -> list[str]:
    """FEEDBACK_SPAM_WORDS as a list: a JSON list, or one string of comma-separated phrases."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [p for p in (normalise_phrase(str(item)) for item in items) if p]


@dataclass(frozen=True)
class Verdict:
    """What the content rules make of a new idea: spam, held for review, or neither."""

    spam: bool = False
    held: bool = False
    reason: str | None = None


def screen(
    texts: Iterable[str | None], linked: Iterable[str | None], max_links: int, phrases: list[str]
) -> Verdict:
    """Judge an idea by its words (any of ``texts``) and the links in ``linked``."""
    folded = normalise_phrase(" ".join(t for t in texts if t))
    for phrase in phrases:
        # Whole words only: "cialis" is not in "specialist".
        if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", folded):
            return Verdict(spam=True, reason=f"Contains “{phrase}”, which is on the spam list")
    links = sum(markup.count_links(t) for t in linked if t)
    if links > max_links:
        return Verdict(
            held=True,
            reason=f"{links} link{'s' if links != 1 else ''} (more than {max_links}): "
            "held for review",
        )
    return Verdict()
