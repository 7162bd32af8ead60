"""Requests per second of the public pages and of POST /ideas under gunicorn with N ideas
stored, each as a ratio to a bare Flask app measured in the same run.

    .venv/bin/python bench/front_page.py --counts 100 100000 --seconds 10

Each count gets a fresh SQLite file in a temporary folder, filled in bulk; gunicorn serves it
with the production command line (rate limits on, behind one trusted proxy so that each
posted idea comes from its own address); client processes on loopback keep requests going
for a fixed time. GET pages are measured against a bare hello (bench/hello.py), POST /ideas
against a bare form post that stores one row as durably (bench/form_post.py).
"""

import argparse
import html
import http.client
import multiprocessing
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedback import create_app  # noqa: E402
from feedback.cli import upgrade_database  # noqa: E402
from feedback.db import Base, get_engine  # noqa: E402
from feedback.models import Submission, Topic, fingerprint  # noqa: E402
from feedback.submissions import repeat_hash  # noqa: E402

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
                        # As the form stores them: the planner's statistics (ANALYZE below)
                        # must see real keys, or it takes these indexes for useless.
                        "form_key": secrets.token_urlsafe(24),
                        "client_hash": secrets.token_hex(32),
                    }
                )
                row = rows[-1]
                row["repeat_hash"] = repeat_hash(row["email"], row["body"])
                if row["status"] == "approved" and row["visibility"] == "public":
                    row["published_at"] = created
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


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


def _form(port: int) -> tuple[dict, dict]:
    """A reader's cookie and the hidden fields of the front page's form."""
    _status, headers, body = _get(port, "/")
    cookie = headers.get("Set-Cookie", "").split(";", 1)[0]
    page = body.decode()
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page)
        if name in ("csrf_token", "started")
    }
    topic = re.search(r'<option value="(\d+)"', page)
    if topic:  # the bare form post has no form to read
        fields["topic"] = topic[1]
    return {"Cookie": cookie} if cookie else {}, fields


def _post(port: int, headers: dict, fields: dict, n: int) -> int:
    """POST one new idea, as a distinct reader (address, email, text) each time."""
    client = f"{os.getpid()}-{n}"
    data = {
        **fields,
        "name": f"Bench Reader {client}",
        "email": f"reader-{client}@example.org",
        "title": f"Idea {client}",
        "body": f"A quiet corner with power strips, number {client}, for writing up notes.",
        "visibility": "public",
        "credit": "name",
        "form_key": secrets.token_urlsafe(24),
    }
    octets = (os.getpid() % 250, n // 250 % 250, n % 250 + 1)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST",
        "/ideas",
        body=urllib.parse.urlencode(data),
        headers={
            **headers,
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": "10.{}.{}.{}".format(*octets),
        },
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def _client(port: int, seconds: float, paths: list[str], post: bool, queue) -> None:
    headers, fields = _form(port) if post else ({}, {})
    if post:
        time.sleep(MIN_FILL_SECONDS)
    latencies, errors, n = [], 0, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        n += 1
        began = time.perf_counter()
        try:
            if post:
                ok = _post(port, headers, fields, n) == 303
            else:
                ok = _get(port, paths[n % len(paths)])[0] == 200
        except OSError:
            ok = False
        if not ok:
            errors += 1
            continue
        latencies.append(time.perf_counter() - began)
    queue.put((latencies, errors))


def load(
    port: int,
    seconds: float,
    clients: int,
    paths: tuple[str, ...] | list[str] = ("/",),
    post: bool = False,
) -> dict:
    """Keep ``clients`` processes requesting ``paths`` (or posting ideas) for ``seconds``."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_client, args=(port, seconds, paths, post, queue))
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


def public_paths(database_url: str) -> dict[str, list[str]]:
    """The addresses measured, each a few real ones to take turns with."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        slugs = conn.scalars(sa.select(Topic.slug).order_by(Topic.position)).all()
        ids = conn.scalars(
            sa.select(Submission.id)
            .where(Submission.status == "approved", Submission.visibility == "public")
            .order_by(Submission.id.desc())
            .limit(20)
        ).all()
    engine.dispose()
    return {
        "`/`": ["/"],
        "`/topics/<slug>`": [f"/topics/{slug}" for slug in slugs],
        "`/ideas/<id>`": [f"/ideas/{i}" for i in ids],
        "`/api/ideas`": ["/api/ideas"],
        "`/feed.atom`": ["/feed.atom"],
    }


# What each address must reach, as a share of the bare hello's rate in the same run.
TARGETS = {
    "`/`": 0.39,
    "`/topics/<slug>`": 0.39,
    "`/ideas/<id>`": 0.39,
    "`/api/ideas`": 0.39,
    "`/feed.atom`": 0.5,
}
FLAT = 0.10
POST_TARGET = 0.8
MIN_FILL_SECONDS = 2


def measure(counts: list[int], seconds: float, clients: int, workers: int) -> list[tuple]:
    """Rows of (measure, ideas stored, req/s, baseline req/s, target ratio or None)."""
    process, port = serve("bench.hello:app", {}, workers)
    try:
        hello = load(port, seconds, clients)["rps"]
    finally:
        process.terminate()
        process.wait()
    rows: list[tuple] = [("bare Flask hello", "-", hello, None, None)]
    with tempfile.TemporaryDirectory() as tmp:
        env = {"BENCH_FORM_DATABASE": f"{tmp}/form.sqlite"}
        process, port = serve("bench.form_post:app", env, workers)
        try:
            bare_post = load(port, seconds, clients, post=True)["rps"]
        finally:
            process.terminate()
            process.wait()
    rows.append(("bare Flask form post (one INSERT)", "-", bare_post, None, None))
    rates: dict[str, dict[int, float]] = {}
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite"
            began = time.perf_counter()
            fill(url, count)
            print(f"filled {count} ideas in {time.perf_counter() - began:.1f} s", file=sys.stderr)
            env = {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "FEEDBACK_TRUSTED_PROXIES": "1",
                "FEEDBACK_MIN_FILL_SECONDS": str(MIN_FILL_SECONDS),
            }
            process, port = serve("app:app", env, workers)
            try:
                for name, paths in public_paths(url).items():
                    rps = load(port, seconds, clients, paths)["rps"]
                    rates.setdefault(name, {})[count] = rps
                    rows.append((name, f"{count:,}", rps, hello, TARGETS[name]))
                rps = load(port, seconds, clients, post=True)["rps"]
                rows.append(("POST /ideas (limits on)", f"{count:,}", rps, bare_post, POST_TARGET))
            finally:
                process.terminate()
                process.wait()
    if len(counts) > 1:
        low, high = min(counts), max(counts)
        for name, by_count in rates.items():
            rows.append(
                (f"{name} flat", f"{high:,} vs {low:,}", by_count[high], by_count[low], "flat")
            )
    return rows


def print_table(rows: list[tuple]) -> None:
    print("| measure | ideas stored | req/s | baseline req/s | ratio | target | met |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, count, rps, base, target in rows:
        if base is None:
            print(f"| {name} | {count} | {rps:.0f} | | | | |")
            continue
        ratio = rps / base
        if target == "flat":
            met, shown = abs(ratio - 1) <= FLAT, f"within {FLAT:.0%}"
        else:
            met, shown = ratio >= target, f">= {target}"
        print(
            f"| {name} | {count} | {rps:.0f} | {base:.0f} | {ratio:.2f} | {shown} "
            f"| {'yes' if met else 'NO'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 100_000])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    rows = measure(args.counts, args.seconds, args.clients, args.workers)
    print(
        f"\ngunicorn -w {args.workers}, {args.clients} client processes, {args.seconds:g} s each, "
        f"{os.cpu_count()} CPU cores shared by server and clients\n"
    )
    print_table(rows)


if __name__ == "__main__":
    main()
