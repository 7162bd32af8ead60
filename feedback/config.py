"""Settings: defaults, then instance/config.py, then the environment, then test overrides."""

import os
from pathlib import Path

from flask import Flask

from feedback import collection, quotas
from feedback.models import Credit

DEFAULTS: dict = {
    "CONFERENCE_NAME": "HIMSS Conference",
    "CONFERENCE_INTRO": (
        "The conference team asked how bloggers and readers could be more involved. "
        "Share your ideas here: leave a public comment if you don't mind others seeing "
        "it, or send a private note that only the site owner and the organisers will read."
    ),
    # (name, hashtag slug) or just a name; seeded into an empty database by
    # `flask db upgrade`, then managed with `flask topics`.
    "TOPICS": [
        ("Conference blog", "blog"),
        ("Sessions and speakers", "sessions"),
        ("Social media at the conference", "social"),
        ("Other", "other"),
    ],
    # The collection window (ISO 8601 dates, or times with a zone); None: no limit.
    "OPENS_AT": None,
    "CLOSES_AT": None,
    "AUTO_APPROVE_PUBLIC": False,
    "EMAIL_CHECK_DELIVERABILITY": False,
    "MIN_FILL_SECONDS": 2,
    "PER_PAGE": 20,
    # How often an open front page asks whether new ideas were published.
    "LIVE_POLL_SECONDS": 20,
    # Far above any real idea; bigger requests get a 413 before any parsing.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # A bare @handle links here; @user@host (fediverse) and @name.domain (Bluesky) link
    # to their own networks.
    "HANDLE_PROFILE_URL": "https://x.com/{handle}",
    "RATELIMIT_ENABLED": True,
    # Quotas on stored ideas, +1s and link mails per client address, counted in the database
    # so they hold across workers and hosts (feedback/quotas.py).
    "SUBMIT_RATE_LIMIT": "5 per minute; 50 per hour",
    "VOTE_RATE_LIMIT": "30 per minute; 300 per hour",
    # Posts of any kind (stored or not) per client address and worker, to shed load
    # (Flask-Limiter; shared through Redis when REDIS_URL is set).
    "ATTEMPT_RATE_LIMIT": "60 per minute",
    # An idea with more links than this waits in the queue, whatever else would publish it.
    "MAX_LINKS": 2,
    # Words or phrases that send an idea to the spam tab for review (owners add more).
    "SPAM_WORDS": [],
    # +1s one idea may get from one network address (an office or a conference Wi-Fi).
    "VOTES_PER_ADDRESS": 5,
    "TRUSTED_PROXIES": 0,
    "TRUST_APPROVED_AUTHORS": True,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_WINDOW_MINUTES": 15,
    "QUEUE_PER_PAGE": 50,
    "NOTIFY_NEW": False,
    # Authors may edit while pending, and this long after approval.
    "EDIT_WINDOW_MINUTES": 30,
    # Whether an author's edit of a published comment sends it back to the queue.
    "REAPPROVE_EDITS": False,
    "CONSENT_REQUEST_DAYS": 14,
    "RESEND_RATE_LIMIT": "3 per hour",
    # Per email too, so nobody can flood someone's mailbox from many networks.
    "RESEND_EMAIL_RATE_LIMIT": "3 per day",
    # The site's address as readers reach it, for links in emails (never taken from the
    # request's Host header, which a client can forge).
    "PUBLIC_URL": "http://127.0.0.1:5000",
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_FROM": "Conference Ideas <ideas@localhost>",
    "ORGANISER_EMAILS": [],
    # Ideas read from email (`flask mail import`, `fetch`): the topic they go to (a slug;
    # None: the last topic) and how they are credited (the sender chose nothing).
    "MAIL_TOPIC": None,
    "MAIL_CREDIT": "anonymous",
    # `flask mail fetch`: TLS from the first byte (port 993) unless MAIL_IMAP_TLS is off;
    # MAIL_IMAP_CA_FILE trusts a private certificate authority too.
    "MAIL_IMAP_HOST": None,
    "MAIL_IMAP_PORT": None,
    "MAIL_IMAP_USER": None,
    "MAIL_IMAP_PASSWORD": None,
    "MAIL_IMAP_FOLDER": "INBOX",
    "MAIL_IMAP_TLS": True,
    "MAIL_IMAP_CA_FILE": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
}


def load(app: Flask, test_config: dict | None) -> None:
    """Apply settings in their fixed order; the last one wins."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    _load_environment(app)
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("DATABASE_URL"):
        db_file = Path(app.instance_path) / "feedback.sqlite"
        app.config["DATABASE_URL"] = f"sqlite:///{db_file}"
    app.config["DATABASE_URL"] = normalise_database_url(app.config["DATABASE_URL"])
    if app.config.get("REDIS_URL") and not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]


_PLAIN_ENV = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_FROM",
    "MAIL_IMAP_HOST",
    "MAIL_IMAP_USER",
    "MAIL_IMAP_PASSWORD",
    "MAIL_IMAP_FOLDER",
    "MAIL_IMAP_CA_FILE",
)


def _load_environment(app: Flask) -> None:
    for name in _PLAIN_ENV:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    if os.environ.get("MAIL_PORT"):
        app.config["MAIL_PORT"] = int(os.environ["MAIL_PORT"])
    if os.environ.get("MAIL_USE_TLS"):
        app.config["MAIL_USE_TLS"] = os.environ["MAIL_USE_TLS"].strip().lower() in TRUE_WORDS
    if os.environ.get("MAIL_IMAP_PORT"):
        app.config["MAIL_IMAP_PORT"] = int(os.environ["MAIL_IMAP_PORT"])
    if os.environ.get("MAIL_IMAP_TLS"):
        app.config["MAIL_IMAP_TLS"] = os.environ["MAIL_IMAP_TLS"].strip().lower() in TRUE_WORDS
    if os.environ.get("ORGANISER_EMAILS"):
        app.config["ORGANISER_EMAILS"] = [
            e.strip() for e in os.environ["ORGANISER_EMAILS"].split(",") if e.strip()
        ]
    # FEEDBACK_AUTO_APPROVE_PUBLIC=true -> AUTO_APPROVE_PUBLIC = True (values parsed as JSON).
    app.config.from_prefixed_env("FEEDBACK")


TRUE_WORDS = ("1", "true", "yes", "on")


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, including Heroku-style ``postgres://``."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def check_production(app: Flask) -> None:
    """Refuse to start without a real secret key unless debugging or testing."""
    if app.debug or app.testing:
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = "dev"
        return
    key = app.config.get("SECRET_KEY")
    if not key or key == "dev":
        raise RuntimeError(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable or put "
            "SECRET_KEY = '...' in instance/config.py (`make run` creates one for you). "
            "Generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )


QUOTA_SETTINGS = (
    "SUBMIT_RATE_LIMIT",
    "VOTE_RATE_LIMIT",
    "RESEND_RATE_LIMIT",
    "RESEND_EMAIL_RATE_LIMIT",
)


def check_settings(app: Flask) -> None:
    """Refuse to start with a setting the app could not use, naming it (not a 500 later)."""
    config = app.config
    for name in QUOTA_SETTINGS:
        try:
            quotas.parse(str(config[name]))
        except ValueError as exc:
            raise RuntimeError(f"FEEDBACK_{name}: {exc}") from None
    links = config["MAX_LINKS"]
    if isinstance(links, bool) or not isinstance(links, int) or links < 0:
        raise RuntimeError(f"FEEDBACK_MAX_LINKS must be a whole number from 0 up, not {links!r}.")
    try:
        collection.window_of(config)
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None
    if config["MAIL_CREDIT"] not in {credit.value for credit in Credit}:
        choices = ", ".join(credit.value for credit in Credit)
        raise RuntimeError(
            f"FEEDBACK_MAIL_CREDIT must be one of {choices}, not {config['MAIL_CREDIT']!r}."
        )
    words = config["SPAM_WORDS"]
    if not isinstance(words, str | list | tuple) or not all(isinstance(w, str) for w in words):
        raise RuntimeError(
            "FEEDBACK_SPAM_WORDS must be a list of words or phrases, or one comma-separated "
            f"string, not {words!r}."
        )
