"""Cheap bot traps on the public form: a honeypot field and a minimum time to fill it in."""

import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

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
