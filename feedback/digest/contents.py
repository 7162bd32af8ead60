"""The digest for the organisers: what goes in, in which order, and the ledger of what went.

A digest is a header (period, counts, the themes it holds) and entries grouped by topic and,
within a topic, by theme, largest first. It is built either from the live submissions (a new
digest) or from the snapshots of a sent one (a re-download), and the formats turn either into
every format the same way.

A confirmed near-duplicate whose original is in the same digest, in the same topic, is folded
into it: it comes right after the idea it repeats, shown there with its own credit and its
whole text (its extra words are kept because nothing of it is dropped), and counts in that
idea's theme. Its ``duplicate_of`` names the idea it is shown under. Otherwise (a suggestion
the owner has not confirmed, an original sent before or in another topic) it stands alone.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback.db import day_start, utcnow
from feedback.models import (
    Credit,
    Digest,
    DigestItem,
    DuplicatePair,
    DuplicateState,
    Status,
    Submission,
    Theme,
    ThemeMember,
    Topic,
    Visibility,
    title_shown,
)
from feedback.themes import engine, store

ANONYMOUS = "A reader"
# A digest whose email is on its way: it holds its items, but is not confirmed as sent.
SENDING = "sending"
CHUNK = 500  # rows fetched, written or inserted at a time: memory stays flat
MOST_ASKED = 10  # themes in the digest's first section


class DigestError(RuntimeError):
    """A digest that cannot be made or sent as asked; the message says why."""


class SelectionChanged(DigestError):
    """The ideas a digest would hold now are not the ones the owner previewed."""

    def __init__(self) -> None:
        super().__init__(
            "New ideas arrived (or some changed) since you opened this preview, so nothing was "
            "sent or recorded. Check the preview and send again."
        )


@dataclass(frozen=True)
class Options:
    """What the owner chose for a digest."""

    include_private: bool = True
    anonymise: bool = False
    since: date | None = None
    until: date | None = None
    starred_only: bool = False
    topics: tuple[str, ...] = ()  # slugs; empty means every topic
    include_notes: bool = False
    include_contact: bool = False
    # The last digest of the collection: every format says so.
    final: bool = False

    def to_json(self) -> str:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["until"] = self.until.isoformat() if self.until else None
        data["topics"] = list(self.topics)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Options":
        data = json.loads(text)
        data["since"] = date.fromisoformat(data["since"]) if data["since"] else None
        data["until"] = date.fromisoformat(data["until"]) if data["until"] else None
        data["topics"] = tuple(data["topics"])
        return cls(**data)


@dataclass(frozen=True)
class Entry:
    """One idea as the organisers read it: credited as its author chose."""

    id: int
    topic: str
    topic_slug: str
    title: str
    credit: str
    visibility: str
    received: str  # ISO date
    body: str
    starred: bool = False
    website: str | None = None
    email: str | None = None
    note: str | None = None
    updated_since: str | None = None  # ISO date of the digest this was sent in before
    # Older snapshots have neither: they show as one theme-less group per topic.
    theme: int | None = None  # the theme it is shown in
    duplicate_of: int | None = None  # the idea in this digest it repeats, shown under it
    by_email: bool = False  # read from an email, not typed into the form

    def as_dict(self) -> dict:
        """The fields by name (all plain values: a shallow copy, far cheaper than asdict)."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class ThemeCount:
    """A theme as one digest holds it: counted over its ideas, labelled as when it was made."""

    id: int
    topic: str
    label: str
    keywords: tuple[str, ...]
    public: int
    private: int

    @property
    def count(self) -> int:
        return self.public + self.private


@dataclass(frozen=True)
class Header:
    """What the top of a digest says: which conference, which period, how many of what."""

    conference: str
    period_start: str | None
    period_end: str | None
    total: int
    public: int
    private: int
    per_topic: list[tuple[str, int]] = field(default_factory=list)
    generated: str = ""
    # In reading order: topic by topic, each topic's largest first. Empty before themes.
    themes: list[ThemeCount] = field(default_factory=list)
    final: bool = False  # the final digest of the collection

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Header":
        data = json.loads(text)
        data["per_topic"] = [tuple(pair) for pair in data["per_topic"]]
        data["themes"] = [
            ThemeCount(**{**theme, "keywords": tuple(theme["keywords"])})
            for theme in data.get("themes", [])
        ]
        return cls(**data)

    def most_asked(self) -> list[ThemeCount]:
        """The largest themes across topics, largest first; equal ones in reading order."""
        return sorted(self.themes, key=lambda theme: -theme.count)[:MOST_ASKED]


def _already_sent():
    """Items whose current content some earlier digest already carried."""
    return sa.exists().where(
        DigestItem.submission_id == Submission.id,
        DigestItem.content_hash == Submission.content_hash,
    )


def selection(options: Options) -> sa.Select:
    """The submissions a new digest holds, in the order themes then group (``arrange``):
    topics as configured, starred first, then oldest."""
    shown = (Submission.visibility == Visibility.PUBLIC) & (Submission.status == Status.APPROVED)
    if options.include_private:
        shown = shown | (
            (Submission.visibility == Visibility.PRIVATE)
            & Submission.status.in_([Status.PENDING, Status.APPROVED])
        )
    query = (
        sa.select(Submission)
        .join(Topic, Submission.topic_id == Topic.id)
        .where(shown, ~_already_sent())
    )
    if options.starred_only:
        query = query.where(Submission.starred)
    if options.since:
        query = query.where(Submission.created_at >= day_start(options.since))
    if options.until:
        query = query.where(Submission.created_at < day_start(options.until + timedelta(days=1)))
    if options.topics:
        query = query.where(Topic.slug.in_(options.topics))
    # Within a topic: starred first, then oldest first (votes join this order when they exist).
    return query.order_by(
        Topic.position, Topic.id, Submission.starred.desc(), Submission.created_at, Submission.id
    )


@dataclass(frozen=True)
class Arrangement:
    """The reading order of a new digest: each idea's theme, and the repeats folded into the
    idea they repeat (the digest's themes counted over exactly these ideas)."""

    order: list[int]
    theme_of: dict[int, int | None]
    duplicate_of: dict[int, int]
    themes: list[ThemeCount]


def arrange(session: Session, options: Options) -> Arrangement:
    """Place the new ideas in themes, then order the next digest: topics as configured; in a
    topic its themes largest first (equal ones as their first ideas come); in a theme its
    ideas starred first, then oldest, each followed by the confirmed repeats folded into it.
    """
    store.place_new(session)
    placed = selection(options).outerjoin(ThemeMember, ThemeMember.submission_id == Submission.id)
    rows = session.execute(
        placed.with_only_columns(
            Submission.id, Submission.topic_id, Submission.visibility, ThemeMember.theme_id
        )
    ).all()
    in_digest = placed.with_only_columns(ThemeMember.theme_id).order_by(None)
    themes = {
        row.id: row
        for row in session.execute(
            sa.select(Theme.id, Theme.topic_id, Theme.label, Theme.keywords).where(
                Theme.id.in_(in_digest)
            )
        )
    }
    if not options.include_private:
        themes |= _words_without_private(session, in_digest, rows)
    into = _folds(session, rows)
    repeats: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        if row.id in into:
            repeats[into[row.id]].append(row.id)
    # topic -> theme -> ideas, each in the order it first comes (dicts keep it).
    groups: dict[int, dict[int | None, list[int]]] = {}
    for row in rows:
        if row.id in into:
            continue
        theme = themes.get(row.theme_id)
        # A theme of another topic (the idea moved since) is none of this topic's themes.
        theme_id = theme.id if theme is not None and theme.topic_id == row.topic_id else None
        groups.setdefault(row.topic_id, {}).setdefault(theme_id, []).extend(
            [row.id, *repeats.get(row.id, ())]
        )
    names = dict(session.execute(sa.select(Topic.id, Topic.name)).all())
    public = {row.id for row in rows if row.visibility is Visibility.PUBLIC}
    order: list[int] = []
    theme_of: dict[int, int | None] = {}
    counts: list[ThemeCount] = []
    for topic_id, by_theme in groups.items():
        # sorted() is stable: equal themes keep the order of their first ideas.
        for theme_id, ids in sorted(by_theme.items(), key=lambda kv: (kv[0] is None, -len(kv[1]))):
            order.extend(ids)
            theme_of.update(dict.fromkeys(ids, theme_id))
            if theme_id is None:
                continue
            shown = sum(1 for item_id in ids if item_id in public)
            theme = themes[theme_id]
            counts.append(
                ThemeCount(
                    id=theme_id,
                    topic=names[topic_id],
                    label=theme.label,
                    keywords=tuple(k for k in theme.keywords.split("\n") if k),
                    public=shown,
                    private=len(ids) - shown,
                )
            )
    return Arrangement(order, theme_of, into, counts)


def _words_without_private(session: Session, in_digest, rows) -> dict[int, "_ThemeWords"]:
    """For a digest without private notes: themes whose words may come from one, with a
    label and keywords drawn again from the digest's own ideas (an owner's label stays)."""
    mixed = session.execute(
        sa.select(Theme.id, Theme.topic_id)
        .join(ThemeMember, ThemeMember.theme_id == Theme.id)
        .join(Submission, Submission.id == ThemeMember.submission_id)
        .where(
            Theme.id.in_(in_digest),
            sa.not_(Theme.label_by_owner),
            Submission.visibility == Visibility.PRIVATE,
        )
        .distinct()
    ).all()
    if not mixed:
        return {}
    members: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        members[row.theme_id].append(row.id)
    redrawn = {}
    for theme_id, topic_id in mixed:
        texts = session.execute(
            sa.select(Submission.title, Submission.body)
            .where(Submission.id.in_(members[theme_id]))
            .order_by(Submission.id)
        ).all()
        label, keywords = engine.words_of([(t.title, t.body) for t in texts])
        redrawn[theme_id] = _ThemeWords(theme_id, topic_id, label, "\n".join(keywords))
    return redrawn


@dataclass(frozen=True)
class _ThemeWords:
    id: int
    topic_id: int
    label: str
    keywords: str


def _folds(session: Session, rows) -> dict[int, int]:
    """Each confirmed duplicate among these ideas -> the idea it is shown under.

    Originals earlier in the digest are taken first, so a repeat of several goes under the
    first one, a chain ends at its first idea, and a loop the owner made is never followed.
    Both must be here and in one topic: folding never moves an idea to another topic.
    """
    position = {row.id: n for n, row in enumerate(rows)}
    topic_of = {row.id: row.topic_id for row in rows}
    pairs = session.execute(
        sa.select(DuplicatePair.submission_id, DuplicatePair.duplicate_of_id).where(
            DuplicatePair.state == DuplicateState.CONFIRMED
        )
    ).all()
    here = sorted(
        (position[original], position[duplicate], duplicate, original)
        for duplicate, original in pairs
        if duplicate in position
        and original in position
        and topic_of[duplicate] == topic_of[original]
    )
    folded: dict[int, int] = {}
    for _first, _then, duplicate, original in here:
        if duplicate not in folded and _root(folded, original) != duplicate:
            folded[duplicate] = original
    return {duplicate: _root(folded, duplicate) for duplicate in folded}


def _root(folded: dict[int, int], item_id: int) -> int:
    while item_id in folded:
        item_id = folded[item_id]
    return item_id


def waiting(session: Session, options: Options) -> int:
    """How many ideas the next digest would hold (the dashboard's count; nothing arranged)."""
    inner = selection(options).order_by(None).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(inner))


def header(
    session: Session, options: Options, conference: str, arranged: Arrangement | None = None
) -> Header:
    """Counts, period and themes of the next digest (as ``arranged``, or arranged now)."""
    if arranged is None:
        arranged = arrange(session, options)
    inner = selection(options).order_by(None).subquery()
    return _header_of(session, inner, options, conference, arranged.themes)


def _header_of(
    session: Session, inner, options: Options, conference: str, themes: list[ThemeCount]
) -> Header:
    """The header of the ideas in ``inner``: one rule for a preview and a recorded digest.

    Folded repeats count as the ideas they are, and never move out of their topic, so the
    counts are those of the ideas, however they are shown.
    """
    rows = session.execute(
        sa.select(Topic.name, inner.c.visibility, sa.func.count())
        .join(inner, inner.c.topic_id == Topic.id)
        .group_by(Topic.position, Topic.id, Topic.name, inner.c.visibility)
        .order_by(Topic.position, Topic.id)
    ).all()
    per_topic: dict[str, int] = {}
    public = private = 0
    for topic, visibility, count in rows:
        per_topic[topic] = per_topic.get(topic, 0) + count
        if Visibility(visibility) is Visibility.PUBLIC:
            public += count
        else:
            private += count
    first, last = session.execute(
        sa.select(sa.func.min(inner.c.created_at), sa.func.max(inner.c.created_at))
    ).one()
    start = options.since.isoformat() if options.since else _iso_day(first)
    end = options.until.isoformat() if options.until else _iso_day(last)
    return Header(
        conference=conference,
        period_start=start,
        period_end=end,
        total=public + private,
        public=public,
        private=private,
        per_topic=list(per_topic.items()),
        generated=utcnow().date().isoformat(),
        themes=themes,
        final=options.final,
    )


def _iso_day(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back the raw text for an aggregate
        return value[:10]
    return value.date().isoformat()


def credit_of(item, anonymise: bool) -> str:
    """The credit line the author chose; anonymising all can only make it more anonymous.

    ``item`` is a Submission or a row with its ``credit``, ``author_name`` and
    ``organisation``.
    """
    if anonymise or item.credit is Credit.ANONYMOUS:
        return ANONYMOUS
    if item.credit is Credit.NAME_AND_ORGANISATION and item.organisation:
        return f"{item.author_name} ({item.organisation})"
    return item.author_name


# What an entry shows, read as plain rows: a digest of 100 000 ideas builds no ORM objects.
_ENTRY_COLUMNS = (
    Submission.id,
    Submission.content_hash,
    Submission.title,
    Submission.body,
    Submission.author_name,
    Submission.organisation,
    Submission.credit,
    Submission.visibility,
    Submission.created_at,
    Submission.starred,
    Submission.website,
    Submission.email,
    Submission.owner_note,
    Submission.by_email,
    Topic.name.label("topic_name"),
    Topic.slug.label("topic_slug"),
)


def entry_of(
    row: sa.Row,
    options: Options,
    updated_since: str | None,
    theme: int | None = None,
    duplicate_of: int | None = None,
) -> Entry:
    """One submission (a row of ``_ENTRY_COLUMNS``) as this digest shows it."""
    anonymous = options.anonymise or row.credit is Credit.ANONYMOUS
    return Entry(
        id=row.id,
        topic=row.topic_name,
        topic_slug=row.topic_slug,
        title=title_shown(row.title, row.body),
        credit=credit_of(row, options.anonymise),
        visibility=str(row.visibility),
        received=row.created_at.date().isoformat(),
        body=row.body,
        starred=row.starred,
        website=None if anonymous else row.website,
        email=row.email if options.include_contact and not anonymous else None,
        note=row.owner_note if options.include_notes else None,
        updated_since=updated_since,
        theme=theme,
        duplicate_of=duplicate_of,
        by_email=row.by_email,
    )


def _last_sent(session: Session, ids: list[int]) -> dict[int, str]:
    """For each id, the date of the latest digest it went out in (if any)."""
    if not ids:
        return {}
    rows = session.execute(
        sa.select(DigestItem.submission_id, sa.func.max(Digest.sent_at))
        .join(Digest, DigestItem.digest_id == Digest.id)
        .where(DigestItem.submission_id.in_(ids))
        .group_by(DigestItem.submission_id)
    ).all()
    return {item_id: _iso_day(sent) for item_id, sent in rows}


def new_entries(
    session: Session, options: Options, arranged: Arrangement | None = None
) -> Iterator[tuple[sa.Row, Entry]]:
    """The entries of a new digest (as ``arranged``, or arranged now), a chunk at a time,
    each with its row (``id`` and ``content_hash`` among its columns).

    The ids are fixed first, so recording the digest while reading it cannot shift the list.
    """
    if arranged is None:
        arranged = arrange(session, options)
    ids = arranged.order
    query = sa.select(*_ENTRY_COLUMNS).join(Topic, Topic.id == Submission.topic_id)
    for start in range(0, len(ids), CHUNK):
        chunk_ids = ids[start : start + CHUNK]
        loaded = {
            row.id: row for row in session.execute(query.where(Submission.id.in_(chunk_ids)))
        }
        sent = _last_sent(session, chunk_ids)
        for item_id in chunk_ids:
            row = loaded.get(item_id)
            if row is None:  # deleted for good since the digest was arranged
                continue
            yield (
                row,
                entry_of(
                    row,
                    options,
                    sent.get(item_id),
                    arranged.theme_of.get(item_id),
                    arranged.duplicate_of.get(item_id),
                ),
            )


def sent_entries(session: Session, digest: Digest) -> Iterator[Entry]:
    """The entries of a sent digest, exactly as they went out."""
    query = (
        sa.select(DigestItem.snapshot_json)
        .where(DigestItem.digest_id == digest.id)
        .order_by(DigestItem.position)
    )
    for snapshot in session.scalars(query.execution_options(yield_per=CHUNK)):
        yield Entry(**json.loads(snapshot))


def selection_fingerprint(session: Session, options: Options) -> str:
    """A hash of exactly which items (and which versions) a new digest would hold now.

    The preview carries it, so sending refuses when something changed since the owner looked.
    Taken in id order: how themes arrange the items is not what it checks.
    """
    rows = session.execute(
        selection(options)
        .with_only_columns(Submission.id, Submission.content_hash)
        .order_by(None)
        .order_by(Submission.id)
    ).all()
    fingerprint = _Fingerprint()
    for item_id, content_hash in rows:
        fingerprint.add(item_id, content_hash)
    return fingerprint.hexdigest()


class _Fingerprint:
    """The selection fingerprint, built item by item (for the preview and for a recording)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._first = True

    def add(self, item_id: int, content_hash: str) -> None:
        self._hash.update(f"{'' if self._first else ';'}{item_id}:{content_hash}".encode())
        self._first = False

    def hexdigest(self) -> str:
        return self._hash.hexdigest()[:32]


def record(
    session: Session,
    options: Options,
    conference: str,
    *,
    method: str,
    recipients: list[str],
    created_by: str,
    message_id: str,
    expected: str | None = None,
) -> Digest:
    """Record a digest with exactly the items it holds now, so the next one starts after them.

    The header (period, counts) is counted from the very items recorded. With ``expected`` (a
    preview's ``selection_fingerprint``) the recorded items must be the previewed ones. The
    caller commits, or rolls back after an error.

    :raise SelectionChanged: when the items recorded are not those ``expected`` names.
    :raise DigestError: when there is nothing new, or another digest took these items first.
    """
    digest = Digest(
        method=method,
        recipients=", ".join(recipients),
        created_by=created_by,
        options_json=options.to_json(),
        header_json="{}",
        item_count=0,
        message_id=message_id,
    )
    session.add(digest)
    session.flush()
    total = 0
    # Checked on what is recorded, not before: an idea arriving meanwhile cannot slip in.
    versions = []
    rows = []
    try:
        arranged = arrange(session, options)
        for item, entry in new_entries(session, options, arranged):
            total += 1
            versions.append((item.id, item.content_hash))
            rows.append(
                {
                    "digest_id": digest.id,
                    "submission_id": item.id,
                    "position": total - 1,
                    "content_hash": item.content_hash,
                    "snapshot_json": json.dumps(entry.as_dict(), sort_keys=True),
                }
            )
            if len(rows) >= CHUNK:
                session.execute(sa.insert(DigestItem), rows)
                rows = []
        if rows:
            session.execute(sa.insert(DigestItem), rows)
    except IntegrityError:
        # The caller rolls back, as after any error here: its transaction is its own.
        raise DigestError(
            "Another digest took some of these ideas at the same moment; look at the preview "
            "again."
        ) from None
    if total == 0:
        raise DigestError("There is nothing new for the organisers since the last digest.")
    fingerprint = _Fingerprint()
    for item_id, content_hash in sorted(versions):
        fingerprint.add(item_id, content_hash)
    if expected is not None and fingerprint.hexdigest() != expected:
        raise SelectionChanged()
    digest.item_count = total
    recorded = (
        sa.select(Submission)
        .join(DigestItem, DigestItem.submission_id == Submission.id)
        .where(DigestItem.digest_id == digest.id)
        .subquery()
    )
    head = _header_of(session, recorded, options, conference, arranged.themes)
    digest.header_json = head.to_json()
    return digest


def _newest_first() -> sa.Select:
    return sa.select(Digest).order_by(Digest.sent_at.desc(), Digest.id.desc())


def last_digest(session: Session) -> Digest | None:
    """The most recent digest, or None."""
    return session.scalars(_newest_first()).first()


def list_digests(session: Session) -> list[Digest]:
    """Every digest, newest first."""
    return list(session.scalars(_newest_first()))


def authors_to_tell(session: Session) -> list[Submission]:
    """Ideas whose authors asked to hear when they go out, that went out, and who were not
    told yet (including those a failed mail left untold after an earlier digest)."""
    sent = sa.select(DigestItem.submission_id).join(Digest).where(Digest.method != SENDING)
    return list(
        session.scalars(
            sa.select(Submission).where(
                Submission.id.in_(sent),
                Submission.notify_author,
                Submission.author_told_at.is_(None),
            )
        )
    )


def sent_in(session: Session, item: Submission) -> list[Digest]:
    """The digests an item went out in, oldest first (for its author's manage page)."""
    return list(
        session.scalars(
            sa.select(Digest)
            .join(DigestItem, DigestItem.digest_id == Digest.id)
            .where(DigestItem.submission_id == item.id)
            .order_by(Digest.sent_at)
        )
    )
