"""The owner's text search through its index (SQLite FTS5 trigram, PostgreSQL pg_trgm): the
same results as the plain LIKE scan it replaced, kept in step with every change, used by the
database, and safe with hostile text."""

import random

import pytest
import sqlalchemy as sa

from feedback import text_search
from feedback.db import get_engine, get_session
from feedback.models import Status, Submission
from feedback.queue_filters import Filters, page

WORDS = (
    "Wi-Fi wifi WIFI power strips lounge bloggers Café café CAFÉ naïve Straße Ünïcode "
    "coffee 100% 10_000 50%off under_score \"quoted\" 'single' O'Brien AND OR NOT NEAR * ^ : "
    "( ) {col} - + slides recordings badge-handles e-mail grace@example.org ünï ǅ ﬁ 日本語 "
    "emoji🙂 tab\tand\nnewline"
).split(" ")
QUERIES = [
    "wifi", "WIFI", "Wi-Fi", "wi", "w", "café", "CAFÉ", "Café", "naïve", "straße", "STRASSE",
    "100%", "%", "_", "10_0", "50%o", '"quoted"', '"', "'", "O'Brien", "AND", "OR NOT",
    "NEAR", "*", "^", ":", "(", "{col}", "- +", "slides re", "badge-h", "e-mail", "@example",
    "grace@example.org", "ǅ", "ﬁ", "日本", "🙂", "tab\tand", "lounge bloggers", "x" * 200,
    "zzz-nothing", "ünï", "ÜNÏ",
]  # fmt: skip


def _plain(text: str) -> sa.ColumnElement[bool]:
    """Today's rule without the index: the LIKE scan the queue used before."""
    return sa.or_(
        *(getattr(Submission, c).icontains(text, autoescape=True) for c in text_search.COLUMNS)
    )


def _ids(session, condition) -> list[int]:
    return session.scalars(sa.select(Submission.id).where(condition).order_by(Submission.id)).all()


@pytest.fixture
def varied(make_submission) -> list[int]:
    rng = random.Random(11)
    ids = []
    for n in range(150):
        words = rng.sample(WORDS, 6)
        ids.append(
            make_submission(
                author_name=" ".join(rng.sample(WORDS, 2)) if n % 3 else "Reader",
                email=f"{rng.choice(WORDS).lower()}@example.net" if n % 4 else "",
                title=" ".join(rng.sample(WORDS, 3)) if n % 2 else None,
                body=" ".join(words),
                status=rng.choice(list(Status)),
            )
        )
    return ids


def test_the_index_gives_the_same_results_as_the_like_scan(app, varied):
    with app.app_context():
        session = get_session()
        found_any = 0
        for query in QUERIES:
            expected = _ids(session, _plain(query))
            assert _ids(session, text_search.matches(query)) == expected, query
            found_any += bool(expected)
        # The set is varied enough to match most queries somewhere.
        assert found_any >= len(QUERIES) - 8


def test_the_queue_finds_through_the_index_with_its_other_filters(app, varied):
    with app.app_context():
        session = get_session()
        for query in ("wifi", "café", "100%", "O'Brien"):
            filters = Filters(status=Status.APPROVED, text=query, oldest_first=False)
            shown = [item.id for item in page(session, filters, 1, 500).items]
            expected = _ids(session, sa.and_(_plain(query), Submission.status == Status.APPROVED))
            assert sorted(shown) == expected


def test_the_index_follows_every_change(app, make_submission):
    first = make_submission(title="Power strips", body="Power strips in the lounge, please.")
    second = make_submission(body="Faster Wi-Fi in the hall.", author_name="Ada Lovelace")
    with app.app_context():
        session = get_session()
        assert _ids(session, text_search.matches("strips")) == [first]
        item = session.get(Submission, first)
        item.body = "Comfortable chairs in the lounge."
        item.title = "Chairs"
        session.get(Submission, second).author_name = "Grace Hopper"
        session.commit()
        assert _ids(session, text_search.matches("strips")) == []
        assert _ids(session, text_search.matches("chairs")) == [first]
        assert _ids(session, text_search.matches("lovelace")) == []
        assert _ids(session, text_search.matches("hopper")) == [second]
        session.delete(session.get(Submission, first))
        session.commit()
        assert _ids(session, text_search.matches("chairs")) == []
        session.commit()
    third = make_submission(body="Chairs again, and more of them.")
    with app.app_context():
        session = get_session()
        assert _ids(session, text_search.matches("chairs")) == [third]


def test_the_database_searches_through_the_index(app, varied):
    with app.app_context():
        session = get_session()
        statement = sa.select(Submission.id).where(text_search.matches("wifi"))
        compiled = statement.compile(get_engine(), compile_kwargs={"literal_binds": True})
        if get_engine().dialect.name == "sqlite":
            plan = " ".join(
                str(row) for row in session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
            assert "VIRTUAL TABLE INDEX" in plan
            # The matching rows are looked up by id, not found by reading the whole table.
            assert "SCAN submissions" not in plan
        else:
            # A small table is cheaper to scan; without that choice the index must serve.
            session.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in session.execute(sa.text(f"EXPLAIN {compiled}")))
            assert "ix_submissions_body_trigram" in plan
        session.rollback()


def test_short_text_is_searched_without_the_index(app, make_submission):
    item = make_submission(body="A QA session for every talk.")
    with app.app_context():
        session = get_session()
        assert _ids(session, text_search.matches("qa")) == [item]
        assert _ids(session, text_search.matches("q")) == [item]
