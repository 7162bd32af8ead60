"""Readers' +1s: one per browser, a few per network address, counted exactly."""

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback import quotas
from feedback.models import Submission, Vote


class VoteRefused(ValueError):
    """A +1 that does not count; the message says why."""


def cast(
    session: Session,
    item: Submission,
    voter_hash: str,
    address_hash: str,
    per_address: int,
    quota: tuple[quotas.Rule, ...] | None = None,
) -> int:
    """Record a +1 and return the new count (the caller commits, or rolls back on refusal).

    ``quota`` limits the +1s one address gives to all ideas together (None: no limit).

    :raise VoteRefused: for a second +1 from the same browser, too many from one address on
        this idea, or too many from one address in a short time.
    """
    if quota:
        try:
            quotas.take(session, [quotas.Claim("vote", address_hash, quota)])
        except quotas.QuotaExceeded as exc:
            raise VoteRefused(
                f"You have given many +1s in a short time; please wait {exc.wait_words}."
            ) from None
    # The increment comes first (after the quota's own lock): it locks the idea's row
    # (PostgreSQL) or the database (SQLite) until commit, so concurrent +1s are counted and
    # checked one at a time.
    session.execute(
        sa.update(Submission)
        .where(Submission.id == item.id)
        .values(vote_count=Submission.vote_count + 1)
    )
    from_address = session.scalar(
        sa.select(sa.func.count())
        .select_from(Vote)
        .where(Vote.submission_id == item.id, Vote.address_hash == address_hash)
    )
    if from_address >= per_address:
        raise VoteRefused("This idea already has several +1s from your network.")
    session.add(Vote(submission_id=item.id, voter_hash=voter_hash, address_hash=address_hash))
    try:
        # The unique (idea, voter) constraint decides, even for two +1s at the same moment.
        session.flush()
    except IntegrityError:
        raise VoteRefused("You have already given this idea a +1.") from None
    return session.scalar(sa.select(Submission.vote_count).where(Submission.id == item.id))


def has_voted(session: Session, item_ids: list[int], voter_hash: str | None) -> set[int]:
    """Which of these ideas this browser already gave a +1."""
    if not voter_hash or not item_ids:
        return set()
    return set(
        session.scalars(
            sa.select(Vote.submission_id).where(
                Vote.submission_id.in_(item_ids), Vote.voter_hash == voter_hash
            )
        )
    )
