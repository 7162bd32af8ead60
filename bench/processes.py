"""Commands run as their own processes, timed, with their own peak memory.

A child's ru_maxrss counts the memory of the process it was forked from until it execs, so
a bench that holds a large database in memory would see it in every child. Each command is
started from a small launcher instead, which reports the peak of the command alone.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"
# Starts the command, waits for it, and writes its exit status and peak memory (KiB).
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_pid, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mib: float
    output: str


def run(command: list[str], env: dict | None = None) -> Measured:
    """Run ``command`` in the project folder; its seconds, peak MiB and standard output.

    :raise RuntimeError: when it fails.
    """
    report = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-peak-{os.getpid()}"
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(report), *command],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    code, peak_kib = map(int, report.read_text().split())
    report.unlink()
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout[-500:]}")
    return Measured(seconds, peak_kib / 1024, done.stdout)


def run_flask(database_url: str, *args: str) -> Measured:
    """One `flask` command on the database (testing mode: no secret key needed)."""
    return run([str(FLASK), *args], {"DATABASE_URL": database_url, "FEEDBACK_TESTING": "true"})
