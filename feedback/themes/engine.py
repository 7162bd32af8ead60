"""Themes and near-duplicates from the ideas' text, obeying the owner's decisions.

Plain functions over plain data: no database, no Flask. ``compute`` takes every idea that
belongs in a theme and the owner's decisions, and returns the themes and the duplicates.

- Near-duplicates: a later idea whose text is almost the same as an earlier one's (cosine
  similarity of the TF-IDF vectors and a fuzzy string ratio both high). Each points at the
  earliest idea of its group, never at another duplicate (no chains).
- Themes: average-linkage agglomeration over a sparse similarity graph, within each topic,
  stopped by a similarity threshold (no fixed number of themes). Near-duplicates and ideas
  the owner put together start in one group; groups tied to two different owner themes, or
  to a theme the owner closed, never merge.
- Theme ids: a group holding ideas the owner pinned keeps that theme; any other group takes
  the id of the earlier theme it shares most members with (more than half of either), so
  ids, labels and links survive a recomputation.

Ties are broken by the text itself, never by arrival order, so the same ideas give the same
themes whatever order they came in.
"""

import hashlib
import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz

from feedback.themes import text

VERSION = "themes-2"


@dataclass(frozen=True)
class Params:
    """The algorithm's settings; recorded with every result."""

    theme_similarity: float = 0.08  # average-linkage cut: groups less alike stay apart
    duplicate_similarity: float = 0.5  # cosine, and then ...
    duplicate_ratio: float = 80.0  # ... rapidfuzz token-set ratio of the normalised texts
    neighbours: int = 40  # edges kept per idea in the similarity graph
    min_edge: float = 0.05  # similarities below this count as zero
    keywords: int = 5

    def describe(self) -> dict:
        return {"version": VERSION, **self.__dict__}


DEFAULTS = Params()


@dataclass(frozen=True)
class Idea:
    id: int
    topic: int
    title: str | None
    body: str
    arrived: datetime


@dataclass(frozen=True)
class Decisions:
    """What the owner decided; every computation obeys it."""

    pins: dict[int, int] = field(default_factory=dict)  # idea id -> theme id it stays in
    closed: frozenset[int] = frozenset()  # themes that take only the ideas pinned to them
    confirmed: dict[int, int] = field(default_factory=dict)  # duplicate -> the idea it repeats
    dismissed: frozenset[tuple[int, int]] = frozenset()  # (lower id, higher id): not the same


@dataclass(frozen=True)
class Theme:
    id: int | None  # the earlier theme this one continues; None for a new theme
    topic: int
    members: tuple[int, ...]
    keywords: tuple[str, ...]
    label: str
    representative: int
    # Per member: how alike it is to the rest of its theme (mean cosine), for "why".
    closeness: dict[int, float]


@dataclass(frozen=True)
class Duplicate:
    idea: int
    duplicate_of: int
    similarity: float
    shared: tuple[str, ...]
    confirmed: bool


@dataclass(frozen=True)
class Result:
    themes: list[Theme]
    duplicates: list[Duplicate]
    params: Params


def pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


class _Corpus:
    """The ideas of one computation, in content order, read once, with their word weights."""

    def __init__(self, ideas: Sequence[Idea]):
        parts = {i.id: text.normalised_pair(i.title, i.body) for i in ideas}
        # Content order: a hash of the normalised text, so arrival order never matters.
        key = {
            i: hashlib.sha1(" ".join(p).strip().encode("utf-8", "surrogatepass")).hexdigest()
            for i, p in parts.items()
        }
        self.ideas = sorted(ideas, key=lambda i: (key[i.id], i.id))
        self.index = {idea.id: n for n, idea in enumerate(self.ideas)}
        self.tokens = text.Tokenised(parts[i.id] for i in self.ideas)
        self.weights = text.corpus_weights(self.tokens)

    def neighbours(self, rows: Sequence[int], params: Params) -> sp.coo_matrix:
        """Each row's strongest edges among ``rows`` (ids of all rows, not only these)."""
        n = len(self.ideas)
        if len(rows) < 2:
            return sp.coo_matrix((n, n), dtype=np.float32)
        rows = np.asarray(rows)
        rare, common = _split(text.vectors(self.tokens.features(rows), self.weights))
        across, common_across = rare.T.tocsr(), common.T

        def strongest(start: int) -> tuple[np.ndarray, ...]:
            stop = min(start + _CHUNK, len(rows))
            sims = common[start:stop] @ common_across
            sims += (rare[start:stop] @ across).toarray()
            sims[np.arange(stop - start), np.arange(start, stop)] = 0.0
            row, other, value = _strongest(sims, params.neighbours, params.min_edge)
            return rows[start:stop][row], rows[other], value

        # The products and partitions run outside the GIL: two threads use both cores.
        with ThreadPoolExecutor(_THREADS) as pool:
            found = list(pool.map(strongest, range(0, len(rows), _CHUNK)))
        source, target, value = (np.concatenate(parts) for parts in zip(*found, strict=True))
        return sp.coo_matrix((value, (source, target)), shape=(n, n))


# Rows compared at once: a chunk's similarities to every idea of its topic fit in memory.
_CHUNK = 128
_THREADS = 2
_SAMPLE = 4096  # columns that bound a row's strongest values
# A feature more than this share of a topic's ideas have is compared as a dense column (fast
# matrix products); the rest stay sparse. Both give the same sums: this only saves time.
_DENSE_SHARE = 0.03


def _strongest(sims: np.ndarray, keep: int, floor: float) -> tuple[np.ndarray, ...]:
    """Each row's ``keep`` largest values of at least ``floor``, as (row, column, value);
    equal values go to the lower column (the content order), so the choice is exact."""
    if sims.shape[1] > keep:
        # The keep-th largest of a few columns is a lower bound of the row's own: only the
        # values above it need sorting.
        sample = sims[:, : max(_SAMPLE, keep + 1)]
        bound = -np.partition(-sample, keep - 1, axis=1)[:, keep - 1]
        floors = np.maximum(bound, floor)[:, None]
    else:
        floors = floor
    row, column = np.nonzero(sims >= floors)
    value = sims[row, column]
    order = np.lexsort((column, -value, row))
    row, column, value = row[order], column[order], value[order]
    first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    place = np.arange(len(row)) - np.repeat(first, np.diff(np.r_[first, len(row)]))
    kept = place < keep
    return row[kept], column[kept], value[kept]


def _split(block: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """The vectors' rare features as a compact sparse matrix, the common ones as dense
    columns, both in single precision (plenty for similarities, half the memory)."""
    used, column = np.unique(block.indices, return_inverse=True)
    column = column.ravel()
    frequency = np.bincount(column, minlength=len(used))
    common = frequency > _DENSE_SHARE * block.shape[0]
    dense_column = np.cumsum(common) - 1
    rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    is_common = common[column]
    dense = np.zeros((block.shape[0], int(common.sum())), dtype=np.float32)
    dense[rows[is_common], dense_column[column[is_common]]] = block.data[is_common]
    rare = ~is_common
    sparse = sp.csr_matrix(
        (block.data[rare].astype(np.float32), (rows[rare], column[rare])),
        shape=(block.shape[0], len(used)),
    )
    return sparse, dense


def _graph(corpus: _Corpus, by_topic: dict[int, list[int]], params: Params) -> sp.csr_matrix:
    """The similarity graph: every idea's strongest edges within its topic, both ways."""
    n = len(corpus.ideas)
    directed = sp.csr_matrix((n, n), dtype=np.float32)
    for rows in by_topic.values():
        directed = directed + corpus.neighbours(rows, params).tocsr()
    return directed.maximum(directed.T).tocsr()


def _is_duplicate(
    tokens: text.Tokenised, a: int, b: int, similarity: float, params: Params
) -> bool:
    """The near-duplicate test, in a full computation and for a new idea alike: texts a and b
    alike (cosine ``similarity``) and nearly the same words (fuzzy ratio)."""
    if similarity < params.duplicate_similarity:
        return False
    normalised = tokens.normalised
    return fuzz.token_set_ratio(normalised[a], normalised[b]) >= params.duplicate_ratio


def _duplicates(
    corpus: _Corpus,
    graph: sp.csr_matrix,
    decisions: Decisions,
    params: Params,
) -> dict[int, tuple[int, float, bool]]:
    """Row of each duplicate -> (row of the idea it repeats, similarity, confirmed)."""
    found: dict[int, tuple[int, float, bool]] = {}
    index = corpus.index
    for dup, original in decisions.confirmed.items():
        if dup in index and original in index:
            a, b = index[dup], index[original]
            found[a] = (b, float(graph[a, b]), True)
    originals = {b for b, _, _ in found.values()}
    # Only edges this strong can join a duplicate and the idea it repeats.
    close = graph.multiply(graph >= params.duplicate_similarity).tocsr()
    by_arrival = sorted(range(len(corpus.ideas)), key=lambda n: _arrival(corpus.ideas[n]))
    rank = {n: r for r, n in enumerate(by_arrival)}
    for n in by_arrival:
        span = slice(close.indptr[n], close.indptr[n + 1])
        if n in found or n in originals or span.start == span.stop:
            continue
        idea = corpus.ideas[n]
        # The most similar earlier idea that passes the test (the earliest among equals).
        candidates = sorted(
            (
                (-similarity, rank[m], m)
                for m, similarity in zip(
                    close.indices[span].tolist(), close.data[span].tolist(), strict=True
                )
                if rank[m] < rank[n] and m not in found
            ),
        )
        for negative, _rank, m in candidates:
            if pair(idea.id, corpus.ideas[m].id) in decisions.dismissed:
                continue
            if _is_duplicate(corpus.tokens, n, m, -negative, params):
                found[n] = (m, -negative, False)
                originals.add(m)
                break
    return found


def _arrival(idea: Idea) -> tuple[datetime, int]:
    return (idea.arrived, idea.id)


class _Groups:
    """Union-find over rows, for the groups that start together."""

    def __init__(self, rows: Iterable[int]):
        self.parent = {r: r for r in rows}

    def find(self, r: int) -> int:
        while self.parent[r] != r:
            self.parent[r] = self.parent[self.parent[r]]
            r = self.parent[r]
        return r

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _agglomerate(
    rows: list[int],
    graph: sp.csr_matrix,
    starts: _Groups,
    anchor: dict[int, int],
    closed: frozenset[int],
    earlier: dict[int, int],
    threshold: float,
) -> list[list[int]]:
    """Average linkage over the graph (missing edges are zero), stopped at ``threshold``.

    ``anchor`` maps a row to the owner's theme it is pinned to: two groups with different
    anchors never merge, nor does a group anchored to a closed theme take anyone else. A
    theme the owner shaped takes new ideas, and its own earlier members (``earlier`` maps
    rows to their earlier theme), but never ideas that were in another theme.
    """
    members: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        members[starts.find(r)].append(r)
    anchors: dict[int, int | None] = {}
    for c, ms in members.items():
        pinned = {anchor[m] for m in ms if m in anchor}
        anchors[c] = min(pinned) if pinned else None
    came_from = {
        c: {earlier[m] for m in ms if m in earlier and m not in anchor}
        for c, ms in members.items()
    }
    # The similarity summed between every two starting groups, from the graph at once.
    clusters = sorted(members)
    position = {c: n for n, c in enumerate(clusters)}
    local = np.asarray(rows)
    assign = sp.csr_matrix(
        (np.ones(len(rows)), (np.arange(len(rows)), [position[starts.find(r)] for r in rows])),
        shape=(len(rows), len(clusters)),
    )
    between = (assign.T @ graph[local][:, local] @ assign).tocoo()
    sums: dict[int, dict[int, float]] = defaultdict(dict)
    for p, q, total in zip(
        between.row.tolist(), between.col.tolist(), between.data.tolist(), strict=True
    ):
        if p != q:
            sums[clusters[p]][clusters[q]] = total

    def allowed(a: int, b: int) -> bool:
        x, y = anchors[a], anchors[b]
        if x is not None and y is not None and x != y:
            return False
        if (x is not None and y is None and came_from[b] - {x}) or (
            y is not None and x is None and came_from[a] - {y}
        ):
            return False
        return not ((x in closed and y != x) or (y in closed and x != y))

    heap: list[tuple[float, int, int]] = []
    for a, row in sums.items():
        for b, total in row.items():
            if a < b:
                average = total / (len(members[a]) * len(members[b]))
                if average >= threshold:
                    heap.append((-average, a, b))
    heapq.heapify(heap)
    while heap:
        negative, a, b = heapq.heappop(heap)
        if a not in members or b not in members:
            continue
        total = sums[a].get(b)
        if total is None or not math.isclose(
            -negative, total / (len(members[a]) * len(members[b]))
        ):
            continue
        if not allowed(a, b):
            continue
        # Merge b into a (a is the smaller row, so the name is stable).
        keep, gone = min(a, b), max(a, b)
        members[keep].extend(members.pop(gone))
        anchors[keep] = anchors[keep] if anchors[keep] is not None else anchors[gone]
        del anchors[gone]
        came_from[keep] |= came_from.pop(gone)
        for other, value in sums.pop(gone).items():
            sums[other].pop(gone, None)
            if other == keep:
                continue
            sums[keep][other] = sums[keep].get(other, 0.0) + value
            sums[other][keep] = sums[keep][other]
        sums[keep].pop(gone, None)
        for other, total in sums[keep].items():
            average = total / (len(members[keep]) * len(members[other]))
            if average >= threshold:
                lo, hi = min(keep, other), max(keep, other)
                heapq.heappush(heap, (-average, lo, hi))
    return [sorted(ms) for ms in members.values()]


def _terms(tokens: text.Tokenised) -> tuple[sp.csr_matrix, tuple[np.ndarray, ...], list[str]]:
    """Stems and stem pairs of every idea, for keywords (a title's counted twice).

    Returns idea x term counts; each use's idea, place (the order titles and then bodies
    read in, a stem before the pair it ends) and term; and each term's text.
    """
    stems: dict[str, int] = {}
    stem_of = np.array(
        [stems.setdefault(text.stem(w), len(stems)) for w in tokens.words], dtype=np.int64
    )
    used = np.flatnonzero(tokens.ids >= 0)
    term = stem_of[tokens.ids[used]]
    weight = np.where(tokens.title[used], 2.0, 1.0)
    # A pair: two words written next to each other, in one idea's title or body.
    after = used[1:][np.diff(used) == 1]
    after = after[
        (tokens.rows[after] == tokens.rows[after - 1])
        & (tokens.title[after] == tokens.title[after - 1])
    ]
    first, second = stem_of[tokens.ids[after - 1]], stem_of[tokens.ids[after]]
    after, first, second = (a[first != second] for a in (after, first, second))
    codes, pair_term = np.unique(first * len(stems) + second, return_inverse=True)
    names = list(stems)
    names += [f"{names[c // len(stems)]} {names[c % len(stems)]}" for c in codes.tolist()]
    term = np.concatenate([term, len(stems) + pair_term.ravel()])
    at = np.concatenate([2 * used, 2 * after + 1])
    row = tokens.rows[np.concatenate([used, after])]
    weight = np.concatenate([weight, np.where(tokens.title[after], 2.0, 1.0)])
    counts = sp.csr_matrix((weight, (row, term)), shape=(len(tokens), len(names)))
    return counts, (row, at, term), names


def _surface_forms(tokens: text.Tokenised) -> dict[str, str]:
    """The most common written form of each stem ("outlets" for "outlet")."""
    uses = np.bincount(tokens.ids[tokens.ids >= 0], minlength=len(tokens.words))
    forms: dict[str, tuple[int, str]] = {}
    for word, n in zip(tokens.words, uses.tolist(), strict=True):
        s = text.stem(word)
        if s not in forms or (-n, word) < (-forms[s][0], forms[s][1]):
            forms[s] = (n, word)
    return {s: word for s, (_n, word) in forms.items()}


def _keywords(groups: list[list[int]], corpus: _Corpus, count: int) -> list[tuple[str, ...]]:
    """Class-based TF-IDF: terms that many of a theme's ideas use and the other themes don't.

    Equal scores go to the term written first (titles come first), not to the alphabet.
    """
    counts, (row, at, term), names = _terms(corpus.tokens)
    # Once per idea, plus a little per use: words many members share win.
    counts.data = 1.0 + 0.1 * counts.data
    group_of = _group_of(groups, len(corpus.ideas))
    assign = sp.csr_matrix(
        (np.ones(len(group_of)), (group_of, np.arange(len(group_of)))),
        shape=(len(groups), len(group_of)),
    )
    totals = (assign @ counts).tocoo()
    order = np.lexsort((totals.col, totals.row))
    g, w, total = totals.row[order], totals.col[order], totals.data[order]
    # Where each theme first wrote each term.
    use_group = group_of[row]
    first = np.lexsort((at, term, use_group))
    starts = np.ones(len(first), dtype=bool)
    starts[1:] = (use_group[first][1:] != use_group[first][:-1]) | (
        term[first][1:] != term[first][:-1]
    )
    written = at[first][starts]
    overall = np.bincount(w, weights=total, minlength=len(names))
    average = overall.sum() / max(len(groups), 1)
    size = np.bincount(g, weights=total, minlength=len(groups))
    score = (total / size[g]) * np.log(1 + average / overall[w])
    ranked = np.lexsort((written, -score, g))
    bounds = np.searchsorted(g[ranked], np.arange(len(groups) + 1))
    forms = _surface_forms(corpus.tokens)
    result = []
    for k in range(len(groups)):
        chosen: list[str] = []
        for t in w[ranked[bounds[k] : bounds[k + 1]]].tolist():
            term_text = names[t]
            parts = term_text.split(" ")
            if len(parts) == 1 and any(term_text in c.split(" ") for c in chosen):
                continue
            if len(parts) == 2 and all(p in chosen for p in parts):
                chosen = [c for c in chosen if c not in parts]
            chosen.append(term_text)
            if len(chosen) == count:
                break
        result.append(tuple(" ".join(forms.get(p, p) for p in c.split(" ")) for c in chosen))
    return result


def _label(keywords: tuple[str, ...], only: Idea | None = None) -> str:
    """Three keywords; a theme of one idea is called by the idea's title or first words."""
    if only is not None:
        if only.title:
            return only.title.strip()
        words = only.body.split()
        return " ".join(words[:8]) + ("…" if len(words) > 8 else "")
    if not keywords:
        return "Untitled theme"
    label = ", ".join(keywords[:3])
    return label[:1].upper() + label[1:]


def _group_of(groups: list[list[int]], rows: int) -> np.ndarray:
    """The group of each row (every row is in one)."""
    group_of = np.empty(rows, dtype=np.int64)
    for g, members in enumerate(groups):
        group_of[members] = g
    return group_of


def _centrality(groups: list[list[int]], graph: sp.csr_matrix) -> np.ndarray:
    """How alike each idea is to the rest of its theme: mean similarity, 1 when alone."""
    group_of = _group_of(groups, graph.shape[0])
    sizes = np.bincount(group_of)[group_of]
    edges = graph.tocoo()
    inside = group_of[edges.row] == group_of[edges.col]
    total = np.bincount(edges.row[inside], weights=edges.data[inside], minlength=len(sizes))
    return np.where(sizes > 1, total / np.maximum(sizes - 1, 1), 1.0)


def _continue_ids(
    groups: list[tuple[list[int], int | None]],
    corpus: _Corpus,
    previous: dict[int, int],
    taken: set[int],
) -> list[int | None]:
    """Earlier theme ids for groups that no pin ties to one: most shared members first."""
    ids: list[int | None] = [anchored for _rows, anchored in groups]
    old_sizes = Counter(t for idea, t in previous.items() if idea in corpus.index)
    overlaps = []
    for g, (rows, anchored) in enumerate(groups):
        if anchored is not None:
            continue
        shared = Counter(
            previous[corpus.ideas[r].id] for r in rows if corpus.ideas[r].id in previous
        )
        for theme, n in shared.items():
            if 2 * n > min(len(rows), old_sizes[theme]):
                overlaps.append((-n, theme, min(rows), g))
    used = set(taken)
    for _n, theme, _first, g in sorted(overlaps):
        if ids[g] is None and theme not in used:
            ids[g] = theme
            used.add(theme)
    return ids


def compute(
    ideas: Sequence[Idea],
    decisions: Decisions | None = None,
    previous: dict[int, int] | None = None,
    params: Params = DEFAULTS,
) -> Result:
    """Themes and duplicates for ``ideas``; ``previous`` maps idea ids to earlier theme ids."""
    decisions = decisions or Decisions()
    previous = previous or {}
    corpus = _Corpus(ideas)
    by_topic: dict[int, list[int]] = defaultdict(list)
    for n, idea in enumerate(corpus.ideas):
        by_topic[idea.topic].append(n)
    graph = _graph(corpus, by_topic, params)
    duplicates = _duplicates(corpus, graph, decisions, params)

    # A theme id pinned in two topics stays with the topic holding most of its pins.
    pin_topics: dict[int, Counter[int]] = defaultdict(Counter)
    for idea_id, theme in decisions.pins.items():
        if idea_id in corpus.index:
            pin_topics[theme][corpus.ideas[corpus.index[idea_id]].topic] += 1
    home = {t: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for t, c in pin_topics.items()}
    anchor = {}
    for idea_id, theme in decisions.pins.items():
        n = corpus.index.get(idea_id)
        if n is not None and corpus.ideas[n].topic == home[theme]:
            anchor[n] = theme

    starts = _Groups(range(len(corpus.ideas)))
    pinned_rows: dict[int, int] = {}
    for n, theme in sorted(anchor.items()):
        if theme in pinned_rows:
            starts.union(pinned_rows[theme], n)
        pinned_rows.setdefault(theme, n)
    # A duplicate starts with the idea it repeats, unless a pin keeps them apart or one of
    # them sits in a closed theme.
    for dup, (original, _sim, _confirmed) in duplicates.items():
        a, b = anchor.get(dup), anchor.get(original)
        if (
            a == b
            or (a is None and b not in decisions.closed)
            or (b is None and a not in decisions.closed)
        ):
            starts.union(dup, original)

    earlier = {n: previous[i.id] for n, i in enumerate(corpus.ideas) if i.id in previous}
    groups: list[tuple[list[int], int | None]] = []
    for topic in sorted(by_topic):
        rows = by_topic[topic]
        for g in _agglomerate(
            rows, graph, starts, anchor, decisions.closed, earlier, params.theme_similarity
        ):
            pinned = {anchor[r] for r in g if r in anchor}
            groups.append((g, min(pinned) if pinned else None))
    ids = _continue_ids(groups, corpus, previous, {a for _g, a in groups if a is not None})
    keywords = _keywords([g for g, _a in groups], corpus, params.keywords)
    closeness = _centrality([g for g, _a in groups], graph).tolist()
    themes = []
    for (rows, _anchored), theme_id, words in zip(groups, ids, keywords, strict=True):
        central = max(rows, key=lambda r: (round(closeness[r], 9), -r))
        themes.append(
            Theme(
                id=theme_id,
                topic=corpus.ideas[rows[0]].topic,
                members=tuple(sorted(corpus.ideas[r].id for r in rows)),
                keywords=words,
                label=_label(words, corpus.ideas[rows[0]] if len(rows) == 1 else None),
                representative=corpus.ideas[central].id,
                closeness={corpus.ideas[r].id: round(closeness[r], 4) for r in rows},
            )
        )
    themes.sort(key=lambda t: (t.topic, -len(t.members), t.label, t.members))
    found = []
    for dup, (original, similarity, confirmed) in duplicates.items():
        a, b = corpus.ideas[dup], corpus.ideas[original]
        found.append(
            Duplicate(
                idea=a.id,
                duplicate_of=b.id,
                similarity=round(similarity, 4),
                shared=tuple(
                    text.shared_words(
                        corpus.tokens.words_of(dup),
                        corpus.tokens.words_of(original, body_only=True),
                    )
                ),
                confirmed=confirmed,
            )
        )
    found.sort(key=lambda d: d.idea)
    return Result(themes, found, params)


def keywords_of(title: str | None, body: str, count: int = Params.keywords) -> tuple[str, ...]:
    """Keywords of one idea on its own (a theme of one made between computations)."""
    return words_of([(title, body)], count)[1]


def label_of(title: str | None, body: str) -> str:
    return _label((), Idea(0, 0, title, body, datetime.min))


def words_of(
    texts: Sequence[tuple[str | None, str]], count: int = Params.keywords
) -> tuple[str, tuple[str, ...]]:
    """The label and keywords of a group of ideas from their own words alone."""
    ideas = [Idea(n, 0, title, body, datetime.min) for n, (title, body) in enumerate(texts)]
    corpus = _Corpus(ideas)
    words = _keywords([list(range(len(ideas)))], corpus, count)[0]
    return _label(words, ideas[0] if len(ideas) == 1 else None), words


class Placer:
    """Places new ideas between computations: into the theme whose members are, on average,
    most like the idea (the same test average linkage applies), or into none.

    ``members`` are (theme id, title, body) of the ideas already in themes of one topic.
    """

    def __init__(self, members: Sequence[tuple[int, str | None, str]], params: Params):
        self.params = params
        tokens = text.tokenised((title, body) for _t, title, body in members)
        self.weights = text.corpus_weights(tokens)
        self.themes = sorted({t for t, _title, _body in members})
        self.position = {t: n for n, t in enumerate(self.themes)}
        rows = np.array([self.position[t] for t, _title, _body in members], dtype=np.int64)
        # Feature x theme sums of the members' vectors: a new idea's few features read only
        # their own rows. Summed a chunk of members at a time, to bound the memory.
        self.by_feature = sp.csr_matrix((text.DIMENSIONS, len(self.themes)))
        for start in range(0, len(rows), text.CHUNK):
            part = np.arange(start, min(start + text.CHUNK, len(rows)))
            assign = sp.csr_matrix(
                (np.ones(len(part)), (np.arange(len(part)), rows[part])),
                shape=(len(part), len(self.themes)),
            )
            vectors = text.vectors(tokens.features(part), self.weights)
            self.by_feature = self.by_feature + (vectors.T @ assign)
        self.by_feature = self.by_feature.tocsr()
        self.sizes = np.bincount(rows, minlength=len(self.themes)).astype(float)
        self.pending: list[tuple[int, sp.csr_matrix]] = []  # added since, folded in later

    def _vector(self, title: str | None, body: str) -> sp.csr_matrix:
        return text.vectors(text.features([(title, body)]), self.weights)

    def nearest(self, title: str | None, body: str) -> int | None:
        if not self.themes:
            return None
        vector = self._vector(title, body)
        scores = np.zeros(len(self.themes))
        known = self.by_feature.shape[1]
        scores[:known] = (vector @ self.by_feature).toarray().ravel()
        for n, added in self.pending:
            scores[n] += added.multiply(vector).sum()
        scores /= np.maximum(self.sizes, 1.0)
        best = int(np.argmax(scores))
        if scores[best] < self.params.theme_similarity:
            return None
        return self.themes[best]

    def duplicate_of(
        self, title: str | None, body: str, candidates: Sequence[tuple[int, str | None, str]]
    ) -> tuple[int, float, tuple[str, ...]] | None:
        """The candidate this idea repeats (the same test as a full computation's), with the
        similarity and the words both share; None when it repeats none."""
        if not candidates:
            return None
        tokens = text.tokenised([(title, body), *((t, b) for _id, t, b in candidates)])
        vectors = text.vectors(tokens.features(), self.weights)
        similarities = (vectors[1:] @ vectors[0].T).toarray().ravel()
        best = None
        for k, ((idea, _t, _b), similarity) in enumerate(
            zip(candidates, similarities, strict=True), start=1
        ):
            if not _is_duplicate(tokens, 0, k, similarity, self.params):
                continue
            if best is None or (similarity, -idea) > (best[1], -best[0]):
                best = (idea, float(similarity), k)
        if best is None:
            return None
        shared = text.shared_words(tokens.words_of(0), tokens.words_of(best[2], body_only=True))
        return best[0], best[1], tuple(shared)

    def add(self, theme_id: int, title: str | None, body: str) -> None:
        if theme_id not in self.position:
            self.position[theme_id] = len(self.themes)
            self.themes.append(theme_id)
            self.sizes = np.append(self.sizes, 0.0)
        n = self.position[theme_id]
        self.pending.append((n, self._vector(title, body)))
        self.sizes[n] += 1
        if len(self.pending) >= 256:
            self._fold()

    def _fold(self) -> None:
        rows = [n for n, _v in self.pending]
        stacked = sp.vstack([v for _n, v in self.pending]).T.tocsr()
        assign = sp.csr_matrix(
            (np.ones(len(rows)), (np.arange(len(rows)), rows)),
            shape=(len(rows), len(self.themes)),
        )
        grown = self.by_feature.copy()
        grown.resize((text.DIMENSIONS, len(self.themes)))
        self.by_feature = (grown + stacked @ assign).tocsr()
        self.pending = []
