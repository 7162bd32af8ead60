"""The theme engine on plain data: determinism, duplicates without chains, owner decisions,
and the quality floor on the hand-labelled set."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedback.themes import engine, quality, text

START = datetime(2026, 3, 1, tzinfo=UTC)
LABELLED = Path(__file__).parent / "data" / "labelled_ideas.toml"

TEXTS = [
    (1, "Wi-Fi in the bloggers' lounge", "The bloggers' lounge needs decent Wi-Fi this year."),
    (1, None, "wifi please!! the wifi in the lounge was terrible"),
    (1, None, "Better wireless in the lounge for bloggers, the Wi-Fi kept dropping."),
    (1, "Power strips", "Power strips at every table in the bloggers' lounge."),
    (1, None, "More power outlets and power strips near the lounge tables please"),
    (2, "Post slides within a day", "Ask every speaker to upload slides within 24 hours."),
    (2, None, "Slides online within 24 hours of each talk, so we can link them."),
    (2, "Speaker slides", "Please post the speakers' slides online within a day of the talk."),
    (2, "Record the sessions", "Record every session and put the videos online."),
    (2, None, "Session recordings online for those of us who could not attend"),
]


def ideas(order=None, ids=None) -> list[engine.Idea]:
    order = order or list(range(len(TEXTS)))
    ids = ids or [n + 1 for n in range(len(TEXTS))]
    return [
        engine.Idea(ids[k], TEXTS[n][0], TEXTS[n][1], TEXTS[n][2], START + timedelta(hours=k))
        for k, n in enumerate(order)
    ]


def _by_text(result: engine.Result, batch: list[engine.Idea]):
    body = {i.id: i.body for i in batch}
    return sorted(
        (t.label, t.keywords, tuple(sorted(body[m] for m in t.members))) for t in result.themes
    )


def test_themes_group_ideas_that_ask_for_the_same_thing():
    result = engine.compute(ideas())
    theme_of = {m: t.members for t in result.themes for m in t.members}
    assert {1, 2, 3} <= set(theme_of[1])
    assert {6, 7, 8} <= set(theme_of[6])
    assert {9, 10} <= set(theme_of[9])
    assert theme_of[1] != theme_of[6]
    # Topics never mix, and every idea is in exactly one theme.
    assert sorted(m for t in result.themes for m in t.members) == list(range(1, 11))
    for t in result.themes:
        assert len({TEXTS[m - 1][0] for m in t.members}) == 1
        assert 3 <= len(t.keywords) <= 5 or len(t.members) == 1
        assert t.representative in t.members


def test_the_same_ideas_in_another_order_give_the_same_themes_and_labels():
    first = ideas()
    expected = _by_text(engine.compute(first), first)
    rng = random.Random(7)
    for _ in range(5):
        order = list(range(len(TEXTS)))
        rng.shuffle(order)
        ids = rng.sample(range(100, 999), len(TEXTS))
        batch = ideas(order, ids)
        assert _by_text(engine.compute(batch), batch) == expected


def test_near_duplicates_point_at_the_first_idea_and_never_chain():
    base = "Please record every session and put the videos online the same day."
    batch = [
        engine.Idea(1, 1, None, base, START),
        engine.Idea(2, 1, None, base + " Thanks!", START + timedelta(hours=1)),
        engine.Idea(3, 1, "Recordings", base.replace("videos", "video"), START + timedelta(2)),
        engine.Idea(4, 1, None, "Free coffee in the afternoon, please.", START + timedelta(3)),
    ]
    result = engine.compute(batch)
    assert {(d.idea, d.duplicate_of) for d in result.duplicates} == {(2, 1), (3, 1)}
    why = next(d for d in result.duplicates if d.idea == 2)
    assert {"record", "session", "videos"} <= set(why.shared)
    assert why.similarity > 0.8 and not why.confirmed


def test_ideas_sharing_words_but_asking_different_things_are_not_duplicates():
    batch = [
        engine.Idea(1, 1, None, "Power strips in the bloggers' lounge, please.", START),
        engine.Idea(2, 1, None, "A session on power users of the EHR, please.", START),
    ]
    assert engine.compute(batch).duplicates == []


def test_the_owners_decisions_hold():
    batch = ideas()
    first = engine.compute(batch)
    wifi = next(t for t in first.themes if 1 in t.members)
    decided = engine.Decisions(
        # Idea 9 (recordings) pinned to theme 500 with the slides ideas; 4 alone in closed 600.
        pins={9: 500, 6: 500, 7: 500, 8: 500, 4: 600},
        closed=frozenset({600}),
        confirmed={3: 1},
        dismissed=frozenset({engine.pair(2, 1)}),
    )
    previous = {m: 77 for m in wifi.members}
    result = engine.compute(batch, decided, previous)
    theme_of = {m: t for t in result.themes for m in t.members}
    assert theme_of[9].id == 500 and set(theme_of[9].members) >= {6, 7, 8, 9}
    assert theme_of[4].id == 600 and theme_of[4].members == (4,)
    assert theme_of[1].id == 77  # the wifi theme continues under its old id
    pairs = {(d.idea, d.duplicate_of): d.confirmed for d in result.duplicates}
    assert pairs.get((3, 1)) is True
    assert (2, 1) not in pairs


def test_a_new_idea_joins_the_nearest_theme_or_none():
    placer = engine.Placer([(10, t, b) for _topic, t, b in TEXTS[:3]], engine.DEFAULTS)
    assert placer.nearest(None, "The wifi in the bloggers lounge is too slow") == 10
    assert placer.nearest(None, "Vegetarian lunch options would be welcome") is None
    placer.add(11, None, "Vegetarian lunch options would be welcome")
    assert placer.nearest(None, "more vegetarian options at lunch") == 11


@pytest.mark.parametrize(
    "body", ["", " ", "<script>alert(1)</script>", "\x00\x01", "a" * 20_000, "🙂" * 50]
)
def test_odd_texts_never_break_a_computation(body):
    batch = [engine.Idea(1, 1, None, body, START), *ideas()[1:]]
    result = engine.compute(batch)
    assert sorted(m for t in result.themes for m in t.members) == list(range(1, 11))


def test_text_features_join_spellings_and_drop_links():
    read = text.tokenised([(None, "Wi-Fi, WiFi and wi-fi at https://wifi.example/x or me@x.org")])
    assert read.words_of(0) == [
        "wifi",
        "wifi",
        "wifi",
    ]


def test_quality_on_the_labelled_set_stays_above_the_floor():
    labelled = quality.load(LABELLED)
    scores = quality.score(labelled, engine.compute(labelled.ideas))
    assert scores.duplicate_precision >= 0.95, scores
    assert scores.duplicate_recall >= 0.8, scores
    # The target is 0.75; words and the concept groups reach 0.68 (see the README).
    assert scores.theme_f1 >= 0.65, scores
