"""What owners do to submissions. Every change writes a ModerationEvent; callers commit."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback import antispam
from feedback.db import utcnow
from feedback.models import (
    Block,
    BlockKind,
    ModerationEvent,
    Owner,
    SpamPhrase,
    Status,
    Submission,
    ThemeMember,
    Topic,
    TrustedAuthor,
    Visibility,
)

# The actor of changes made on the server's command line rather than by a logged-in owner.
COMMAND_LINE = "command line"
ERASED = "(erased with the idea)"


class ModerationError(ValueError):
    """A change the rules forbid; ``status`` is the HTTP status that says so (409: conflict)."""

    status = 409


class ConsentRequired(ModerationError):
    """Publishing a private note whose author did not consent."""

    def __init__(self) -> None:
        super().__init__(
            "The author did not allow this private note to be published, so it stays private."
        )


class Withdrawn(ModerationError):
    """Changing an idea its author withdrew."""

    def __init__(self) -> None:
        super().__init__("The author withdrew this idea; it cannot be changed any more.")


def record(
    session: Session,
    item: Submission | None,
    by: Owner | None,
    action: str,
    from_value: object = None,
    to_value: object = None,
    *,
    actor: str | None = None,
) -> ModerationEvent:
    """Write one audit event.

    ``by`` is the owner acting; without one, ``actor`` names who did (the author), and
    neither means the server's command line.
    """
    event = ModerationEvent(
        submission_id=item.id if item is not None else None,
        owner_id=by.id if by is not None else None,
        actor=by.email if by is not None else actor or COMMAND_LINE,
        action=action,
        from_value=None if from_value is None else str(from_value),
        to_value=None if to_value is None else str(to_value),
    )
    session.add(event)
    return event


def history(session: Session, item: Submission) -> list[ModerationEvent]:
    """An item's audit trail, oldest first."""
    return list(
        session.scalars(
            sa.select(ModerationEvent)
            .where(ModerationEvent.submission_id == item.id)
            .order_by(ModerationEvent.id)
        )
    )


def recent_events(session: Session, limit: int = 50) -> list[ModerationEvent]:
    """The newest audit events across all items, newest first."""
    return list(
        session.scalars(
            sa.select(ModerationEvent).order_by(ModerationEvent.id.desc()).limit(limit)
        )
    )


def _changeable(item: Submission) -> None:
    if item.status is Status.WITHDRAWN:
        raise Withdrawn()


def set_status(
    session: Session,
    item: Submission,
    status: Status,
    by: Owner | None,
    *,
    actor: str | None = None,
) -> None:
    """Approve, reject, mark spam, or put back to pending (``actor`` as in ``record``)."""
    _changeable(item)
    if item.status is status:
        return
    record(session, item, by, "status", item.status, status, actor=actor)
    item.status = status
    if status is Status.APPROVED and item.approved_at is None:
        item.approved_at = utcnow()


def can_publish(item: Submission) -> bool:
    """Whether the author allowed the item to be public: they sent it so, or consented."""
    return item.consent_to_publish


def set_visibility(
    session: Session,
    item: Submission,
    visibility: Visibility,
    by: Owner | None,
    *,
    actor: str | None = None,
) -> None:
    """Hide a public item, or publish a private one its author consented to publish.

    :raise ConsentRequired: when publishing without the author's consent.
    """
    _changeable(item)
    if item.visibility is visibility:
        return
    if visibility is Visibility.PUBLIC and not can_publish(item):
        raise ConsentRequired()
    record(session, item, by, "visibility", item.visibility, visibility, actor=actor)
    item.visibility = visibility


def set_starred(session: Session, item: Submission, starred: bool, by: Owner) -> None:
    """Star an item for the digest, or take the star away."""
    _changeable(item)
    if item.starred is starred:
        return
    record(session, item, by, "star", item.starred, starred)
    item.starred = starred


def set_topic(session: Session, item: Submission, topic: Topic, by: Owner) -> None:
    """Move an item to another topic."""
    _changeable(item)
    if item.topic_id == topic.id:
        return
    record(session, item, by, "topic", item.topic.slug, topic.slug)
    item.topic = topic
    item.topic_id = topic.id
    leave_theme(session, item)


def leave_theme(session: Session, item: Submission) -> None:
    """An idea that changed topic leaves its theme (themes never span topics), the owner's
    pin included; it is placed again among its new topic's themes."""
    session.execute(sa.delete(ThemeMember).where(ThemeMember.submission_id == item.id))


def set_note(session: Session, item: Submission, note: str | None, by: Owner) -> None:
    """Set the owner's internal note (never shown publicly); empty removes it."""
    note = (note or "").strip() or None
    if item.owner_note == note:
        return
    record(session, item, by, "note", item.owner_note, note)
    item.owner_note = note


def add_note(session: Session, item: Submission, text: str, by: Owner) -> None:
    """Add a line to the internal note, keeping what is there."""
    text = text.strip()
    if text:
        set_note(session, item, f"{item.owner_note}\n{text}" if item.owner_note else text, by)


def edit_text(
    session: Session,
    item: Submission,
    title: str | None,
    body: str,
    by: Owner | None,
    *,
    actor: str | None = None,
) -> None:
    """Fix the title or body; the original text stays in the audit trail."""
    _changeable(item)
    title = title or None
    if item.title != title:
        record(session, item, by, "edit_title", item.title, title, actor=actor)
        item.title = title
    if item.body != body:
        record(session, item, by, "edit_body", item.body, body, actor=actor)
        item.body = body


def delete(session: Session, item: Submission, by: Owner) -> None:
    """Delete an item for good (for people who ask to be forgotten).

    The trail keeps that each change happened, but nothing the author wrote: texts and
    addresses in the item's earlier events are erased too.
    """
    session.execute(
        sa.update(ModerationEvent)
        .where(ModerationEvent.submission_id == item.id)
        .values(
            from_value=sa.case((ModerationEvent.from_value.is_(None), None), else_=ERASED),
            to_value=sa.case((ModerationEvent.to_value.is_(None), None), else_=ERASED),
        )
    )
    record(session, item, by, "delete", f"{item.visibility}, {item.status}")
    session.delete(item)


def is_trusted(session: Session, email: str, author_name: str) -> bool:
    """Whether an owner trusted this author: the same email and the same name."""
    trusted = session.scalar(sa.select(TrustedAuthor).where(TrustedAuthor.email == email.lower()))
    return trusted is not None and trusted.author_name.casefold() == author_name.casefold()


def trust_author(session: Session, item: Submission, by: Owner) -> None:
    """Approve the item and let its author's later public comments skip the queue."""
    set_status(session, item, Status.APPROVED, by)
    email = item.email.lower()
    trusted = session.scalar(sa.select(TrustedAuthor).where(TrustedAuthor.email == email))
    if trusted is None:
        session.add(TrustedAuthor(email=email, author_name=item.author_name, created_by=by.email))
        record(session, item, by, "trust", None, f"{item.author_name} <{email}>")


def block_author(session: Session, item: Submission, kind: BlockKind, by: Owner) -> None:
    """Reject the item and refuse later submissions from its email or its client address."""
    if kind is BlockKind.EMAIL:
        value, label = item.email.lower(), item.email.lower()
    else:
        if item.client_hash is None:
            raise ModerationError("This idea has no recorded address to block.")
        value, label = item.client_hash, f"the network address idea #{item.id} came from"
    set_status(session, item, Status.REJECTED, by)
    exists = sa.select(Block.id).where(Block.kind == kind, Block.value == value)
    if session.scalar(exists) is None:
        session.add(Block(kind=kind, value=value, label=label, created_by=by.email))
        record(session, item, by, f"block_{kind}", None, label)


def unblock(session: Session, block: Block, by: Owner) -> None:
    """Accept submissions from a blocked email or address again."""
    record(session, None, by, f"unblock_{block.kind}", block.label, None)
    session.delete(block)


def untrust(session: Session, trusted: TrustedAuthor, by: Owner) -> None:
    """Send this author's public comments through the queue again."""
    record(session, None, by, "untrust", f"{trusted.author_name} <{trusted.email}>", None)
    session.delete(trusted)


def add_spam_phrase(session: Session, phrase: str, by: Owner) -> SpamPhrase:
    """Send new ideas with this word or phrase to the spam tab for review.

    :raise ModerationError: when it has no letters or digits, or is on the list already.
    """
    folded = antispam.normalise_phrase(phrase)
    if not any(char.isalnum() for char in folded):
        raise ModerationError("A spam phrase needs at least one letter or digit.")
    if session.scalar(sa.select(SpamPhrase.id).where(SpamPhrase.phrase == folded)):
        raise ModerationError(f"“{folded}” is on the spam list already.")
    record(session, None, by, "spam_phrase_add", None, folded)
    added = SpamPhrase(phrase=folded, created_by=by.email)
    session.add(added)
    return added


def remove_spam_phrase(session: Session, phrase: SpamPhrase, by: Owner) -> None:
    """Take a word or phrase off the spam list."""
    record(session, None, by, "spam_phrase_remove", phrase.phrase, None)
    session.delete(phrase)


def _status(status: Status) -> Callable[[Session, Submission, Owner], None]:
    return lambda session, item, by: set_status(session, item, status, by)


# The queue's buttons, one place for single items and bulk alike: key -> (label, action).
ACTIONS: dict[str, tuple[str, Callable[[Session, Submission, Owner], None]]] = {
    "approve": ("Approve", _status(Status.APPROVED)),
    "reject": ("Reject", _status(Status.REJECTED)),
    "spam": ("Mark spam", _status(Status.SPAM)),
    "restore": ("Back to pending", _status(Status.PENDING)),
    "star": ("Star", lambda s, i, by: set_starred(s, i, True, by)),
    "unstar": ("Unstar", lambda s, i, by: set_starred(s, i, False, by)),
    "hide": ("Make private", lambda s, i, by: set_visibility(s, i, Visibility.PRIVATE, by)),
    "publish": ("Make public", lambda s, i, by: set_visibility(s, i, Visibility.PUBLIC, by)),
    "trust": ("Approve and trust this author", trust_author),
    "block_email": (
        "Reject and block this email",
        lambda s, i, by: block_author(s, i, BlockKind.EMAIL, by),
    ),
    "block_address": (
        "Reject and block this network address (everyone who shares it)",
        lambda s, i, by: block_author(s, i, BlockKind.ADDRESS, by),
    ),
}


@dataclass(frozen=True)
class Button:
    """One action as the owner's pages offer it for one item."""

    key: str
    label: str
    enabled: bool = True
    reason: str | None = None


def buttons(item: Submission) -> list[Button]:
    """The actions that make sense for an item now; disabled ones say why."""
    if item.status is Status.WITHDRAWN:
        return []
    moves = {
        Status.APPROVED: "approve",
        Status.REJECTED: "reject",
        Status.SPAM: "spam",
        Status.PENDING: "restore",
    }
    shown = [key for status, key in moves.items() if item.status is not status]
    shown.append("unstar" if item.starred else "star")
    result = [Button(key, ACTIONS[key][0]) for key in shown]
    if item.visibility is Visibility.PUBLIC:
        result.append(Button("hide", ACTIONS["hide"][0]))
    elif can_publish(item):
        result.append(Button("publish", ACTIONS["publish"][0]))
    else:
        reason = "The author did not consent to publishing."
        result.append(Button("publish", ACTIONS["publish"][0], enabled=False, reason=reason))
    return result


_EVENT_WORDS = {
    "status": "Status",
    "visibility": "Visibility",
    "topic": "Topic",
    "note": "Internal note",
    "edit_title": "Title edited",
    "edit_body": "Text edited",
    "trust": "Author trusted",
    "block_email": "Email blocked",
    "block_address": "Network address blocked",
    "unblock_email": "Email unblocked",
    "unblock_address": "Network address unblocked",
    "untrust": "Author no longer trusted",
    "delete": "Deleted for good",
    "owner_create": "Owner created",
    "owner_password": "Owner password changed",
    "owner_delete": "Owner deleted",
    "topic_add": "Topic added",
    "edit_website": "Website edited",
    "consent": "Consent to publish",
    "consent_asked": "Asked the author to publish",
    "consent_answer": "Author's answer",
}


def describe(event: ModerationEvent) -> str:
    """An event's action in words an owner reads at a glance."""
    if event.action == "star":
        return "Starred" if event.to_value == "True" else "Star removed"
    return _EVENT_WORDS.get(event.action, event.action.replace("_", " ").capitalize())


@dataclass
class Outcome:
    """What a (bulk) action did: how many items changed, and why others did not."""

    done: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


def apply(
    session: Session,
    run: Callable[[Session, Submission, Owner], None],
    items: Iterable[Submission],
    by: Owner,
) -> Outcome:
    """Run one action on each item; items the rules refuse are reported, not changed.

    Every action checks its rules before it changes anything, so a refusal leaves no trace.
    """
    outcome = Outcome()
    for item in items:
        try:
            run(session, item, by)
        except ModerationError as exc:
            outcome.refused.append((item.id, str(exc)))
        else:
            outcome.done += 1
    return outcome


def bulk(
    session: Session,
    action: str,
    items: Iterable[Submission],
    by: Owner,
    *,
    topic: Topic | None = None,
    note: str | None = None,
) -> tuple[str, Outcome]:
    """Run one of the queue's bulk actions on each item; return its label and the outcome."""
    if action == "set_topic":
        return f"Move to #{topic.slug}", apply(
            session, lambda s, i, owner: set_topic(s, i, topic, owner), items, by
        )
    if action == "add_note":
        return "Add to the note", apply(
            session, lambda s, i, owner: add_note(s, i, note, owner), items, by
        )
    label, run = ACTIONS[action]
    return label, apply(session, run, items, by)
