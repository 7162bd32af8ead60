"""Quality and speed of the themes, on the hand-labelled set and on larger generated sets.

    .venv/bin/python bench/themes.py [--large 100000] [--place 100000]

Quality: B-cubed F1 of the themes and pair precision/recall of the near-duplicates on
tests/data/labelled_ideas.toml, beside two baselines measured in the same run (every idea
alone; one theme per topic). Speed: a full computation of N ideas generated from the
labelled set (its texts with words inserted), warm (median of three, as in a running server)
and cold (the first, stems not cached), with the TF-IDF vectors alone as the baseline; and
placing one new idea among N ideas already in themes.
"""

import argparse
import random
import resource
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedback.themes import engine, quality, text  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "labelled_ideas.toml"
FILLER = "the a more please really some extra also very good new better".split()


def generated(labelled: quality.Labelled, n: int, seed: int = 1) -> list[engine.Idea]:
    """N ideas: the labelled texts in turn, each with three words inserted at random."""
    rng = random.Random(seed)
    ideas = []
    for k in range(n):
        source = labelled.ideas[k % len(labelled.ideas)]
        words = source.body.split()
        for _ in range(3):
            extra = rng.choice(FILLER)
            if rng.random() < 0.3:
                extra += str(rng.randrange(500))
            words.insert(rng.randrange(len(words) + 1), extra)
        ideas.append(
            engine.Idea(
                k + 1,
                source.topic,
                source.title if rng.random() < 0.5 else None,
                " ".join(words),
                source.arrived + timedelta(minutes=k),
            )
        )
    return ideas


def _seconds(work) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def quality_rows(labelled: quality.Labelled) -> list[tuple]:
    scores = quality.score(labelled, engine.compute(labelled.ideas))
    alone = engine.Result(
        [engine.Theme(None, i.topic, (i.id,), (), "", i.id, {i.id: 1.0}) for i in labelled.ideas],
        [],
        engine.DEFAULTS,
    )
    by_topic: dict[int, list[int]] = {}
    for i in labelled.ideas:
        by_topic.setdefault(i.topic, []).append(i.id)
    one_per_topic = engine.Result(
        [engine.Theme(None, t, tuple(ids), (), "", ids[0], {}) for t, ids in by_topic.items()],
        [],
        engine.DEFAULTS,
    )
    best_baseline = max(
        quality.score(labelled, alone).theme_f1, quality.score(labelled, one_per_topic).theme_f1
    )
    return [
        ("themes B-cubed F1", scores.theme_f1, best_baseline, ">= 0.75", scores.theme_f1 >= 0.75),
        ("  B-cubed precision", scores.theme_precision, None, "", None),
        ("  B-cubed recall", scores.theme_recall, None, "", None),
        (
            "duplicates precision",
            scores.duplicate_precision,
            None,
            ">= 0.95",
            scores.duplicate_precision >= 0.95,
        ),
        (
            "duplicates recall",
            scores.duplicate_recall,
            None,
            ">= 0.80",
            scores.duplicate_recall >= 0.8,
        ),
    ]


def speed_rows(labelled: quality.Labelled, sizes: list[int], place: int) -> list[tuple]:
    rows = []
    # The targets: 500 ideas in 0.15 s, 5 000 in 2 s, 100 000 in 60 s.
    for n, target in zip(sizes, (0.15, 2.0, 60.0 if sizes[-1] >= 100_000 else None), strict=True):
        ideas = generated(labelled, n)
        cold = _seconds(lambda ideas=ideas: engine.compute(ideas))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # Small runs again, as in a running server; a large one once (it is not cached).
        warm = (
            statistics.median(
                _seconds(lambda ideas=ideas: engine.compute(ideas)) for _ in range(3)
            )
            if n <= 5000
            else None
        )

        def vectors_only(ideas=ideas):
            tokens = text.tokenised((i.title, i.body) for i in ideas)
            text.vectors(tokens.features(), text.corpus_weights(tokens))

        baseline = _seconds(vectors_only)
        measured = warm if warm is not None else cold
        rows.append(
            (
                f"recompute {n} ideas{' (warm)' if warm is not None else ''}, s",
                measured,
                baseline,
                f"< {target}" if target else "",
                measured < target if target else None,
            )
        )
        if warm is not None:
            rows.append((f"recompute {n} ideas (cold), s", cold, baseline, "", None))
        if n >= 100_000:
            rows.append(("  peak memory, ideas included, MiB", peak, None, "< 300", peak < 300))
    ideas = generated(labelled, place, seed=2)
    began = time.perf_counter()
    placer = engine.Placer(
        [(i.topic * 1000 + i.id % 200, i.title, i.body) for i in ideas if i.topic == 1],
        engine.DEFAULTS,
    )
    built = time.perf_counter() - began
    newcomers = generated(labelled, 50, seed=3)
    times = []
    for idea in newcomers:
        began = time.perf_counter()
        theme = placer.nearest(idea.title, idea.body)
        placer.add(theme if theme is not None else -idea.id, idea.title, idea.body)
        times.append(time.perf_counter() - began)
    placed = statistics.median(times) * 1000
    rows.append(
        (f"place 1 new idea among {place} (topic 1), ms", placed, None, "< 20", placed < 20)
    )
    rows.append((f"  building the placer for {place}, s", built, None, "", None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=100000, help="a third, larger recompute")
    parser.add_argument("--place", type=int, default=100000, help="ideas before a new one")
    args = parser.parse_args()
    labelled = quality.load(LABELLED)
    rows = quality_rows(labelled) + speed_rows(labelled, [500, 5000, args.large], args.place)
    print(f"{'measure':<48} {'value':>9} {'baseline':>9} {'ratio':>7} {'target':>8}  met")
    for name, value, baseline, target, met in rows:
        ratio = f"{value / baseline:7.2f}" if baseline else " " * 7
        shown = f"{baseline:9.3f}" if baseline is not None else " " * 9
        verdict = "" if met is None else ("yes" if met else "NO")
        print(f"{name:<48} {value:9.3f} {shown} {ratio} {target:>8}  {verdict}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this run: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
