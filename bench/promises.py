"""Promises under pressure: duplicate posts sent vs stored, and ideas accepted from one address.

    .venv/bin/python bench/promises.py [--baseline-ref REF] [--forms 50] [--copies 4]

Runs the same two scenarios against gunicorn -w 4 on SQLite and on PostgreSQL, for this
checkout and (with --baseline-ref, default the last commit before the quotas) for an earlier
one checked out with `git worktree`, so both are measured in the same run:

- duplicates: each of N forms is posted M times at once from one browser (a double click, two
  tabs), then the same text again from a fresh form; how many ideas were stored.
- flood: one address sends 60 different ideas as fast as 8 threads can, with the default
  limit of 5 a minute; how many were accepted.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import Browser, free_port  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BIN = Path(sys.executable).parent


def _env(database_url: str, **settings: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="bench-promises",
        FLASK_APP="app.py",
        FEEDBACK_MIN_FILL_SECONDS="0",
        **settings,
    )
    return env


def _serve(app_dir: Path, database_url: str, **settings: str) -> tuple[subprocess.Popen, str]:
    env = _env(database_url, **settings)
    subprocess.run(
        [str(BIN / "flask"), "db", "upgrade"],
        cwd=app_dir,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "4", "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=app_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            Browser(base).request("/healthz")
            return process, base
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait()


def _stored(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        count = conn.scalar(sa.text("SELECT count(*) FROM submissions"))
    engine.dispose()
    return count


def _idea(fields: dict, n: int, email: str | None = None) -> dict:
    return {
        **fields,
        "name": "Bench Reader",
        "email": email or f"reader{n}@example.org",
        "body": f"Idea number {n}: power strips and Wi-Fi in the bloggers' lounge.",
        "visibility": "private",
        "credit": "name",
    }


def duplicates(app_dir: Path, database_url: str, forms: int, copies: int) -> tuple[int, int]:
    """Posts sent (each form ``copies`` times at once, then once from a fresh form), stored."""
    process, base = _serve(app_dir, database_url, FEEDBACK_RATELIMIT_ENABLED="false")
    sent = 0
    try:
        with ThreadPoolExecutor(copies) as pool:
            for n in range(forms):
                browser = Browser(base)
                data = _idea(browser.form("/"), n)
                barrier = threading.Barrier(copies)

                def post(_: int, browser=browser, data=data, barrier=barrier) -> int:
                    barrier.wait()
                    return browser.request("/ideas", data).status

                statuses = list(pool.map(post, range(copies)))
                assert all(s == 303 for s in statuses), statuses
                fresh = Browser(base)
                assert fresh.request("/ideas", _idea(fresh.form("/"), n)).status == 303
                sent += copies + 1
    finally:
        _stop(process)
    return sent, _stored(database_url)


def flood(app_dir: Path, database_url: str) -> tuple[int, int, float]:
    """Ideas sent from one address as fast as possible, accepted, and the seconds it took."""
    process, base = _serve(app_dir, database_url, FEEDBACK_RATELIMIT_ENABLED="true")
    try:
        browsers = [Browser(base) for _ in range(60)]
        forms = [b.form("/") for b in browsers]
        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(
                    lambda n: browsers[n].request("/ideas", _idea(forms[n], n)).status, range(60)
                )
            )
        took = time.perf_counter() - start
    finally:
        _stop(process)
    return len(statuses), statuses.count(303), took


def _databases(tmp: Path, label: str):
    yield "SQLite", f"sqlite:///{tmp / f'{label}.sqlite'}"
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(POSTGRES)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield "PostgreSQL", f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _fresh(url: str) -> str:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).unlink(missing_ok=True)
        return url
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        schema = re.search(r"%3D(\w+)", url)[1]
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-ref", default="8ad904e", help="earlier commit to compare")
    parser.add_argument("--forms", type=int, default=50)
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-promises-"))
    baseline = tmp / "baseline"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(baseline), args.baseline_ref],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    rows = []
    try:
        for label, app_dir in ((f"before ({args.baseline_ref})", baseline), ("now", ROOT)):
            for db_name, url in _databases(tmp, label.split()[0]):
                sent, stored = duplicates(app_dir, _fresh(url), args.forms, args.copies)
                flood_sent, accepted, took = flood(app_dir, _fresh(url))
                rows.append((label, db_name, sent, stored, args.forms, flood_sent, accepted, took))
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, check=False
        )
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\n{'code':<18} {'database':<11} {'duplicate posts':>15} {'stored':>7} {'ideas':>6}"
        f" {'flood sent':>10} {'accepted':>9} {'in s':>6}"
    )
    for label, db_name, sent, stored, ideas, flood_sent, accepted, took in rows:
        print(
            f"{label:<18} {db_name:<11} {sent:>15} {stored:>7} {ideas:>6}"
            f" {flood_sent:>10} {accepted:>9} {took:>6.1f}"
        )
    print(f"\n'ideas' is how many distinct ideas were sent; each form went {args.copies}+1 times.")
    print("The flood limit is the default FEEDBACK_SUBMIT_RATE_LIMIT, 5 per minute.")


if __name__ == "__main__":
    main()
