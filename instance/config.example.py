# Copy to instance/config.py (git ignores it) and adjust. Environment variables win over
# this file: SECRET_KEY, DATABASE_URL, REDIS_URL, and FEEDBACK_<NAME> for any setting below.
# `make run` creates instance/config.py with a fresh SECRET_KEY on first run.

SECRET_KEY = "replace with the output of: python -c 'import secrets; print(secrets.token_hex(32))'"

# Default: SQLite in instance/feedback.sqlite. Production: PostgreSQL.
# DATABASE_URL = "postgresql://user:password@127.0.0.1:5432/ideas"
# REDIS_URL = "redis://127.0.0.1:6379/0"   # shared rate-limit counters for several workers

CONFERENCE_NAME = "HIMSS Conference"
CONFERENCE_INTRO = (
    "The conference team asked how bloggers could be involved. Share your ideas here."
)
# (name, hashtag) pairs, created by `flask db upgrade` on an empty database.
TOPICS = [
    ("Conference blog", "blog"),
    ("Sessions and speakers", "sessions"),
    ("Social media at the conference", "social"),
    ("Other", "other"),
]

AUTO_APPROVE_PUBLIC = False  # True shows public comments without moderation
EMAIL_CHECK_DELIVERABILITY = False  # True asks DNS whether the email's domain takes mail
MIN_FILL_SECONDS = 2  # faster submissions are treated as bots
SUBMIT_RATE_LIMIT = "5 per minute; 50 per hour"  # per client address
RATELIMIT_ENABLED = True
TRUSTED_PROXIES = 0  # set to the number of proxies in front of the app (e.g. 1 behind nginx)
HANDLE_PROFILE_URL = "https://x.com/{handle}"  # where a bare @handle links

# Owners' side
TRUST_APPROVED_AUTHORS = True  # trusted emails' public comments skip the queue
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW_MINUTES = 15
NOTIFY_NEW = False  # True mails every owner about each new idea
# MAIL_SERVER = "smtp.example.org"
# MAIL_PORT = 587
# MAIL_USE_TLS = True
# MAIL_USERNAME = "ideas@example.org"
# MAIL_PASSWORD = "..."
MAIL_FROM = "Conference Ideas <ideas@example.org>"

# Digests
ORGANISER_EMAILS = []  # e.g. ["blog-team@conference.example.org"]
PUBLIC_URL = "https://ideas.example.org"  # links in emails
