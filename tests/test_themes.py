"""Themes in the database and on the command line: rebuild, list, the owner's decisions, and
a property test that every decision holds through new ideas and recomputations."""

import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback import moderation
from feedback.db import get_session
from feedback.models import (
    DuplicatePair,
    DuplicateState,
    Status,
    Submission,
    Theme,
    ThemeMember,
    ThemeRun,
    Topic,
    Visibility,
)
from feedback.themes import engine, store

WIFI = [
    ("Wi-Fi in the bloggers' lounge", "The bloggers' lounge needs decent Wi-Fi this year."),
    (None, "wifi please!! the wifi in the lounge was terrible"),
    (None, "Better wireless in the lounge for bloggers, the Wi-Fi kept dropping."),
]
SLIDES = [
    ("Post slides within a day", "Ask every speaker to upload slides within 24 hours."),
    (None, "Slides online within 24 hours of each talk, so we can link them."),
    ("Speaker slides", "Please post the speakers' slides online within a day of the talk."),
]
LONE = [("Vegetarian lunch", "Vegetarian and vegan lunch options, clearly labelled.")]


@pytest.fixture
def ideas(make_submission):
    """Seven ideas in three themes; returns their ids by group."""

    def add(group):
        return [make_submission(title=t, body=b) for t, b in group]

    return {"wifi": add(WIFI), "slides": add(SLIDES), "lone": add(LONE)}


def _theme_of(app) -> dict[int, int]:
    with app.app_context():
        return dict(
            get_session().execute(sa.select(ThemeMember.submission_id, ThemeMember.theme_id)).all()
        )


def _list(runner) -> dict:
    result = runner.invoke(args=["themes", "list", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_rebuild_puts_every_idea_in_one_theme_and_records_the_run(app, runner, ideas):
    result = runner.invoke(args=["themes", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "7 ideas in 3 themes" in result.output
    listing = _list(runner)
    groups = sorted(sorted(t["ideas"]) for t in listing["themes"])
    assert groups == sorted([ideas["wifi"], ideas["slides"], ideas["lone"]])
    for theme in listing["themes"]:
        assert set(theme) == {"id", "label", "keywords", "ideas"}
        assert isinstance(theme["id"], int) and theme["label"]
    assert listing["duplicates"] == []
    with app.app_context():
        run = get_session().scalars(sa.select(ThemeRun)).one()
        assert (run.ideas, run.themes) == (7, 3) and run.finished_at is not None
        assert json.loads(run.params)["version"] == engine.VERSION


def test_spam_rejected_and_withdrawn_ideas_belong_to_no_theme(app, runner, make_submission):
    kept = make_submission(body="Wi-Fi in the lounge, please.", status=Status.PENDING)
    for status in (Status.SPAM, Status.REJECTED, Status.WITHDRAWN):
        make_submission(body="Wi-Fi in the lounge, please!", status=status)
    runner.invoke(args=["themes", "rebuild"])
    assert [t["ideas"] for t in _list(runner)["themes"]] == [[kept]]


def test_a_new_idea_is_placed_in_the_nearest_theme_without_a_rebuild(
    app, runner, ideas, make_submission
):
    runner.invoke(args=["themes", "rebuild"])
    newcomer = make_submission(body="The lounge wifi was so slow, fix the Wi-Fi for bloggers")
    alone = make_submission(body="Childcare for parents who attend with small children")
    theme_of = {i: t["id"] for t in _list(runner)["themes"] for i in t["ideas"]}
    assert theme_of[newcomer] == theme_of[ideas["wifi"][0]]
    assert theme_of[alone] not in {theme_of[i] for group in ideas.values() for i in group}


def test_duplicates_are_suggested_then_decided_for_good(app, runner, make_submission):
    first = make_submission(body="Please record every session and put the videos online.")
    again = make_submission(body="Please record every session and put the videos online!!")
    runner.invoke(args=["themes", "rebuild"])
    assert _list(runner)["duplicates"] == [
        {"idea": again, "duplicate_of": first, "confirmed": False}
    ]
    with app.app_context():
        session = get_session()
        store.decide_duplicate(session, again, first, confirm=False, by=None)
        session.commit()
    runner.invoke(args=["themes", "rebuild"])
    assert _list(runner)["duplicates"] == []
    with app.app_context():
        pair = get_session().scalars(sa.select(DuplicatePair)).one()
        assert pair.state is DuplicateState.DISMISSED


def test_rename_merge_split_on_the_command_line_survive_a_rebuild(app, runner, ideas):
    runner.invoke(args=["themes", "rebuild"])
    theme_of = _theme_of(app)
    wifi, slides = theme_of[ideas["wifi"][0]], theme_of[ideas["slides"][0]]
    # Line breaks and runs of spaces fold into one space.
    result = runner.invoke(args=["themes", "rename", str(wifi), " Wireless\r\nfor  bloggers"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["themes", "merge", str(wifi), str(slides)])
    assert result.exit_code == 0, result.output
    lone = ideas["wifi"][1]
    result = runner.invoke(args=["themes", "split", str(lone)])
    assert result.exit_code == 0, result.output
    runner.invoke(args=["themes", "rebuild"])
    listing = {t["id"]: t for t in _list(runner)["themes"]}
    assert listing[wifi]["label"] == "Wireless for bloggers"
    assert set(listing[wifi]["ideas"]) == set(ideas["wifi"] + ideas["slides"]) - {lone}
    split_theme = _theme_of(app)[lone]
    assert listing[split_theme]["ideas"] == [lone]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["merge", "1", "1"], "cannot be merged with itself"),
        (["merge", "1", "999999"], "There is no theme #999999."),
        (["merge", "x", "1"], "is not a valid integer"),
        (["merge", "1", "0"], "is not in the range"),
        (["split", "99999999999999999999"], "is not in the range"),
        (["split", "424242"], "Idea #424242 is in no theme"),
        (["rename", "1", ""], "A label is 1 to 120 characters on one line."),
        (["rename", "1", "x" * 121], "A label is 1 to 120 characters on one line."),
        (["rename", "1", "bidi \u202e override"], "A label is 1 to 120 characters on one line."),
        (["rename", "1", "nul\x00"], "A label is 1 to 120 characters on one line."),
        (["rename", "999999", "fine"], "There is no theme #999999."),
    ],
)
def test_bad_command_arguments_get_a_clear_message(app, runner, ideas, args, message):
    runner.invoke(args=["themes", "rebuild"])
    if args[0] == "merge" and args[1:] == ["1", "1"]:
        args = ["merge", *[str(min(_theme_of(app).values()))] * 2]
    result = runner.invoke(args=["themes", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_merging_themes_of_two_topics_is_refused(app, runner, make_submission):
    with app.app_context():
        topics = get_session().scalars(sa.select(Topic.id).order_by(Topic.position)).all()
    a = make_submission(body="Wi-Fi in the lounge", topic_id=topics[0])
    b = make_submission(body="Slides online within a day", topic_id=topics[1])
    runner.invoke(args=["themes", "rebuild"])
    theme_of = _theme_of(app)
    result = runner.invoke(args=["themes", "merge", str(theme_of[a]), str(theme_of[b])])
    assert result.exit_code == 1
    assert "different topics" in result.output


# A property test: random owner decisions, new ideas and recomputations in any order.

POOL = [body for _title, body in WIFI + SLIDES + LONE] + [
    "Power strips at every table in the bloggers' lounge.",
    "Record every session and put the videos online.",
    "Session recordings online for those who could not attend.",
    "A quiet room without vendors to write up notes.",
]
STEP = st.one_of(
    st.tuples(st.just("add"), st.integers(0, len(POOL) - 1), st.integers(0, 1)),
    st.tuples(st.just("rebuild")),
    st.tuples(st.just("merge"), st.integers(0, 50), st.integers(0, 50)),
    st.tuples(st.just("move"), st.integers(0, 50), st.integers(0, 50)),
    st.tuples(st.just("split"), st.integers(0, 50)),
    st.tuples(st.just("rename"), st.integers(0, 50), st.sampled_from(["Power", "Slides!"])),
    st.tuples(st.just("decide"), st.integers(0, 50), st.booleans()),
)


class Expected:
    """What the owner decided, to check after every step."""

    def __init__(self) -> None:
        self.pins: dict[int, int] = {}
        self.labels: dict[int, str] = {}
        self.merged: dict[int, int] = {}
        self.alone: set[int] = set()
        self.pairs: dict[tuple[int, int], DuplicateState] = {}

    def resolve(self, theme: int) -> int:
        while theme in self.merged:
            theme = self.merged[theme]
        return theme

    def check(self, session) -> None:
        theme_of = dict(
            session.execute(sa.select(ThemeMember.submission_id, ThemeMember.theme_id)).all()
        )
        eligible = session.scalars(sa.select(Submission.id)).all()
        assert sorted(theme_of) == sorted(eligible)  # every idea in exactly one theme
        for idea, theme in self.pins.items():
            assert theme_of[idea] == self.resolve(theme), (idea, theme)
        for theme, label in self.labels.items():
            # A renamed theme lives while it has members (the owner may move them all out).
            if self.resolve(theme) in theme_of.values():
                assert session.get(Theme, self.resolve(theme)).label == label
        for theme in {theme_of[i] for i in self.alone}:
            members = [i for i, t in theme_of.items() if t == theme]
            assert all(i in self.pins for i in members), members
        for (idea, other), state in self.pairs.items():
            pair = session.scalars(
                sa.select(DuplicatePair).where(
                    DuplicatePair.submission_id == idea, DuplicatePair.duplicate_of_id == other
                )
            ).one()
            assert pair.state is state


def _pick(items: list, n: int):
    return items[n % len(items)] if items else None


def _run(session, step, topics, expected: Expected) -> None:
    kind = step[0]
    themes = session.scalars(
        sa.select(Theme).where(Theme.merged_into_id.is_(None)).order_by(Theme.id)
    ).all()
    ideas = session.scalars(sa.select(Submission).order_by(Submission.id)).all()
    if kind == "add":
        session.add(
            Submission(
                visibility="public",
                status=Status.APPROVED,
                author_name="Reader",
                email="r@example.org",
                topic_id=topics[step[2]],
                body=POOL[step[1]],
                manage_token_hash=f"h{len(ideas)}-{step}",
                content_hash="x",
            )
        )
    elif kind == "rebuild":
        store.rebuild(session)
    elif kind == "merge" and themes:
        keep, other = _pick(themes, step[1]), _pick(themes, step[2])
        if keep.id != other.id and keep.topic_id == other.topic_id:
            members = session.scalars(
                sa.select(ThemeMember.submission_id).where(
                    ThemeMember.theme_id.in_((keep.id, other.id))
                )
            ).all()
            store.merge(session, keep.id, other.id, None)
            expected.merged[other.id] = keep.id
            # The kept theme's name wins; if only the other had one, the kept theme takes it.
            renamed = expected.labels.pop(other.id, None)
            if renamed is not None:
                expected.labels.setdefault(keep.id, renamed)
            expected.pins.update({m: keep.id for m in members})
            expected.alone -= set(members)
    elif kind == "move" and themes and ideas:
        idea, theme = _pick(ideas, step[1]), _pick(themes, step[2])
        if idea.topic_id == theme.topic_id:
            store.move(session, idea.id, theme.id, None)
            expected.pins[idea.id] = theme.id
            expected.alone.discard(idea.id)
    elif kind == "split" and ideas:
        idea = _pick(ideas, step[1])
        theme = store.split(session, idea.id, None)
        expected.pins[idea.id] = theme.id
        expected.alone.add(idea.id)
    elif kind == "rename" and themes:
        theme = _pick(themes, step[1])
        members = session.scalars(
            sa.select(ThemeMember.submission_id).where(ThemeMember.theme_id == theme.id)
        ).all()
        store.rename(session, theme.id, step[2], None)
        expected.labels[theme.id] = step[2]
        expected.pins.update({m: theme.id for m in members if m not in expected.pins})
    elif kind == "decide":
        pairs = session.scalars(
            sa.select(DuplicatePair)
            .where(DuplicatePair.state == DuplicateState.SUGGESTED)
            .order_by(DuplicatePair.id)
        ).all()
        pair = _pick(pairs, step[1])
        if pair is not None:
            store.decide_duplicate(
                session, pair.submission_id, pair.duplicate_of_id, step[2], None
            )
            expected.pairs[(pair.submission_id, pair.duplicate_of_id)] = (
                DuplicateState.CONFIRMED if step[2] else DuplicateState.DISMISSED
            )
    session.flush()
    store.place_new(session)
    session.flush()


def _clear(session) -> None:
    for model in (DuplicatePair, ThemeMember, ThemeRun):
        session.execute(sa.delete(model))
    session.execute(sa.update(Theme).values(merged_into_id=None, representative_id=None))
    session.execute(sa.delete(Theme))
    session.execute(sa.delete(Submission))
    session.commit()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=4, max_size=15))
def test_every_owner_decision_holds_through_new_ideas_and_recomputations(app, steps):
    with app.app_context():
        session = get_session()
        _clear(session)
        topics = session.scalars(sa.select(Topic.id).order_by(Topic.position)).all()[:2]
        expected = Expected()
        for step in [("add", 0, 0), ("add", 1, 0), ("add", 4, 1), *steps, ("rebuild",)]:
            _run(session, step, topics, expected)
            expected.check(session)
            session.commit()


def test_a_backup_keeps_themes_and_decisions_even_a_merge_into_a_newer_theme(
    app, runner, ideas, tmp_path
):
    runner.invoke(args=["themes", "rebuild"])
    theme_of = _theme_of(app)
    older, newer = sorted({theme_of[ideas["wifi"][0]], theme_of[ideas["slides"][0]]})
    assert runner.invoke(args=["themes", "merge", str(newer), str(older)]).exit_code == 0
    before = _list(runner)
    path = tmp_path / "backup.json"
    assert runner.invoke(args=["export-all", str(path)]).exit_code == 0
    result = runner.invoke(args=["import-all", str(path), "--replace"])
    assert result.exit_code == 0, result.output
    assert _list(runner) == before
    with app.app_context():
        assert get_session().get(Theme, older).merged_into_id == newer


def test_a_digest_without_private_notes_takes_no_words_from_them(app, runner, make_submission):
    secret = make_submission(
        title="Wifi broke during my HIV clinic demo",
        body="The wifi broke during my HIV clinic demo in the lounge.",
        visibility=Visibility.PRIVATE,
        status=Status.PENDING,
    )
    runner.invoke(args=["themes", "rebuild"])
    make_submission(body="Better wifi in the lounge, please, the wifi kept dropping.")
    make_submission(body="The lounge wifi was slow again; more wifi access points.")
    theme_of = _theme_of(app) | {i["ideas"][0]: i["id"] for i in _list(runner)["themes"]}
    assert len(set(theme_of.values())) == 1, "the three share one theme"
    for fmt in ("md", "json", "csv", "txt", "html"):
        result = runner.invoke(args=["digest", "export", "--format", fmt, "--no-private"])
        assert result.exit_code == 0, result.output
        assert "hiv" not in result.output.casefold(), fmt
        assert "clinic" not in result.output.casefold(), fmt
    with_private = runner.invoke(args=["digest", "export", "--format", "md"])
    assert "HIV" in with_private.output and secret


def test_an_owner_decision_made_during_a_rebuild_holds(app, runner, ideas, monkeypatch):
    runner.invoke(args=["themes", "rebuild"])
    theme_of = _theme_of(app)
    wifi, slides = theme_of[ideas["wifi"][0]], theme_of[ideas["slides"][0]]
    computing = engine.compute
    decided = []

    def compute_while_the_owner_merges(*args, **kwargs):
        if not decided:
            # Another connection: the owner's page, while the computation runs.
            other = sa.orm.Session(get_session().get_bind())
            store.merge(other, wifi, slides, None)
            other.commit()
            other.close()
            decided.append(True)
        return computing(*args, **kwargs)

    monkeypatch.setattr(engine, "compute", compute_while_the_owner_merges)
    with app.app_context():
        store.rebuild(get_session())
    after = _theme_of(app)
    assert {after[i] for i in ideas["wifi"] + ideas["slides"]} == {wifi}
    with app.app_context():
        assert get_session().get(Theme, slides).merged_into_id == wifi


def test_an_idea_moved_to_another_topic_leaves_its_theme(app, runner, ideas, make_submission):
    runner.invoke(args=["themes", "rebuild"])
    with app.app_context():
        session = get_session()
        other_topic = session.scalars(sa.select(Topic).order_by(Topic.position.desc())).first()
        moved = session.get(Submission, ideas["wifi"][0])
        moderation.set_topic(session, moved, other_topic, None)
        session.commit()
    newcomer = make_submission(
        body="The bloggers' lounge needs decent Wi-Fi this year.", topic_id=other_topic.id
    )
    listing = _list(runner)
    theme_of = {i: t["id"] for t in listing["themes"] for i in t["ideas"]}
    assert theme_of[newcomer] == theme_of[ideas["wifi"][0]]
    assert theme_of[ideas["wifi"][0]] != theme_of[ideas["wifi"][1]]
    with app.app_context():
        session = get_session()
        assert session.get(Theme, theme_of[newcomer]).topic_id == other_topic.id


def test_a_pinned_idea_marked_spam_and_restored_is_back_where_the_owner_put_it(app, runner, ideas):
    runner.invoke(args=["themes", "rebuild"])
    lone = ideas["wifi"][1]
    runner.invoke(args=["themes", "split", str(lone)])
    alone = _theme_of(app)[lone]
    with app.app_context():
        session = get_session()
        session.get(Submission, lone).status = Status.SPAM
        session.commit()
    runner.invoke(args=["themes", "rebuild"])
    with app.app_context():
        session = get_session()
        session.get(Submission, lone).status = Status.APPROVED
        session.commit()
    runner.invoke(args=["themes", "rebuild"])
    assert _theme_of(app)[lone] == alone
    assert [t["ideas"] for t in _list(runner)["themes"] if t["id"] == alone] == [[lone]]


def test_a_new_copy_of_an_idea_is_suggested_as_its_duplicate_without_a_rebuild(
    app, runner, ideas, make_submission
):
    runner.invoke(args=["themes", "rebuild"])
    first = ideas["slides"][0]
    copy = make_submission(title=SLIDES[0][0], body=SLIDES[0][1] + " Thanks!")
    assert {"idea": copy, "duplicate_of": first, "confirmed": False} in _list(runner)["duplicates"]


def test_a_rebuild_computes_again_while_owners_keep_deciding(app, runner, ideas, monkeypatch):
    runner.invoke(args=["themes", "rebuild"])
    wifi = _theme_of(app)[ideas["wifi"][0]]
    computing = engine.compute
    calls = []

    def compute_while_the_owner_renames(*args, **kwargs):
        calls.append(True)
        if len(calls) < store.ATTEMPTS:
            other = sa.orm.Session(get_session().get_bind())
            store.rename(other, wifi, f"Name {len(calls)}", None)
            other.commit()
            other.close()
        return computing(*args, **kwargs)

    monkeypatch.setattr(engine, "compute", compute_while_the_owner_renames)
    with app.app_context():
        run = store.rebuild(get_session())
        assert run.ideas == 7
    assert len(calls) == store.ATTEMPTS
    listing = {t["id"]: t for t in _list(runner)["themes"]}
    assert listing[wifi]["label"] == f"Name {store.ATTEMPTS - 1}"
    assert set(listing[wifi]["ideas"]) == set(ideas["wifi"])
