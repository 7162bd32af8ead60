"""Milliseconds of the owner's text search in the queue with N ideas stored, on SQLite and
PostgreSQL, next to the LIKE scan it replaced, measured on the same data in the same run.

    .venv/bin/python bench/queue_search.py --count 100000 [--postgres URL]

A search in the queue is what the owner waits for: its first page (``queue_filters.page``)
and the count on each status tab (``queue_filters.status_counts``). The baseline runs the
same two statements with only the LIKE test (``text_search.contains``) and no index (on
PostgreSQL, index scans are turned off for it: ILIKE would use the trigram indexes).
PostgreSQL is measured in the database given by ``--postgres`` (emptied first).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.front_page import fill  # noqa: E402
from feedback import create_app, queue_filters, text_search  # noqa: E402
from feedback.db import get_engine, get_session, paginate  # noqa: E402
from feedback.models import Status, Submission  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PER_PAGE = 25
# What an owner looks for: a title, a name, an address, a word in every idea, nothing.
SEARCHES = ["number 4242", "Reader 777", "reader31337@example", "power strips", "quantum"]
TARGET_MS = 30


def _timed(run, repeat: int) -> float:
    """Median milliseconds of ``run()``, after one run that warms the caches."""
    run()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def _indexed(session, text: str):
    filters = queue_filters.Filters(status=Status.APPROVED, text=text, oldest_first=False)
    return lambda: (
        queue_filters.page(session, filters, 1, PER_PAGE),
        queue_filters.status_counts(session, filters),
    )


def _scanned(session, text: str):
    if session.get_bind().dialect.name == "postgresql":
        # ILIKE would use the trigram indexes: for this transaction, as before they existed.
        session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
        session.execute(sa.text("SET LOCAL enable_indexscan = off"))
    found = sa.select(Submission).where(text_search.contains(text))
    newest = found.where(Submission.status == Status.APPROVED).order_by(
        Submission.created_at.desc(), Submission.id.desc()
    )
    inner = found.subquery()
    counts = sa.select(inner.c.status, sa.func.count()).group_by(inner.c.status)
    return lambda: (paginate(session, newest, 1, PER_PAGE), session.execute(counts).all())


def measure(database_url: str, repeat: int = 9) -> list[tuple[str, float, float, int]]:
    """(search, indexed ms, LIKE scan ms, ideas found) for each of SEARCHES."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url})
    rows = []
    with app.app_context():
        session = get_session()
        if session.get_bind().dialect.name == "postgresql":
            # As autovacuum does on a running site, so the planner knows the tables.
            session.execute(sa.text("ANALYZE"))
            session.commit()
        for text in SEARCHES:
            found = sum(
                queue_filters.status_counts(session, queue_filters.Filters(text=text)).values()
            )
            rows.append(
                (
                    text,
                    _timed(_indexed(session, text), repeat),
                    _timed(_scanned(session, text), repeat),
                    found,
                )
            )
            session.rollback()
        get_engine().dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--postgres", default=POSTGRES)
    args = parser.parse_args()
    print("| database | search | ideas found | indexed ms | LIKE scan ms | ratio |")
    print("|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in [
            ("SQLite", f"sqlite:///{tmp}/search.sqlite"),
            ("PostgreSQL", args.postgres),
        ]:
            fill(url, args.count)
            for text, indexed, scanned, found in measure(url):
                print(
                    f"| {name} | {text} | {found:,} | {indexed:.1f} | {scanned:.1f} "
                    f"| {indexed / scanned:.2f} |"
                )


if __name__ == "__main__":
    main()
