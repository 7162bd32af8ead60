"""Time and peak memory of `flask export-all` and `flask import-all` moving N ideas.

    .venv/bin/python bench/backup_roundtrip.py --counts 10000 100000 [--postgres-url URL]

For each count: fills a fresh SQLite file in bulk (as bench/front_page.py does), exports it,
imports the file into an empty PostgreSQL schema made by `flask db upgrade` (whose seeded
topics the file's replace), exports that again, then imports that file into a new SQLite file
and exports once more. The exports must be identical apart from their export-time line. Each
step is its own process (the real command line), so its peak resident memory (measured
as bench/processes.py does) is its own.
"""

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.front_page import fill  # noqa: E402
from bench.processes import run_flask  # noqa: E402

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def run(database_url: str, *args: str) -> tuple[float, float]:
    """Seconds and peak MiB of one `flask` command, its memory measured alone."""
    done = run_flask(database_url, *args)
    return done.seconds, done.peak_mib


def same_apart_from_export_time(first: Path, second: Path) -> bool:
    """Whether two backups match line for line, the export-time line (the second) aside."""
    with open(first, "rb") as a, open(second, "rb") as b:
        for number, (line_a, line_b) in enumerate(zip(a, b, strict=False), 1):
            if number != 2 and line_a != line_b:
                return False
        return a.read(1) == b.read(1) == b""


def new_schema(postgres_url: str) -> str:
    """A new empty PostgreSQL schema's name."""
    schema = f"bench_backup_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return schema


def drop_schema(postgres_url: str, schema: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def round_trip(tmp: Path, count: int, postgres_url: str) -> tuple[list[tuple], list[bool]]:
    """The timed steps for one count, and whether each re-export matched the first."""
    source = f"sqlite:///{tmp}/source-{count}.sqlite"
    target = f"sqlite:///{tmp}/target-{count}.sqlite"
    fill(source, count)
    schema = new_schema(postgres_url)
    postgres = f"{postgres_url}?options=-csearch_path%3D{schema}"
    files = [tmp / f"{name}-{count}.json" for name in ("sqlite", "postgres", "sqlite-again")]
    try:
        run(postgres, "db", "upgrade")
        run(target, "db", "upgrade")
        steps = [
            ("export from SQLite", source, "export-all", files[0]),
            ("import into PostgreSQL", postgres, "import-all", files[0]),
            ("export from PostgreSQL", postgres, "export-all", files[1]),
            ("import into SQLite", target, "import-all", files[1]),
            ("export from SQLite again", target, "export-all", files[2]),
        ]
        rows = []
        for label, url, command, path in steps:
            seconds, peak = run(url, command, str(path))
            rows.append((count, label, seconds, peak, path.stat().st_size))
    finally:
        drop_schema(postgres_url, schema)
    matches = [same_apart_from_export_time(files[0], other) for other in files[1:]]
    return rows, matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100_000])
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    args = parser.parse_args()
    rows, verdicts = [], []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        empty = f"sqlite:///{tmp}/empty.sqlite"
        fill(empty, 0)
        baseline = run(empty, "export-all", str(tmp / "empty.json"))
        for count in args.counts:
            steps, matches = round_trip(tmp, count, args.postgres_url)
            rows += steps
            verdicts.append((count, matches))
    print(f"\nEmpty database export: {baseline[0]:.2f} s, {baseline[1]:.0f} MiB (start-up)\n")
    print("| ideas | step | seconds | peak MiB | file MB |")
    print("|---:|---|---:|---:|---:|")
    for count, label, seconds, peak, size in rows:
        print(f"| {count:,} | {label} | {seconds:.2f} | {peak:.0f} | {size / 1e6:.1f} |")
    print()
    for count, (via_postgres, back_in_sqlite) in verdicts:
        print(
            f"{count:,} ideas: PostgreSQL's export matches SQLite's: "
            f"{'yes' if via_postgres else 'NO'}; after the way back: "
            f"{'yes' if back_in_sqlite else 'NO'} (export-time line aside)"
        )


if __name__ == "__main__":
    main()
