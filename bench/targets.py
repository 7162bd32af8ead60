"""Every speed target of the product in one table: public pages and POST /ideas under
gunicorn, `flask digest export` in each format, the owner's text search on SQLite and
PostgreSQL; each beside a baseline measured in the same run, with its target and whether it
is met. `make bench` runs it.

    .venv/bin/python bench/targets.py [--counts 100 100000] [--seconds 10] [--postgres URL]

Pages and posts: bench/front_page.py (ratio to a bare Flask hello, or to a bare form post).
Export: bench/digest_export.py at the largest count, each format its own process (ratio to
the process start-up, an empty digest). Search: bench/queue_search.py at the largest count
(ratio to the LIKE scan it replaced). The PostgreSQL database given is emptied first.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import digest_export, front_page, queue_search  # noqa: E402
from bench.processes import run_flask  # noqa: E402
from feedback.digest.formats import FORMATS  # noqa: E402

EXPORT_SECONDS = 2.0
EXPORT_MIB = 150


def page_rows(counts: list[int], seconds: float, clients: int, workers: int) -> list[tuple]:
    rows = []
    for name, count, rps, base, target in front_page.measure(counts, seconds, clients, workers):
        if base is None:
            rows.append((name, count, f"{rps:,.0f} req/s", "", None, "", None))
            continue
        ratio = rps / base
        if target == "flat":
            shown, met = f"within {front_page.FLAT:.0%}", abs(ratio - 1) <= front_page.FLAT
        else:
            shown, met = f">= {target}", ratio >= target
        rows.append((name, count, f"{rps:,.0f} req/s", f"{base:,.0f} req/s", ratio, shown, met))
    return rows


def export_rows(count: int) -> list[tuple]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        empty = f"sqlite:///{tmp}/empty.sqlite"
        front_page.fill(empty, 0)
        base_seconds, base_mib, _size = digest_export.run_export(empty, "md", Path(tmp) / "e.md")
        url = f"sqlite:///{tmp}/export.sqlite"
        front_page.fill(url, count)
        run_flask(url, "themes", "rebuild")
        for fmt in FORMATS:
            seconds, mib, size = digest_export.run_export(url, fmt, Path(tmp) / f"out.{fmt}")
            rows.append(
                (
                    f"flask digest export --format {fmt} ({size / 1e6:.1f} MB)",
                    f"{count:,}",
                    f"{seconds:.2f} s, {mib:.0f} MiB",
                    f"{base_seconds:.2f} s, {base_mib:.0f} MiB",
                    seconds / base_seconds,
                    f"< {EXPORT_SECONDS:g} s, < {EXPORT_MIB} MiB",
                    seconds < EXPORT_SECONDS and mib < EXPORT_MIB,
                )
            )
    return rows


def search_rows(count: int, postgres: str) -> list[tuple]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for database, url in [
            ("SQLite", f"sqlite:///{tmp}/search.sqlite"),
            ("PostgreSQL", postgres),
        ]:
            front_page.fill(url, count)
            for text, indexed, scanned, found in queue_search.measure(url):
                rows.append(
                    (
                        f"queue search {text!r} on {database} ({found:,} found)",
                        f"{count:,}",
                        f"{indexed:.1f} ms",
                        f"{scanned:.1f} ms",
                        indexed / scanned,
                        f"< {queue_search.TARGET_MS} ms",
                        indexed < queue_search.TARGET_MS,
                    )
                )
    return rows


def print_table(rows: list[tuple]) -> None:
    print("| measure | ideas stored | result | baseline | ratio | target | met |")
    print("|---|---:|---:|---:|---:|---|---|")
    for name, count, result, baseline, ratio, target, met in rows:
        shown_ratio = "" if ratio is None else f"{ratio:.2f}"
        shown_met = "" if met is None else ("yes" if met else "NO")
        cells = [name, count, result, baseline, shown_ratio, target, shown_met]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 100_000])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--postgres", default=queue_search.POSTGRES)
    args = parser.parse_args()
    largest = max(args.counts)
    rows = page_rows(args.counts, args.seconds, args.clients, args.workers)
    rows += export_rows(largest)
    rows += search_rows(largest, args.postgres)
    print(
        f"\nPages: gunicorn -w {args.workers}, {args.clients} client processes, "
        f"{args.seconds:g} s each; {os.cpu_count()} CPU cores shared by server and clients\n"
    )
    print_table(rows)


if __name__ == "__main__":
    main()
