"""How good the themes and duplicates are, against a hand-labelled set of ideas.

The set (``tests/data/labelled_ideas.toml``) gives each idea a gold theme and, for a
near-duplicate, the idea it repeats. Themes are scored with B-cubed precision, recall and F1
(per idea: how much of its predicted theme shares its gold theme, and the other way round);
duplicates by pairs: a predicted "A repeats B" is right when the set puts A and B in one
duplicate group, and a gold duplicate is found when it is predicted to repeat any idea of its
group.
"""

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedback.themes import engine

TOPICS = {"blog": 1, "sessions": 2, "social": 3, "other": 4}


@dataclass(frozen=True)
class Labelled:
    ideas: list[engine.Idea]
    theme: dict[int, str]  # idea id -> gold theme
    original: dict[int, int]  # idea id -> first idea of its duplicate group (itself if none)
    private: set[int]


def load(path: Path) -> Labelled:
    data = tomllib.loads(path.read_text("utf-8"))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ideas, theme, original, private = [], {}, {}, set()
    for row in data["idea"]:
        key = row["key"]
        ideas.append(
            engine.Idea(
                key,
                TOPICS[row["topic"]],
                row.get("title"),
                row["body"].strip(),
                start + timedelta(hours=key),
            )
        )
        theme[key] = row["theme"]
        original[key] = row.get("duplicate_of", key)
        if row["visibility"] == "private":
            private.add(key)
    return Labelled(ideas, theme, original, private)


@dataclass(frozen=True)
class Scores:
    theme_precision: float
    theme_recall: float
    theme_f1: float
    duplicate_precision: float
    duplicate_recall: float
    predicted_duplicates: int
    gold_duplicates: int

    def __str__(self) -> str:
        return (
            f"themes B-cubed P {self.theme_precision:.3f} R {self.theme_recall:.3f} "
            f"F1 {self.theme_f1:.3f}; duplicates P {self.duplicate_precision:.3f} "
            f"R {self.duplicate_recall:.3f} ({self.predicted_duplicates} predicted, "
            f"{self.gold_duplicates} labelled)"
        )


def score(labelled: Labelled, result: engine.Result) -> Scores:
    predicted = {idea: n for n, t in enumerate(result.themes) for idea in t.members}
    gold_members: dict[str, set[int]] = {}
    for idea, t in labelled.theme.items():
        gold_members.setdefault(t, set()).add(idea)
    predicted_members: dict[int, set[int]] = {}
    for idea, n in predicted.items():
        predicted_members.setdefault(n, set()).add(idea)
    precision = recall = 0.0
    for idea in labelled.theme:
        mine = predicted_members[predicted[idea]]
        gold = gold_members[labelled.theme[idea]]
        shared = len(mine & gold)
        precision += shared / len(mine)
        recall += shared / len(gold)
    n = len(labelled.theme)
    precision, recall = precision / n, recall / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    root = labelled.original
    right = sum(1 for d in result.duplicates if root[d.idea] == root[d.duplicate_of])
    gold_dups = [i for i, o in root.items() if o != i]
    found = {d.idea for d in result.duplicates if root[d.idea] == root[d.duplicate_of]}
    found |= {
        d.duplicate_of
        for d in result.duplicates
        if root[d.idea] == root[d.duplicate_of] and root[d.duplicate_of] != d.duplicate_of
    }
    return Scores(
        theme_precision=precision,
        theme_recall=recall,
        theme_f1=f1,
        duplicate_precision=right / len(result.duplicates) if result.duplicates else 1.0,
        duplicate_recall=len(found & set(gold_dups)) / len(gold_dups) if gold_dups else 1.0,
        predicted_duplicates=len(result.duplicates),
        gold_duplicates=len(gold_dups),
    )
