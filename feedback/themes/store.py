"""Themes in the database: computing them, placing new ideas, the owner's decisions, reading.

Services in the house style: they take a session, leave Flask alone, and callers commit.
The owner's decisions are stored as constraints (pins on theme members, closed themes,
owner labels, confirmed and dismissed duplicate pairs) that every computation obeys.
"""

import json
import threading
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback import moderation
from feedback.db import Page, utcnow
from feedback.models import (
    DuplicatePair,
    DuplicateState,
    ModerationEvent,
    Owner,
    Status,
    Submission,
    Theme,
    ThemeMember,
    ThemeRun,
    Topic,
    Visibility,
)
from feedback.themes import engine
from feedback.topics import list_topics

# Ideas in no theme: the ones no organiser will read about.
LEFT_OUT = (Status.SPAM, Status.REJECTED, Status.WITHDRAWN)
LABEL_LIMIT = 120


KEYWORDS_LIMIT = 500


def _fit_label(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def _fit_keywords(keywords: Iterable[str]) -> str:
    """Keywords as stored: one per line, as many whole ones as the column holds."""
    kept: list[str] = []
    for word in keywords:
        if len("\n".join([*kept, word])) > KEYWORDS_LIMIT:
            break
        kept.append(word)
    return "\n".join(kept)


class ThemeError(ValueError):
    """A decision that cannot be made; the message says why."""


def _in_themes() -> sa.ColumnElement[bool]:
    return Submission.status.not_in(LEFT_OUT)


def _ideas(session: Session) -> list[engine.Idea]:
    rows = session.execute(
        sa.select(
            Submission.id,
            Submission.topic_id,
            Submission.title,
            Submission.body,
            Submission.created_at,
        ).where(_in_themes())
    )
    return [engine.Idea(r.id, r.topic_id, r.title, r.body, r.created_at) for r in rows]


def decisions(session: Session) -> engine.Decisions:
    """The owner's decisions as the engine's constraints."""
    pins = dict(
        session.execute(
            sa.select(ThemeMember.submission_id, ThemeMember.theme_id).where(ThemeMember.pinned)
        ).all()
    )
    closed = frozenset(session.scalars(sa.select(Theme.id).where(Theme.closed)))
    confirmed: dict[int, int] = {}
    dismissed: set[tuple[int, int]] = set()
    for pair in session.scalars(
        sa.select(DuplicatePair).where(DuplicatePair.state != DuplicateState.SUGGESTED)
    ):
        if pair.state is DuplicateState.CONFIRMED:
            confirmed[pair.submission_id] = pair.duplicate_of_id
        else:
            dismissed.add(engine.pair(pair.submission_id, pair.duplicate_of_id))
    return engine.Decisions(pins, closed, confirmed, frozenset(dismissed))


def _previous(session: Session) -> dict[int, int]:
    return dict(session.execute(sa.select(ThemeMember.submission_id, ThemeMember.theme_id)).all())


# The actions that change what a computation must obey (see decisions()).
DECISIONS = (
    "theme_renamed",
    "themes_merged",
    "theme_moved",
    "theme_split",
    "duplicate_confirmed",
    "duplicate_dismissed",
)
# Computations that find an owner's decision made meanwhile before the last one holds the lock.
ATTEMPTS = 3
# A computation unfinished this long after it started was stopped (its process ended).
STALE_RUN = timedelta(minutes=30)
# Owner decisions, placements and a computation's save take turns (PostgreSQL; SQLite lets
# one writer in at a time anyway).
_LOCK_KEY = 0x7E3E5


def lock(session: Session) -> None:
    """Wait for any other decision, placement or save of the themes to finish."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))


def _decisions_version(session: Session) -> int:
    return session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(ModerationEvent.id), 0)).where(
            ModerationEvent.action.in_(DECISIONS)
        )
    )


def rebuild(
    session: Session,
    params: engine.Params = engine.DEFAULTS,
    progress: Callable[[str], None] | None = None,
) -> ThemeRun:
    """Compute every theme and duplicate from scratch, obeying the owner's decisions.

    Theme ids continue where the members do (see ``engine``); owner labels are kept.
    Unlike other services this one commits, because a computation can take a minute: it
    reads, ends that transaction, computes holding no lock (readers and writers go on), then
    saves in one short transaction, and computes again if an owner decided something
    meanwhile. Call it with nothing else pending.
    """
    say = progress or (lambda _step: None)
    # Recorded at once, so that every page can say a computation is under way.
    run = ThemeRun(params=json.dumps(params.describe(), sort_keys=True))
    session.add(run)
    session.commit()
    try:
        _compute_and_save(session, run, params, say)
    except BaseException:
        session.rollback()
        _forget(session, run)
        raise
    return run


def _forget(session: Session, run: ThemeRun) -> None:
    """Remove a failed computation's record; if even that fails, the first error stands
    (the row then stops counting as under way after STALE_RUN)."""
    try:
        session.execute(sa.delete(ThemeRun).where(ThemeRun.id == run.id))
        session.commit()
    except sa.exc.SQLAlchemyError:
        session.rollback()


def _compute_and_save(
    session: Session, run: ThemeRun, params: engine.Params, say: Callable[[str], None]
) -> None:
    for attempt in range(ATTEMPTS):
        started = time.perf_counter()
        last = attempt == ATTEMPTS - 1
        if last:
            # Owners kept deciding while it computed: this time compute holding the lock.
            _hold_lock(session, run)
        say("reading ideas")
        version = _decisions_version(session)
        ideas, found, previous = _ideas(session), decisions(session), _previous(session)
        if not last:
            session.commit()
        say(f"computing themes of {len(ideas)} ideas")
        result = engine.compute(ideas, found, previous, params)
        say("saving")
        if last:
            break
        _hold_lock(session, run)
        if _decisions_version(session) == version:
            break
        session.rollback()
    _save(session, result, found)
    run.finished_at = utcnow()
    run.ideas = len(ideas)
    run.themes = len(result.themes)
    run.duplicates = len(result.duplicates)
    run.seconds = round(time.perf_counter() - started, 3)
    session.commit()


def _hold_lock(session: Session, run: ThemeRun) -> None:
    """Take the write lock now: SQLite gives it to the first write, PostgreSQL to ``lock``."""
    session.execute(sa.update(ThemeRun).where(ThemeRun.id == run.id).values(finished_at=None))
    lock(session)


def _save(session: Session, result: engine.Result, found: engine.Decisions) -> None:
    existing = {t.id: t for t in session.scalars(sa.select(Theme))}
    # Every row is written again, except the pins of ideas now out of themes (spam, rejected,
    # withdrawn): restored, they are back where the owner put them.
    out = sa.select(Submission.id).where(sa.not_(_in_themes()))
    session.execute(
        sa.delete(ThemeMember).where(
            sa.or_(sa.not_(ThemeMember.pinned), ThemeMember.submission_id.not_in(out))
        )
    )
    rows = []
    for computed in result.themes:
        theme = existing.get(computed.id) if computed.id is not None else None
        if theme is None:
            theme = Theme(topic_id=computed.topic, label=_fit_label(computed.label))
            session.add(theme)
            session.flush()
        if not theme.label_by_owner:
            theme.label = _fit_label(computed.label)
        theme.topic_id = computed.topic
        theme.keywords = _fit_keywords(computed.keywords)
        theme.representative_id = computed.representative
        theme.merged_into_id = None
        rows.extend(
            {
                "submission_id": idea,
                "theme_id": theme.id,
                "pinned": found.pins.get(idea) == theme.id,
                "closeness": computed.closeness.get(idea, 0.0),
            }
            for idea in computed.members
        )
    if rows:
        session.execute(sa.insert(ThemeMember), rows)
    _drop_empty_themes(session)
    session.execute(
        sa.delete(DuplicatePair).where(DuplicatePair.state == DuplicateState.SUGGESTED)
    )
    decided = {
        (p.submission_id, p.duplicate_of_id) for p in session.scalars(sa.select(DuplicatePair))
    }
    suggestions = [
        {
            "submission_id": d.idea,
            "duplicate_of_id": d.duplicate_of,
            "state": DuplicateState.SUGGESTED,
            "similarity": d.similarity,
            "shared_words": " ".join(d.shared)[:300],
        }
        for d in result.duplicates
        if not d.confirmed and (d.idea, d.duplicate_of) not in decided
    ]
    if suggestions:
        session.execute(sa.insert(DuplicatePair), suggestions)


def _drop_empty_themes(session: Session) -> None:
    """Themes left without members go, unless a merged theme's old link leads to them."""
    session.flush()
    occupied = sa.select(ThemeMember.theme_id)
    referenced = sa.select(Theme.merged_into_id).where(Theme.merged_into_id.is_not(None))
    session.execute(
        sa.delete(Theme).where(
            Theme.id.not_in(occupied),
            Theme.id.not_in(referenced),
            Theme.merged_into_id.is_(None),
        )
    )


# Ideas placed one by one at most per call (a few milliseconds each): a larger backlog (a
# database filled some other way) waits for a full computation, which is faster for it.
PLACE_AT_ONCE = 500


def _waiting() -> sa.Select:
    return (
        sa.select(Submission.id, Submission.topic_id, Submission.title, Submission.body)
        .outerjoin(ThemeMember, ThemeMember.submission_id == Submission.id)
        .where(_in_themes(), ThemeMember.submission_id.is_(None))
    )


def waiting_count(session: Session) -> int:
    """How many ideas belong in a theme but are in none yet."""
    return session.scalar(sa.select(sa.func.count()).select_from(_waiting().subquery()))


def place_new(session: Session, params: engine.Params = engine.DEFAULTS) -> int:
    """Put ideas that belong in a theme but have none (the first PLACE_AT_ONCE) into the
    nearest theme of their topic (or a theme of their own), suggesting each as a
    near-duplicate of a member it repeats; return how many were placed. A full computation
    (``rebuild``) does better, and is the owner's to start."""
    query = _waiting().order_by(Submission.id)
    if session.execute(query.limit(1)).first() is None:
        return 0
    lock(session)
    waiting = session.execute(query.limit(PLACE_AT_ONCE)).all()
    placed = 0
    with _placing:
        for topic_id, group in _by_topic(waiting).items():
            model = _placer(session, topic_id, params)
            for row in group:
                theme_id = model.nearest(row.title, row.body)
                if theme_id is None:
                    theme = Theme(
                        topic_id=topic_id,
                        label=_fit_label(engine.label_of(row.title, row.body)),
                        keywords=_fit_keywords(engine.keywords_of(row.title, row.body)),
                        representative_id=row.id,
                    )
                    session.add(theme)
                    session.flush()
                    theme_id = theme.id
                else:
                    _suggest_duplicate(session, model, row, theme_id)
                session.add(ThemeMember(submission_id=row.id, theme_id=theme_id))
                model.add(theme_id, row.title, row.body)
                placed += 1
            session.flush()
            _placers[_placer_key(session, topic_id)] = (_topic_state(session, topic_id), model)
    return placed


# How many of a theme's newest members a new idea is compared with, word by word.
DUPLICATE_CANDIDATES = 200


def _suggest_duplicate(session: Session, model: engine.Placer, row, theme_id: int) -> None:
    repeats = sa.select(DuplicatePair.submission_id).where(
        DuplicatePair.state != DuplicateState.DISMISSED
    )
    candidates = session.execute(
        sa.select(Submission.id, Submission.title, Submission.body)
        .join(ThemeMember, ThemeMember.submission_id == Submission.id)
        .where(
            ThemeMember.theme_id == theme_id,
            _in_themes(),
            Submission.id != row.id,
            Submission.id.not_in(repeats),
        )
        .order_by(Submission.id.desc())
        .limit(DUPLICATE_CANDIDATES)
    ).all()
    found = model.duplicate_of(row.title, row.body, [(c.id, c.title, c.body) for c in candidates])
    if found is not None:
        original, similarity, shared = found
        session.add(
            DuplicatePair(
                submission_id=row.id,
                duplicate_of_id=original,
                similarity=round(similarity, 4),
                shared_words=" ".join(shared)[:300],
            )
        )


# Placers kept between calls, per database and topic, while the topic's themes stay as they
# were: building one reads every member's text, placing with it takes milliseconds.
_placers: dict[tuple[str, int], tuple[tuple, engine.Placer]] = {}
_placing = threading.Lock()  # one thread at a time uses (and changes) a kept placer


def _open_members(topic_id: int) -> sa.Select:
    return (
        sa.select(ThemeMember.theme_id, ThemeMember.submission_id)
        .join(Submission, Submission.id == ThemeMember.submission_id)
        .join(Theme, Theme.id == ThemeMember.theme_id)
        .where(Theme.topic_id == topic_id, _in_themes(), sa.not_(Theme.closed))
    )


def _placer_key(session: Session, topic_id: int) -> tuple[str, int]:
    return (str(session.get_bind().url), topic_id)


def _topic_state(session: Session, topic_id: int) -> tuple:
    """What a placer depends on: the last computation, and which idea is in which theme."""
    members = _open_members(topic_id).subquery()
    counts = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(members.c.theme_id), 0),
            sa.func.coalesce(sa.func.sum(members.c.submission_id * members.c.theme_id), 0),
        ).select_from(members)
    ).one()
    newest = session.scalar(
        sa.select(sa.func.max(Theme.created_at)).where(Theme.topic_id == topic_id)
    )
    finished = sa.select(sa.func.max(ThemeRun.id)).where(ThemeRun.finished_at.is_not(None))
    return (session.scalar(finished), newest, *counts)


def _placer(session: Session, topic_id: int, params: engine.Params) -> engine.Placer:
    kept = _placers.get(_placer_key(session, topic_id))
    state = _topic_state(session, topic_id)
    if kept is not None and kept[0] == state and kept[1].params == params:
        return kept[1]
    members = _open_members(topic_id).subquery()
    rows = session.execute(
        sa.select(members.c.theme_id, Submission.title, Submission.body).join(
            Submission, Submission.id == members.c.submission_id
        )
    ).all()
    return engine.Placer([(r.theme_id, r.title, r.body) for r in rows], params)


def _by_topic(rows: Iterable) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        grouped[row.topic_id].append(row)
    return grouped


# The owner's decisions ------------------------------------------------------------------


def _theme(session: Session, theme_id: int) -> Theme:
    theme = session.get(Theme, theme_id)
    if theme is None or theme.merged_into_id is not None:
        raise ThemeError(f"There is no theme #{theme_id}.")
    return theme


def _member(session: Session, idea_id: int) -> ThemeMember:
    lock(session)
    member = session.get(ThemeMember, idea_id)
    item = session.get(Submission, idea_id)
    if item is None or item.status in LEFT_OUT:
        raise ThemeError(
            f"Idea #{idea_id} is in no theme (it is missing, spam, rejected or withdrawn)."
        )
    if member is None:
        place_new(session)
        member = session.get(ThemeMember, idea_id)
    return member


def _unprintable(character: str) -> bool:
    # Control, format (bidi overrides), surrogate, private-use and unassigned characters.
    return unicodedata.category(character).startswith("C")


def _leave(session: Session, member: ThemeMember, theme_id: int) -> None:
    """Pin the member to ``theme_id``; the theme it leaves gets another representative."""
    left = session.get(Theme, member.theme_id)
    member.theme_id, member.pinned = theme_id, True
    session.flush()
    if left is not None and left.representative_id == member.submission_id:
        left.representative_id = session.scalar(
            sa.select(sa.func.min(ThemeMember.submission_id)).where(
                ThemeMember.theme_id == left.id
            )
        )


def rename(session: Session, theme_id: int, label: str, by: Owner | None) -> Theme:
    """Give a theme the owner's label, and keep its members in it; no recomputation changes
    either (the owner can still move or split them)."""
    label = " ".join(label.split())
    if not label or len(label) > LABEL_LIMIT or any(_unprintable(c) for c in label):
        raise ThemeError(f"A label is 1 to {LABEL_LIMIT} characters on one line.")
    lock(session)
    theme = _theme(session, theme_id)
    moderation.record(session, None, by, "theme_renamed", f"#{theme.id} {theme.label}", label)
    theme.label, theme.label_by_owner = label, True
    # A named theme is one the owner accepted: its members stay, so the name keeps a theme.
    session.execute(
        sa.update(ThemeMember).where(ThemeMember.theme_id == theme.id).values(pinned=True)
    )
    return theme


def merge(session: Session, keep_id: int, other_id: int, by: Owner | None) -> Theme:
    """Put every idea of ``other_id`` into ``keep_id`` for good; the other theme's page then
    leads to the kept one."""
    if keep_id == other_id:
        raise ThemeError("A theme cannot be merged with itself.")
    lock(session)
    keep, other = _theme(session, keep_id), _theme(session, other_id)
    if keep.topic_id != other.topic_id:
        raise ThemeError("Themes of different topics cannot be merged; move the ideas first.")
    session.execute(
        sa.update(ThemeMember)
        .where(ThemeMember.theme_id.in_((keep.id, other.id)))
        .values(theme_id=keep.id, pinned=True)
    )
    other.merged_into_id = keep.id
    session.execute(
        sa.update(Theme).where(Theme.merged_into_id == other.id).values(merged_into_id=keep.id)
    )
    keep.closed = keep.closed and other.closed
    if other.label_by_owner and not keep.label_by_owner:
        keep.label, keep.label_by_owner = other.label, True
    moderation.record(
        session,
        None,
        by,
        "themes_merged",
        f"#{other.id} {other.label}",
        f"#{keep.id} {keep.label}",
    )
    return keep


def move(session: Session, idea_id: int, theme_id: int, by: Owner | None) -> Theme:
    """Pin an idea to another theme of its topic."""
    member = _member(session, idea_id)
    theme = _theme(session, theme_id)
    item = session.get(Submission, idea_id)
    if theme.topic_id != item.topic_id:
        raise ThemeError("An idea can only join a theme of its own topic.")
    moderation.record(session, item, by, "theme_moved", f"#{member.theme_id}", f"#{theme.id}")
    # The idea joins the theme as the owner saw it: its members stay, so the newcomer's old
    # neighbours cannot follow it in and take the theme over at the next computation.
    session.execute(
        sa.update(ThemeMember).where(ThemeMember.theme_id == theme.id).values(pinned=True)
    )
    _leave(session, member, theme.id)
    return theme


def split(session: Session, idea_id: int, by: Owner | None) -> Theme:
    """Take an idea out on its own: a new theme that only ideas pinned to it join."""
    member = _member(session, idea_id)
    item = session.get(Submission, idea_id)
    theme = Theme(
        topic_id=item.topic_id,
        label=_fit_label(engine.label_of(item.title, item.body)),
        keywords=_fit_keywords(engine.keywords_of(item.title, item.body)),
        representative_id=item.id,
        closed=True,
    )
    session.add(theme)
    session.flush()
    moderation.record(session, item, by, "theme_split", f"#{member.theme_id}", f"#{theme.id}")
    _leave(session, member, theme.id)
    return theme


def decide_duplicate(
    session: Session, idea_id: int, duplicate_of: int, confirm: bool, by: Owner | None
) -> DuplicatePair:
    """Confirm ("the same idea") or dismiss ("not the same") a suggested pair, for good."""
    lock(session)
    pair = session.scalars(
        sa.select(DuplicatePair).where(
            DuplicatePair.submission_id == idea_id, DuplicatePair.duplicate_of_id == duplicate_of
        )
    ).first()
    if pair is None:
        raise ThemeError(f"Idea #{idea_id} is not suggested as a duplicate of #{duplicate_of}.")
    pair.state = DuplicateState.CONFIRMED if confirm else DuplicateState.DISMISSED
    pair.decided_by = by.email if by is not None else moderation.COMMAND_LINE
    pair.decided_at = utcnow()
    item = session.get(Submission, idea_id)
    action = "duplicate_confirmed" if confirm else "duplicate_dismissed"
    moderation.record(session, item, by, action, None, f"#{duplicate_of}")
    return pair


# Reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """A theme as the owner's pages, the digest and ``flask themes list`` show it."""

    id: int
    topic_id: int
    label: str
    keywords: list[str]
    representative_id: int | None
    ideas: list[int]
    public: int
    private: int
    votes: int
    closed: bool
    label_by_owner: bool

    @property
    def count(self) -> int:
        return self.public + self.private


def summaries(session: Session, idea_ids: Iterable[int] | None = None) -> list[Summary]:
    """Every theme with members in themes (or only members among ``idea_ids``), largest first."""
    query = (
        sa.select(
            ThemeMember.theme_id,
            Submission.id,
            Submission.visibility,
            Submission.status,
            Submission.vote_count,
        )
        .join(Submission, Submission.id == ThemeMember.submission_id)
        .where(_in_themes())
        .order_by(Submission.id)
    )
    if idea_ids is not None:
        query = query.where(Submission.id.in_(list(idea_ids)))
    members: dict[int, list] = defaultdict(list)
    for row in session.execute(query):
        members[row.theme_id].append(row)
    themes = session.scalars(
        sa.select(Theme).where(Theme.id.in_(query.with_only_columns(ThemeMember.theme_id)))
    )
    result = []
    for theme in themes:
        rows = members[theme.id]
        channels = Counter(r.visibility for r in rows)
        result.append(
            Summary(
                id=theme.id,
                topic_id=theme.topic_id,
                label=theme.label,
                keywords=theme.keyword_list,
                representative_id=theme.representative_id,
                ideas=[r.id for r in rows],
                public=channels[Visibility.PUBLIC],
                private=channels[Visibility.PRIVATE],
                votes=sum(
                    r.vote_count
                    for r in rows
                    if r.visibility is Visibility.PUBLIC and r.status is Status.APPROVED
                ),
                closed=theme.closed,
                label_by_owner=theme.label_by_owner,
            )
        )
    result.sort(key=lambda s: (-s.count, s.label, s.id))
    return result


def duplicates(session: Session, idea_ids: Iterable[int] | None = None) -> list[DuplicatePair]:
    """Suggested and confirmed pairs (dismissed ones are decided: not the same)."""
    query = (
        sa.select(DuplicatePair)
        .where(DuplicatePair.state != DuplicateState.DISMISSED)
        .order_by(DuplicatePair.submission_id, DuplicatePair.duplicate_of_id)
    )
    if idea_ids is not None:
        ids = list(idea_ids)
        query = query.where(DuplicatePair.submission_id.in_(ids))
    return list(session.scalars(query))


def last_run(session: Session) -> ThemeRun | None:
    """The last computation that finished."""
    return session.scalars(
        sa.select(ThemeRun).where(ThemeRun.finished_at.is_not(None)).order_by(ThemeRun.id.desc())
    ).first()


def running(session: Session) -> ThemeRun | None:
    """The computation under way, in any process (one unfinished after STALE_RUN died)."""
    return session.scalars(
        sa.select(ThemeRun)
        .where(ThemeRun.finished_at.is_(None), ThemeRun.started_at > utcnow() - STALE_RUN)
        .order_by(ThemeRun.id.desc())
    ).first()


def idea_count(session: Session) -> int:
    """How many ideas a computation groups."""
    return session.scalar(sa.select(sa.func.count(Submission.id)).where(_in_themes()))


# theme pages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    """One page of the owner's themes list, with what it needs to show each theme."""

    page: Page[Summary]
    largest: list[Summary]  # the largest themes of all, for the chart
    titles: dict[int, str]  # representative idea id -> its shown title
    topics: dict[int, Topic]
    run: ThemeRun | None  # the last finished computation
    running: ThemeRun | None  # one under way
    waiting: int  # ideas in no theme yet: more came than are placed at once


def overview(session: Session, number: int, per_page: int, largest: int = 10) -> Overview:
    """Every theme largest first, one page of them, and the last computation."""
    themes = summaries(session)
    start = (number - 1) * per_page
    shown = themes[start : start + per_page]
    page = Page(shown, number, number > 1, len(themes) > start + per_page)
    representatives = [s.representative_id for s in shown if s.representative_id]
    found = session.scalars(sa.select(Submission).where(Submission.id.in_(representatives)))
    titles = {item.id: item.shown_title for item in found}
    return Overview(
        page=page,
        largest=themes[:largest],
        titles=titles,
        topics={t.id: t for t in list_topics(session)},
        run=last_run(session),
        running=running(session),
        waiting=waiting_count(session),
    )


@dataclass(frozen=True)
class Detail:
    """One theme as its owner page shows it."""

    theme: Theme
    summary: Summary | None  # None once every idea has left it
    members: list[tuple[Submission, ThemeMember]]  # most central first
    pairs: list[DuplicatePair]  # suggested and confirmed pairs touching its members
    others: list[tuple[Theme, int]]  # the topic's other themes with ideas, and how many


def detail(session: Session, theme: Theme) -> Detail:
    """A theme's members, why each is there, their near-duplicates and where they can go."""
    members = [
        (item, member)
        for item, member in session.execute(
            sa.select(Submission, ThemeMember)
            .join(ThemeMember, ThemeMember.submission_id == Submission.id)
            .where(ThemeMember.theme_id == theme.id, _in_themes())
            .order_by(ThemeMember.closeness.desc(), Submission.id)
        )
    ]
    ids = [item.id for item, _member in members]
    found = summaries(session, ids) if ids else []
    sizes = (
        sa.select(ThemeMember.theme_id, sa.func.count().label("n"))
        .join(Submission, Submission.id == ThemeMember.submission_id)
        .where(Submission.topic_id == theme.topic_id, _in_themes())
        .group_by(ThemeMember.theme_id)
        .subquery()
    )
    others = session.execute(
        sa.select(Theme, sizes.c.n)
        .join(sizes, sizes.c.theme_id == Theme.id)
        .where(
            Theme.topic_id == theme.topic_id,
            Theme.id != theme.id,
            Theme.merged_into_id.is_(None),
        )
        .order_by(sizes.c.n.desc(), Theme.label, Theme.id)
    ).all()
    return Detail(
        theme=theme,
        summary=found[0] if found else None,
        members=members,
        pairs=_pairs_touching(session, ids),
        others=[(other, n) for other, n in others],
    )


def _pairs_touching(session: Session, idea_ids: list[int]) -> list[DuplicatePair]:
    if not idea_ids:
        return []
    return list(
        session.scalars(
            sa.select(DuplicatePair)
            .where(
                DuplicatePair.state != DuplicateState.DISMISSED,
                sa.or_(
                    DuplicatePair.submission_id.in_(idea_ids),
                    DuplicatePair.duplicate_of_id.in_(idea_ids),
                ),
            )
            .order_by(DuplicatePair.submission_id, DuplicatePair.duplicate_of_id)
        )
    )


def pairs_by_idea(session: Session, idea_ids: Iterable[int]) -> dict[int, list[DuplicatePair]]:
    """Suggested and confirmed pairs of each of ``idea_ids``, on either side, in one query."""
    ids = list(idea_ids)
    found: dict[int, list[DuplicatePair]] = defaultdict(list)
    wanted = set(ids)
    for pair in _pairs_touching(session, ids):
        for side in (pair.submission_id, pair.duplicate_of_id):
            if side in wanted:
                found[side].append(pair)
    return dict(found)


def theme_of(session: Session, idea_id: int) -> Theme | None:
    """The theme an idea is in now; None for one in no theme (yet)."""
    return session.scalar(
        sa.select(Theme)
        .join(ThemeMember, ThemeMember.theme_id == Theme.id)
        .join(Submission, Submission.id == ThemeMember.submission_id)
        .where(ThemeMember.submission_id == idea_id, _in_themes())
    )
