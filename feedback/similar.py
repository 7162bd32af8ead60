"""Public ideas like a text: what a reader sees while writing an idea, and after sending one.

Each process keeps an index of the public, approved ideas' TF-IDF vectors (themes/text.py),
each cut down to its strongest features: it only proposes candidates. Every answer is read
back through the privacy gate and scored again on the ideas' current text, so an idea hidden
a moment ago never appears, and an edited one is scored as it reads now.
"""

import logging
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import scipy.sparse as sp
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from feedback import visibility
from feedback.models import Submission
from feedback.themes import text as tfidf

log = logging.getLogger(__name__)

# Below this cosine an idea shares no more than chance words with the text (on the demo ideas,
# unrelated questions score under 0.1).
MIN_SCORE = 0.1
# The features each idea keeps in the index: enough to find it, small enough for 100 000.
KEEP_FEATURES = 48
# Candidates read back and scored exactly, per result asked for.
CANDIDATES_PER_RESULT = 4
# Up to this many ideas the index is built during the request; beyond, in a thread.
INLINE_BUILD_LIMIT = 1000
# A full rebuild finds edited text by its new words, with fresh word weights (until then an
# edited idea is found by its old words, and always scored on its new ones).
REBUILD_SECONDS = 6 * 3600
# ...and runs sooner once the ideas added since the build pass this share of it.
GROWTH = 0.1
GROWTH_MINIMUM = 200
# Ideas published this long before the newest one indexed are read again, so that one whose
# transaction committed late is still found.
OVERLAP = timedelta(minutes=5)
_CHUNK = 500


@dataclass(frozen=True)
class Match:
    """A public idea and how alike it is to the text (cosine similarity, 0 to 1)."""

    submission: Submission
    score: float


@dataclass(frozen=True)
class _Row:
    id: int
    title: str | None
    body: str
    published_at: datetime | None


Kept = tuple[np.ndarray, np.ndarray, np.ndarray]


def _triples(matrix: sp.csr_matrix) -> Kept:
    """A matrix's (row, feature, weight) arrays, rows ascending."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return rows, matrix.indices, matrix.data


def _kept(matrix: sp.csr_matrix) -> Kept:
    """Each row's KEEP_FEATURES largest weights (weights are at most 1), in compact types."""
    rows, features, weights = _triples(matrix)
    order = np.argsort(rows - weights / 2, kind="stable")
    starts = np.searchsorted(rows, rows[order])
    keep = order[np.arange(len(order)) - starts < KEEP_FEATURES]
    return (
        rows[keep].astype(np.int32),
        features[keep].astype(np.int32),
        weights[keep].astype(np.float32),
    )


@dataclass(frozen=True)
class _Block:
    """Ideas' kept weights, inverted: for each feature, the ideas that keep it and how much."""

    ids: np.ndarray
    vocabulary: np.ndarray
    postings: sp.csr_matrix

    @classmethod
    def of(cls, ids: np.ndarray, kept: Kept) -> "_Block":
        rows, features, weights = kept
        order = np.argsort(features, kind="stable")
        features = features[order]
        starts = np.flatnonzero(np.diff(features, prepend=-1))
        indptr = np.append(starts, len(features))
        postings = sp.csr_matrix(
            (weights[order], rows[order], indptr), shape=(len(starts), len(ids))
        )
        return cls(ids, features[starts], postings)

    def scores(self, query: sp.csr_matrix) -> np.ndarray:
        """Each idea's dot product of its kept weights with the query vector."""
        if not len(self.vocabulary):
            return np.zeros(len(self.ids))
        features = query.indices
        position = np.minimum(np.searchsorted(self.vocabulary, features), len(self.vocabulary) - 1)
        found = self.vocabulary[position] == features
        return self.postings[position[found]].T @ query.data[found]


def _against_first(matrix: sp.csr_matrix) -> np.ndarray:
    """The cosine of each row after the first with the first (rows are unit vectors).

    Looked up in the first row's few features: a product with its transpose would build an
    index over every feature there could be.
    """
    first = matrix[0]
    order = np.argsort(first.indices)
    query_features, query_weights = first.indices[order], first.data[order]
    rows, features, weights = _triples(matrix[1:])
    position = np.minimum(np.searchsorted(query_features, features), len(query_features) - 1)
    shared = query_features[position] == features
    products = np.where(shared, weights * query_weights[position], 0.0)
    return np.bincount(rows, weights=products, minlength=matrix.shape[0] - 1)


def _nothing() -> Kept:
    return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)


@dataclass(frozen=True)
class _Index:
    """One process's view of the public ideas; replaced, never changed, when it grows."""

    weights: tfidf.Weights
    base: _Block
    # Ideas published since the build, and their kept weights to grow that block by.
    extra: _Block
    extra_kept: Kept
    # The newest publication time indexed, and the ideas published within OVERLAP of it.
    watermark: datetime | None
    seen: dict[int, datetime]
    built: float

    def vectors(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        return tfidf.vectors(counts, self.weights)

    def candidates(self, query: sp.csr_matrix, count: int) -> list[int]:
        """Ids of the ideas whose kept features score highest against the query vector."""
        scores = np.concatenate([self.base.scores(query), self.extra.scores(query)])
        ids = np.concatenate([self.base.ids, self.extra.ids])
        hits = np.flatnonzero(scores > 0)
        if len(hits) > count:
            hits = hits[np.argpartition(-scores[hits], count - 1)[:count]]
        return sorted(set(ids[hits].tolist()))

    def plus(self, rows: Sequence[_Row]) -> "_Index":
        """The index with these ideas added to the extra block."""
        row, feature, weight = _kept(self.vectors(_counts(rows)))
        old_row, old_feature, old_weight = self.extra_kept
        kept = (
            np.concatenate([old_row, row + len(self.extra.ids)]),
            np.concatenate([old_feature, feature]),
            np.concatenate([old_weight, weight]),
        )
        ids = np.concatenate([self.extra.ids, [r.id for r in rows]]).astype(np.int64)
        watermark = max(filter(None, [self.watermark, *(r.published_at for r in rows)]))
        published = {**self.seen, **{r.id: r.published_at for r in rows}}
        return replace(
            self,
            extra=_Block.of(ids, kept),
            extra_kept=kept,
            watermark=watermark,
            seen=_recent(published, watermark),
        )

    @property
    def size(self) -> int:
        return len(self.base.ids) + len(self.extra.ids)


def _public_rows() -> sa.Select:
    # Through the gate, so the index never holds a word of a private or pending idea.
    return (
        visibility.public_submissions()
        .order_by(None)
        .with_only_columns(
            Submission.id, Submission.title, Submission.body, Submission.published_at
        )
    )


def _counts(rows: Sequence[_Row] | Sequence[Submission]) -> sp.csr_matrix:
    return tfidf.features((row.title, row.body) for row in rows)


def _weights(documents: int, frequency: np.ndarray, features: np.ndarray) -> tfidf.Weights:
    """Corpus weights for these features, from document frequencies over every feature."""
    return tfidf.Weights(documents, features, frequency[features])


def _build(session: Session) -> _Index:
    """Index the public ideas in one pass, reading and weighing a chunk at a time.

    Each chunk is weighed with the document frequencies of the ideas read so far, its own
    included: from the first chunk on they rank an idea's features nearly as the whole
    corpus would, and holding every idea's counts for a second pass would take hundreds of
    megabytes. Answers are scored again with the final frequencies.
    """
    began = time.monotonic()
    frequency = np.zeros(tfidf.DIMENSIONS, dtype=np.int32)
    parts, ids, published = [], [], {}
    result = session.execute(_public_rows().execution_options(yield_per=_CHUNK))
    for part in result.partitions():
        rows = [_Row(*r) for r in part]
        chunk = _counts(rows)
        features, present = np.unique(chunk.indices, return_counts=True)
        frequency[features] += present
        weights = _weights(len(ids) + len(rows), frequency, features)
        row, feature, weight = _kept(tfidf.vectors(chunk, weights))
        parts.append((row + len(ids), feature, weight))
        ids.extend(r.id for r in rows)
        published.update((r.id, r.published_at) for r in rows if r.published_at)
    kept = tuple(np.concatenate(p) for p in zip(*parts, strict=True)) if parts else _nothing()
    del parts
    watermark = max(published.values(), default=None)
    return _Index(
        weights=_weights(len(ids), frequency, np.flatnonzero(frequency)),
        base=_Block.of(np.array(ids, dtype=np.int64), kept),
        extra=_Block.of(np.zeros(0, np.int64), _nothing()),
        extra_kept=_nothing(),
        watermark=watermark,
        seen=_recent(published, watermark),
        built=began,
    )


def _recent(published: dict[int, datetime], watermark: datetime | None) -> dict[int, datetime]:
    if watermark is None:
        return {}
    return {i: at for i, at in published.items() if at > watermark - OVERLAP}


def _grown(session: Session, index: _Index) -> _Index:
    """The index with the ideas published since it last looked, read through the gate.

    Only ids and times are read outside the gate, to know what to ask it for: a filter on
    status and visibility would lead SQLite's planner to scan every public idea instead of
    the few recent ones in the publication-time index.
    """
    recent = sa.select(Submission.id, Submission.published_at).where(
        Submission.published_at > index.watermark - OVERLAP
        if index.watermark
        else Submission.published_at.is_not(None)
    )
    fresh = {i: at for i, at in session.execute(recent) if index.seen.get(i) != at}
    if not fresh:
        return index
    public = _public_rows().where(Submission.id.in_(fresh))
    rows = [_Row(*r) for r in session.execute(public)]
    # The rest were published and hidden again: asking again waits for a new publication.
    index = replace(index, seen={**index.seen, **fresh})
    return index.plus(rows) if rows else index


class _Holder:
    """The index of one database (engine) in this process, and whether a build is running."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: _Index | None = None
        self.building = False

    def current(self, session: Session) -> _Index | None:
        """The index, brought up to date; None while the first build runs in the background."""
        with self.lock:
            if self.index is None:
                if not self.building:
                    count = session.scalar(
                        sa.select(sa.func.count()).select_from(_public_rows().subquery())
                    )
                    self._rebuild(session, count)
                return self.index
            self.index = _grown(session, self.index)
            index = self.index
            stale = time.monotonic() - index.built > REBUILD_SECONDS
            grown = len(index.extra.ids) > max(GROWTH_MINIMUM, GROWTH * len(index.base.ids))
            if stale or grown:
                self._rebuild(session, index.size)
            return self.index

    def _rebuild(self, session: Session, count: int) -> None:
        # Called with the lock held. A large build would hold the request past any timeout.
        if self.building:
            return
        if count <= INLINE_BUILD_LIMIT:
            self.index = _build(session)
            return
        self.building = True
        engine = session.get_bind()
        threading.Thread(target=self._build_apart, args=(engine,), daemon=True).start()

    def _build_apart(self, engine: Engine) -> None:
        try:
            began = time.perf_counter()
            with Session(engine) as session:
                index = _build(session)
            with self.lock:
                self.index = index
            log.info("Indexed %d public ideas in %.1f s", index.size, time.perf_counter() - began)
        except Exception:
            log.exception("Building the index of similar ideas failed")
        finally:
            self.building = False


_holders: "weakref.WeakKeyDictionary[Engine, _Holder]" = weakref.WeakKeyDictionary()
_holders_lock = threading.Lock()


def _holder(session: Session) -> _Holder:
    engine = session.get_bind()
    with _holders_lock:
        if engine not in _holders:
            _holders[engine] = _Holder()
        return _holders[engine]


@dataclass(frozen=True)
class IndexSize:
    """How many ideas an index holds, and the megabytes of its arrays."""

    ideas: int
    megabytes: float


def build_index(session: Session) -> IndexSize:
    """Build this process's index now, in this thread (the first ``find`` builds it lazily),
    and say how big it is. For warming up and benchmarks."""
    holder = _holder(session)
    index = _build(session)
    with holder.lock:
        holder.index = index
    arrays = [index.weights.features, index.weights.frequency, index.base.ids]
    arrays.append(index.base.vocabulary)
    postings = index.base.postings
    arrays += [postings.data, postings.indices, postings.indptr]
    return IndexSize(index.size, sum(a.nbytes for a in arrays) / 1e6)


def find(
    session: Session, text: str, limit: int = 5, *, exclude: int | None = None
) -> list[Match]:
    """Up to ``limit`` public, approved ideas most like ``text``, most similar first.

    ``exclude`` leaves out one idea (the reader's own). None scores below MIN_SCORE.
    """
    counts = tfidf.features([(None, text)])
    index = _holder(session).current(session)
    if index is None or not counts.nnz or limit < 1:
        return []
    ids = index.candidates(index.vectors(counts), limit * CANDIDATES_PER_RESULT + 1)
    if not ids:
        return []
    gate = visibility.public_submissions().order_by(None).where(Submission.id.in_(ids))
    if exclude is not None:
        gate = gate.where(Submission.id != exclude)
    items = session.scalars(gate).all()
    if not items:
        return []
    # Scored again on the text they have now, with every feature.
    scores = _against_first(index.vectors(sp.vstack([counts, _counts(items)]).tocsr()))
    scored = zip(scores.tolist(), items, strict=True)
    ranked = sorted(scored, key=lambda pair: (-pair[0], pair[1].id))
    return [Match(item, min(score, 1.0)) for score, item in ranked if score >= MIN_SCORE][:limit]
