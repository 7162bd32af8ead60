"""Milliseconds per similar-ideas question with N ideas stored, next to GET /api/ideas.

    .venv/bin/python bench/similar_speed.py --counts 1000 10000 100000 [--database-url URL]

Each count gets a fresh SQLite file (or the empty database given by URL), filled in bulk as
bench/front_page.py does, then given varied text: words drawn Zipf-like from the demo ideas'
words and a long tail of made-up ones, ideas grouped in subjects of about twenty so that
each question has real neighbours. The index is built in the foreground and timed; then the
same questions go to ``similar.find`` and, through the test client, to GET /api/similar, and
GET /api/ideas is timed as the baseline. Up to 10 000 ideas, the answers are compared with
an exact search over full vectors: what pruning each idea to its strongest features costs.
"""

import argparse
import itertools
import os
import random
import re
import statistics
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.front_page import fill  # noqa: E402
from feedback import create_app, similar, visibility  # noqa: E402
from feedback.db import get_engine, get_session  # noqa: E402
from feedback.models import Submission  # noqa: E402
from feedback.themes import text as tfidf  # noqa: E402

SYLLABLES = "ka lo mi ter an sol vi ne ro pa du shi ber ga tol ex fi mor tra ven cor lis pen dra"
EXACT_UP_TO = 10_000


def texts(count: int, seed: int = 0) -> list[tuple[str | None, str]]:
    """``count`` (title, body) pairs, the same for the same seed."""
    rng = random.Random(seed)
    demo = tomllib.loads((ROOT / "feedback" / "demo_ideas.toml").read_text())["idea"]
    known = sorted({w.lower() for i in demo for w in re.findall(r"[A-Za-z]{3,}", i["body"])})
    syllables = SYLLABLES.split()
    made_up = sorted(
        {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(40_000)} - set(known)
    )
    rng.shuffle(made_up)
    vocabulary = known + made_up
    ranks = list(itertools.accumulate(1 / (r + 1) for r in range(len(vocabulary))))
    subjects = [rng.sample(vocabulary[:8000], 6) for _ in range(max(1, count // 20))]
    out = []
    for n in range(count):
        subject = rng.choice(subjects)
        words = rng.choices(subject, k=6) + rng.choices(
            vocabulary, cum_weights=ranks, k=rng.randint(12, 50)
        )
        rng.shuffle(words)
        title = " ".join(rng.sample(subject, 3)).capitalize() if n % 2 else None
        out.append((title, " ".join(words).capitalize() + "."))
    return out


def give_text(url: str, ideas: list[tuple[str | None, str]]) -> None:
    """Replace the filled rows' text, and publish the public approved ones over the year."""
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    with app.app_context():
        engine = get_engine()
        start = datetime.now(UTC) - timedelta(days=365)
        rows = [
            {
                "b_id": n + 1,
                "title": title,
                "body": body,
                "published_at": start + timedelta(seconds=n * 300),
            }
            for n, (title, body) in enumerate(ideas)
        ]
        statement = (
            sa.update(Submission)
            .where(Submission.id == sa.bindparam("b_id"))
            .values(title=sa.bindparam("title"), body=sa.bindparam("body"))
            .values(published_at=sa.bindparam("published_at"))
        )
        with engine.begin() as conn:
            conn.execute(statement, rows)
            conn.execute(sa.text("ANALYZE"))
        engine.dispose()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def exact_agreement(session, questions: list[str], found: list[list[int]]) -> tuple[float, float]:
    """Against an exact search (full vectors, same weights): the share of its top five the
    index found, and how often both put the same idea first."""
    rows = session.execute(
        visibility.public_submissions()
        .order_by(None)
        .with_only_columns(Submission.id, Submission.title, Submission.body)
    ).all()
    tokens = tfidf.tokenised((title, body) for _id, title, body in rows)
    weights = tfidf.corpus_weights(tokens)
    matrix = tfidf.vectors(tokens.features(), weights)
    ids = np.array([r[0] for r in rows])
    shares, firsts = [], []
    for question, answer in zip(questions, found, strict=True):
        scores = matrix @ tfidf.vectors(tfidf.features([(None, question)]), weights).T
        scores = scores.toarray().ravel()
        order = sorted(np.flatnonzero(scores >= similar.MIN_SCORE), key=lambda r: -scores[r])
        best = [int(ids[r]) for r in order[:5]]
        if best:
            shares.append(len(set(best) & set(answer)) / len(best))
            firsts.append(answer[:1] == best[:1])
    if not shares:
        return float("nan"), float("nan")
    return statistics.mean(shares), statistics.mean(firsts)


def timed(call, repeat: list) -> tuple[list[float], list]:
    times, results = [], []
    for argument in repeat:
        began = time.perf_counter()
        results.append(call(argument))
        times.append((time.perf_counter() - began) * 1000)
    return times, results


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95)]


def run(url: str, count: int, questions: int) -> dict:
    random.seed(count)
    ideas = texts(count + questions, seed=count)
    began = time.perf_counter()
    fill(url, count)
    give_text(url, ideas[:count])
    print(f"filled {count:,} ideas in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    asked = [f"{title or ''}\n{body}".strip() for title, body in ideas[count:]]
    app = create_app({"TESTING": True, "DATABASE_URL": url, "RATELIMIT_ENABLED": False})
    figures: dict = {"count": count}
    with app.app_context():
        session = get_session()
        before = rss_mb()
        began = time.perf_counter()
        size = similar.build_index(session)
        figures["build"] = time.perf_counter() - began
        figures["indexed"], figures["memory"] = size.ideas, size.megabytes
        figures["rss"] = rss_mb() - before
        similar.find(session, asked[0])
        times, results = timed(
            lambda q: [m.submission.id for m in similar.find(session, q)], asked
        )
        figures["find"] = times
        figures["answered"] = sum(1 for r in results if r) / len(results)
        if count <= EXACT_UP_TO:
            figures["agreement"], figures["first"] = exact_agreement(session, asked, results)
        session.rollback()
    client = app.test_client()
    figures["api"], answers = timed(
        lambda q: client.get("/api/similar", query_string={"q": q}).status_code, asked
    )
    assert set(answers) == {200}, answers
    figures["baseline"], answers = timed(
        lambda _q: client.get("/api/ideas?limit=20").status_code, asked
    )
    assert set(answers) == {200}, answers
    with app.app_context():
        get_engine().dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--database-url", help="an empty database to use instead of SQLite")
    args = parser.parse_args()
    rows = []
    for count in args.counts:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(
                run(args.database_url or f"sqlite:///{tmp}/bench.sqlite", count, args.questions)
            )
    kind = (args.database_url or "sqlite").split(":", 1)[0]
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"\n{kind}, {os.cpu_count()} CPU cores (load average {load}), {args.questions} "
        "questions each; ms are medians and 95th percentiles\n"
    )
    print(
        "| ideas stored | public indexed | index build s | index MB | RSS growth MB "
        "| find() ms | p95 | GET /api/similar ms | p95 | GET /api/ideas ms (baseline) "
        "| answered | exact top 5 found | same first |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        agreement = f"{r['agreement']:.0%} | {r['first']:.0%}" if "agreement" in r else "- | -"
        print(
            f"| {r['count']:,} | {r['indexed']:,} | {r['build']:.1f} | {r['memory']:.0f} "
            f"| {r['rss']:.0f} | {statistics.median(r['find']):.1f} | {p95(r['find']):.1f} "
            f"| {statistics.median(r['api']):.1f} | {p95(r['api']):.1f} "
            f"| {statistics.median(r['baseline']):.1f} | {r['answered']:.0%} | {agreement} |"
        )


if __name__ == "__main__":
    main()
