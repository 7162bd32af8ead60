"""Quotas on what protects data (ideas stored, link mails, +1s), counted in the database.

The database is shared by every worker process and host, so a quota holds exactly with or
without Redis: each counted action is a row, and actions on the same keys are serialised
(PostgreSQL advisory locks; SQLite's single write lock). Limits on mere attempts, which only
shed load, live in ratelimit.py and may be per process.
"""

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback.db import utcnow
from feedback.models import QuotaHit

# Hits older than this are forgotten; no rule may look further back.
KEEP = timedelta(days=1)
# Forgotten per counted action: more than are counted, so the table never grows.
PRUNE_ROWS = 100
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RULE = re.compile(r"(\d+)\s*(?:per|/)\s*(\d+\s*)?(second|minute|hour|day)s?", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """At most ``count`` actions in any ``per``."""

    count: int
    per: timedelta


def parse(text: str) -> tuple[Rule, ...]:
    """Rules from a setting such as "5 per minute; 50 per hour".

    :raise ValueError: for text that is not such a list, or a window longer than a day.
    """
    rules = []
    for part in re.split(r"[;,]", text):
        if not part.strip():
            continue
        match = _RULE.fullmatch(part.strip())
        if match is None:
            raise ValueError(f"Cannot read the limit {part.strip()!r}: write '5 per minute'.")
        count, multiple, unit = match.groups()
        per = timedelta(seconds=int(multiple or 1) * _UNITS[unit.lower()])
        if per > KEEP:
            raise ValueError(f"The limit {part.strip()!r} looks back further than a day.")
        rules.append(Rule(int(count), per))
    return tuple(rules)


@dataclass(frozen=True)
class Claim:
    """One action to count: in which bucket, for whom (a keyed hash), under which rules."""

    bucket: str
    key: str
    rules: tuple[Rule, ...]


class QuotaExceeded(Exception):
    """One more action would break a rule; ``retry_after`` says in how many seconds it may."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Quota reached; try again in {retry_after} s.")
        self.retry_after = retry_after

    @property
    def wait_words(self) -> str:
        """The wait in whole minutes, at least one, for messages to people."""
        minutes = max(1, math.ceil(self.retry_after / 60))
        return f"{minutes} minute{'s' if minutes > 1 else ''}"


def _lock_id(name: str) -> int:
    # A signed 64-bit number, as pg_advisory_xact_lock takes.
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def serialise(session: Session, names: Iterable[str]) -> None:
    """Let this transaction alone act on these names until it ends, in every worker.

    On PostgreSQL each name takes an advisory lock, in a fixed order so that two requests
    never deadlock. On SQLite the first write of a transaction takes the database's one write
    lock: the forgetting of old hits below is that write, so this must come before any other
    write of the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        for lock in sorted({_lock_id(name) for name in names}):
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(lock)))
    # Rows another transaction is forgetting right now are skipped (PostgreSQL), so requests
    # for other names never wait on each other here.
    expired = (
        sa.select(QuotaHit.id)
        .where(QuotaHit.created_at < utcnow() - KEEP)
        .limit(PRUNE_ROWS)
        .with_for_update(skip_locked=True)
    )
    session.execute(sa.delete(QuotaHit).where(QuotaHit.id.in_(expired)))


def _wait(session: Session, claim: Claim, now: datetime) -> float:
    waits = [0.0]
    for rule in claim.rules:
        times = session.scalars(
            sa.select(QuotaHit.created_at)
            .where(
                QuotaHit.bucket == claim.bucket,
                QuotaHit.key == claim.key,
                QuotaHit.created_at > now - rule.per,
            )
            .order_by(QuotaHit.created_at.desc())
            .limit(rule.count)
        ).all()
        if len(times) >= rule.count:
            # Refused until the oldest of those hits leaves the window.
            waits.append((times[-1] + rule.per - now).total_seconds())
    return max(waits)


def take(session: Session, claims: Iterable[Claim], now: datetime | None = None) -> None:
    """Count one action against every claim, or none of them (the caller commits).

    :raise QuotaExceeded: when one more would break any claim's rules.
    """
    claims = list(claims)
    serialise(session, [f"{c.bucket}:{c.key}" for c in claims])
    # Read the clock once the lock is held: a request that waited counts from when it got in.
    now = now or utcnow()
    wait = max((_wait(session, claim, now) for claim in claims), default=0.0)
    if wait > 0:
        raise QuotaExceeded(math.ceil(wait))
    session.add_all(QuotaHit(bucket=c.bucket, key=c.key, created_at=now) for c in claims)
    session.flush()
