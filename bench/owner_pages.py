"""Time the owner's queue pages and dashboard with N ideas stored, in-process.

    .venv/bin/python bench/owner_pages.py --count 100000 [--database-url URL]

Fills a fresh SQLite file (or an empty database given by URL) like bench/front_page.py,
logs in as an owner, then fetches each page several times and prints the median.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.front_page import fill  # noqa: E402
from feedback import accounts, create_app  # noqa: E402
from feedback.db import get_engine, get_session  # noqa: E402

PAGES = [
    ("queue: pending, oldest first", "/admin/"),
    ("queue: all, newest first", "/admin/?status=all"),
    ("queue: all, page 200", "/admin/?status=all&page=200"),
    ("queue: approved, private", "/admin/?status=approved&visibility=private"),
    ("queue: topic", "/admin/?status=all&topic=2"),
    ("queue: date range", "/admin/?status=all&since=2026-01-01&until=2026-01-31"),
    ("queue: text search", "/admin/?status=all&q=number+4242"),
    ("queue: starred", "/admin/?status=all&starred=1"),
    ("dashboard", "/admin/dashboard"),
    ("public front page", "/"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
        fill(url, args.count)
        app = create_app({"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
        with app.app_context():
            session = get_session()
            accounts.create(session, "bench@example.org", "benchmark password")
            session.commit()
        client = app.test_client()
        client.post(
            "/admin/login", data={"email": "bench@example.org", "password": "benchmark password"}
        )
        print(f"\n{args.count:,} ideas on {url.split(':', 1)[0]}; median of {args.repeat} runs\n")
        print("| page | status | median ms | max ms |")
        print("|---|---:|---:|---:|")
        for name, path in PAGES:
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - began) * 1000)
            print(
                f"| {name} | {response.status_code} | {statistics.median(times):.1f} "
                f"| {max(times):.1f} |"
            )
        with app.app_context():
            get_engine().dispose()


if __name__ == "__main__":
    main()
