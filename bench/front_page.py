"""Requests per second for `/` under gunicorn with N ideas stored, next to a bare Flask app.

    .venv/bin/python bench/front_page.py --counts 100 100000 --seconds 10

Each run gets a fresh SQLite file in a temporary folder (or --database-url for an empty
PostgreSQL database), filled in bulk; gunicorn serves it with the production command line;
client processes on loopback keep requests going for a fixed time, then the table is printed.
"""

import argparse
import http.client
import multiprocessing
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedback import create_app  # noqa: E402
from feedback.cli import upgrade_database  # noqa: E402
from feedback.db import Base, get_engine  # noqa: E402
from feedback.models import Submission, Topic, fingerprint  # noqa: E402

STATUSES = ["approved"] * 8 + ["pending", "rejected"]


def fill(database_url: str, count: int) -> None:
    """Start from an empty schema and insert ``count`` ideas (80% public and approved) in bulk."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url})
    with app.app_context():
        engine = get_engine()
        Base.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade_database()
        with engine.begin() as conn:
            topic_ids = conn.scalars(sa.select(Topic.id)).all()
            start = datetime.now(UTC) - timedelta(days=365)
            rows = []
            for n in range(count):
                created = start + timedelta(seconds=n * 300)
                rows.append(
                    {
                        "visibility": "public" if n % 5 else "private",
                        "status": random.choice(STATUSES),
                        "author_name": f"Reader {n}",
                        "email": f"reader{n}@example.org",
                        "website": "https://example.org" if n % 3 == 0 else None,
                        "topic_id": random.choice(topic_ids),
                        "title": f"Idea number {n}" if n % 2 else None,
                        "body": "Give bloggers a corner with power strips and Wi-Fi. " * 4,
                        "consent_to_publish": n % 7 == 0,
                        "starred": n % 100 == 0,
                        "manage_token_hash": secrets.token_hex(32),
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                row = rows[-1]
                row["content_hash"] = fingerprint(
                    row["title"],
                    row["body"],
                    row["author_name"],
                    "name",
                    None,
                    row["website"],
                    row["topic_id"],
                    row["visibility"],
                )
                if len(rows) == 5000:
                    conn.execute(sa.insert(Submission), rows)
                    rows = []
            if rows:
                conn.execute(sa.insert(Submission), rows)
        with engine.begin() as conn:
            # Fresh planner statistics, as a database that has been in use would have.
            conn.execute(sa.text("ANALYZE"))
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(target: str, env: dict, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        target,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{target} did not start on port {port}")


def _client(port: int, seconds: float, queue: multiprocessing.Queue) -> None:
    latencies, errors = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        began = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                errors += 1
                continue
        except OSError:
            errors += 1
            continue
        latencies.append(time.perf_counter() - began)
    queue.put((latencies, errors))


def load(port: int, seconds: float, clients: int) -> dict:
    """Keep ``clients`` processes requesting `/` for ``seconds``; return the figures."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_client, args=(port, seconds, queue))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(t for lats, _ in results for t in lats)
    errors = sum(e for _, e in results)
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95": latencies[int(len(latencies) * 0.95)] * 1000 if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 100_000])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url", help="an empty database to use instead of SQLite")
    args = parser.parse_args()

    rows = []
    process, port = serve("bench.hello:app", {}, args.workers)
    try:
        rows.append(("bare Flask hello", "-", load(port, args.seconds, args.clients)))
    finally:
        process.terminate()
        process.wait()

    for count in args.counts:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
            began = time.perf_counter()
            fill(url, count)
            print(f"filled {count} ideas in {time.perf_counter() - began:.1f} s", file=sys.stderr)
            env = {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "FEEDBACK_RATELIMIT_ENABLED": "false",
            }
            process, port = serve("app:app", env, args.workers)
            try:
                rows.append(
                    ("Conference Ideas `/`", f"{count:,}", load(port, args.seconds, args.clients))
                )
            finally:
                process.terminate()
                process.wait()

    print(
        f"\ngunicorn -w {args.workers}, {args.clients} client processes, {args.seconds:g} s each, "
        f"{os.cpu_count()} CPU cores shared by server and clients\n"
    )
    print("| app | ideas stored | requests | errors | req/s | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, count, r in rows:
        print(
            f"| {name} | {count} | {r['requests']} | {r['errors']} | {r['rps']:.0f} "
            f"| {r['p50']:.1f} | {r['p95']:.1f} |"
        )


if __name__ == "__main__":
    main()
