"""The limit on attempts that sheds load: per worker, or shared through Redis when REDIS_URL
is set. Limits that protect data are quotas in the database (quotas.py)."""

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Storage and the on/off switch come from app config (RATELIMIT_STORAGE_URI, RATELIMIT_ENABLED).
limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    """Bind the limiter to the app; memory storage suits one process, Redis suits several."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
