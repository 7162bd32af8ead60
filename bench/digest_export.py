"""Time and peak memory of `flask digest export` in every format, with N ideas stored.

    .venv/bin/python bench/digest_export.py --counts 10000 100000

Each export runs as its own process (the real command line), so its peak resident memory
(bench/processes.py) is measured alone. The database is a fresh SQLite file per count,
its themes computed first (`flask themes rebuild`), as on a running site.
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.front_page import fill  # noqa: E402
from bench.processes import run_flask  # noqa: E402
from feedback.digest.formats import FORMATS  # noqa: E402


def run_export(database_url: str, fmt: str, out: Path) -> tuple[float, float, int]:
    """Seconds, peak MiB and output bytes of one export."""
    done = run_flask(database_url, "digest", "export", "--format", fmt, "--out", str(out))
    return done.seconds, done.peak_mib, out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    rows, rebuilds = [], []
    with tempfile.TemporaryDirectory() as tmp:
        empty = f"sqlite:///{tmp}/empty.sqlite"
        fill(empty, 0)
        baseline = run_export(empty, "md", Path(tmp) / "b.md")
        for count in args.counts:
            url = f"sqlite:///{tmp}/bench-{count}.sqlite"
            fill(url, count)
            # As on a running site, where ideas join their themes as they arrive.
            rebuilt = run_flask(url, "themes", "rebuild")
            rebuilds.append((count, rebuilt.seconds, rebuilt.peak_mib))
            for fmt in FORMATS:
                seconds, peak, size = run_export(url, fmt, Path(tmp) / f"out.{fmt}")
                rows.append((count, fmt, seconds, peak, size))
    print(f"\nEmpty digest: {baseline[0]:.2f} s, {baseline[1]:.0f} MiB (process start-up)\n")
    print("| ideas stored | format | seconds | peak MiB | output MB |")
    print("|---:|---|---:|---:|---:|")
    for count, fmt, seconds, peak, size in rows:
        print(f"| {count:,} | {fmt} | {seconds:.2f} | {peak:.0f} | {size / 1e6:.1f} |")
    print()
    for count, seconds, peak in rebuilds:
        print(f"Themes computed first for {count:,} ideas: {seconds:.1f} s, {peak:.0f} MiB")


if __name__ == "__main__":
    main()
