"""Owner accounts and their logins: passwords, sessions, and refusing brute force."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from feedback import quotas
from feedback.db import utcnow
from feedback.models import LoginAttempt, Owner

MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase, short enough that hashing it is no denial of service.
MAX_PASSWORD_LENGTH = 1024
# Verified when the email matches no owner, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password-but-as-slow-to-check")


class OwnerError(ValueError):
    """An owner account operation that cannot be done as asked."""


def normalise_email(email: str) -> str:
    """The form an owner's email is stored and looked up in.

    :raise OwnerError: when it is not a valid address.
    """
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise OwnerError(f"That email address is not valid: {exc}") from exc


def check_password_strength(password: str) -> None:
    """:raise OwnerError: for a password too short (or absurdly long) to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OwnerError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise OwnerError(f"The password may have at most {MAX_PASSWORD_LENGTH} characters.")


def find(session: Session, email: str) -> Owner | None:
    """The owner with that email, or None."""
    try:
        key = normalise_email(email)
    except OwnerError:
        return None
    return session.scalar(sa.select(Owner).where(Owner.email == key))


def list_owners(session: Session) -> list[Owner]:
    """Every owner, oldest account first."""
    return list(session.scalars(sa.select(Owner).order_by(Owner.id)))


def create(session: Session, email: str, password: str) -> Owner:
    """Add an owner with a hashed password (scrypt)."""
    key = normalise_email(email)
    check_password_strength(password)
    if session.scalar(sa.select(Owner.id).where(Owner.email == key)) is not None:
        raise OwnerError(f"An owner with the email {key} already exists.")
    owner = Owner(email=key, password_hash=generate_password_hash(password))
    session.add(owner)
    session.flush()
    return owner


def set_password(session: Session, owner: Owner, password: str) -> None:
    """Change the password and log out every session of that owner."""
    check_password_strength(password)
    owner.password_hash = generate_password_hash(password)
    owner.session_version += 1


def delete(session: Session, owner: Owner) -> None:
    """Remove an owner; the audit trail keeps their email as text."""
    session.delete(owner)
    session.flush()


def authenticate(session: Session, email: str, password: str) -> Owner | None:
    """The owner if the email and password match, else None, in about the same time."""
    owner = find(session, email) if len(password) <= MAX_PASSWORD_LENGTH else None
    if owner is None:
        check_password_hash(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
        return None
    return owner if check_password_hash(owner.password_hash, password) else None


@dataclass(frozen=True)
class Throttle:
    """How many failed logins, within which window, refuse further tries."""

    max_failures: int
    window: timedelta


def attempt_key(email: str) -> str:
    """The email a login try counts against, normalised as owners' emails are.

    So no other spelling of the same address (case, full-width letters) escapes the count.
    """
    try:
        return normalise_email(email)
    except OwnerError:
        return email.strip().lower()[:254]


def record_attempt(session: Session, email: str, address_hash: str) -> LoginAttempt:
    """Note a login try as failed (the caller marks it succeeded); forget old tries."""
    now = utcnow()
    session.execute(
        sa.delete(LoginAttempt).where(LoginAttempt.created_at < now - timedelta(days=1))
    )
    attempt = LoginAttempt(
        email=attempt_key(email), address_hash=address_hash, succeeded=False, created_at=now
    )
    session.add(attempt)
    return attempt


def seconds_refused(session: Session, email: str, address_hash: str, throttle: Throttle) -> int:
    """Seconds until a login for this email from this address may be tried again; 0 if now."""
    now = utcnow()
    key = attempt_key(email)
    waits = []
    for column, value in ((LoginAttempt.email, key), (LoginAttempt.address_hash, address_hash)):
        since = now - throttle.window
        # A successful login wipes the slate for its email and address.
        last_success = session.scalar(
            sa.select(sa.func.max(LoginAttempt.created_at)).where(
                column == value, LoginAttempt.succeeded
            )
        )
        if last_success is not None:
            since = max(since, last_success)
        failures = session.scalars(
            sa.select(LoginAttempt.created_at)
            .where(column == value, LoginAttempt.created_at >= since, ~LoginAttempt.succeeded)
            .order_by(LoginAttempt.created_at.desc())
            .limit(throttle.max_failures)
        ).all()
        if len(failures) >= throttle.max_failures:
            # Refused until the oldest of those failures leaves the window.
            waits.append((failures[-1] + throttle.window - now).total_seconds())
    return max(0, int(max(waits, default=0)) + 1) if waits else 0


class LoginRefused(Exception):
    """Too many failed logins; ``wait`` says in how many seconds the next try is allowed."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"Login refused for {wait} s.")
        self.wait = wait


def begin_attempt(
    session: Session, email: str, address_hash: str, throttle: Throttle | None
) -> LoginAttempt:
    """Check the throttle and note this try as failed (the caller commits at once).

    Tries for the same email or address are checked one at a time in every worker, so the
    limit holds exactly however many arrive together. ``throttle`` None: no limit.

    :raise LoginRefused: when too many tries failed a short while ago.
    """
    quotas.serialise(session, [f"login:{attempt_key(email)}", f"login:{address_hash}"])
    if throttle is not None:
        wait = seconds_refused(session, email, address_hash, throttle)
        if wait:
            raise LoginRefused(wait)
    return record_attempt(session, email, address_hash)
