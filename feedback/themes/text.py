"""Ideas as vectors: normalised words, stems, concepts and character n-grams, TF-IDF.

The same text always gives the same features, on every machine: features are hashed with
CRC-32 (not Python's salted ``hash``), and nothing depends on the order ideas arrived in.
"""

import re
import unicodedata
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np
import scipy.sparse as sp
import snowballstemmer

DIMENSIONS = 1 << 22

# How much each kind of feature counts. A title says what the idea is about in few words.
TITLE_WEIGHT = 2.0
CHAR_WEIGHT = 0.15
CHAR_SIZES = (4,)
CHUNK = 8_192  # texts turned into features at once: bounds the memory a large corpus takes
# Longer "words" are keyboard noise, hashes or tokens: they say nothing about the idea.
LONGEST_WORD = 30

_LINKS = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# Joined words: "Wi-Fi" and "wi fi" are "wifi", "Q&A" is "qa", "e-mail" is "email".
_JOINED = re.compile(r"(?<=[^\W\d_])[-&.'’](?=[^\W\d_])")
_WORD = re.compile(r"[^\W_]+")

# English function words and the words every idea for a conference uses.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each etc even
    ever every few for from further get gets getting go going got had has have having he her
    here hers herself him himself his how i if in into is it its itself just let lets like
    make made many may me might more most much must my myself need needs no nor not now of
    off on once one only or other others our ours ourselves out over own please pls plz
    really same she should so some something such than thank thanks that the their theirs
    them themselves then there these they thing things think this those though through to
    too under until up upon us use used very via want wants was way we well were what when
    where which while who whom why will with would yes yet you your yours yourself
    im ive id dont doesnt didnt cant wont isnt arent wasnt youre theyre thats theres lot lots
    maybe perhaps great good nice idea ideas suggest suggestion would love year years next
    within without better best keep give fine day days time times instead else still
    always often sometimes usually actually probably definitely especially already
    per each across conference event himss attendee attendees people folks everyone anyone someone
    """.split()
)

_stemmer = snowballstemmer.stemmer("english")

# Words that name one thing at a conference, so ideas that say it differently meet ("power
# outlets" and "somewhere to charge my laptop"). General conference vocabulary, each word in
# one group; a shared group counts as a shared word, and shows as such in "why".
CONCEPTS = {
    "power": "power outlet outlets plug plugs socket sockets charge charging charger chargers "
    "battery batteries extension cord cords",
    "network": "wifi wireless internet bandwidth connection connectivity hotspot signal network "
    "ethernet",
    "slides": "slide slides deck decks presentation presentations ppt pdf handout handouts",
    "recording": "record recorded recording recordings video videos livestream stream streaming "
    "webcast replay youtube",
    "duration": "minute minutes long longer length short shorter duration overrun hour hours",
    "questions": "question questions qa ask asking",
    "food": "food lunch lunches vegetarian vegan gluten halal kosher meal meals snack snacks "
    "dietary diet allergy allergies menu",
    "drinks": "coffee espresso tea caffeine barista water",
    "price": "price prices cost costs expensive fee fees registration ticket tickets discount "
    "cheap afford affordable pricing",
    "access": "accessible accessibility wheelchair ramp ramps caption captions captioning deaf "
    "blind interpreter mobility disability disabled",
    "quiet": "quiet calm noise noisy sensory rest overwhelmed",
    "children": "child children kid kids childcare creche parent parents babysitting",
    "transport": "shuttle shuttles bus buses taxi transport transportation parking ride",
    "agenda": "app schedule agenda calendar programme program timetable",
    "hashtag": "hashtag hashtags tag tags",
    "platforms": "twitter mastodon bluesky linkedin threads fediverse tweet tweets",
    "photos": "photo photos camera cameras picture pictures photograph photography selfie",
    "badge": "badge badges lanyard lanyards nametag",
    "meetup": "tweetup tweetups meetup meetups drinks reception party gathering mixer",
    "newcomer": "newcomer newcomers newbie newbies buddy buddies mentor mentors firsttimer",
    "press": "press media journalist journalists credential credentials pass passes",
    "vendor": "vendor vendors exhibitor exhibitors sales pitch pitches sponsor sponsors "
    "marketing commercial",
    "diversity": "diversity diverse women female minority minorities inclusion inclusive manel",
    "patients": "patient patients caregiver caregivers",
    "failure": "fail failed failure failures mistake mistakes lesson lessons postmortem",
}
CONCEPT_WEIGHT = 4.0
_CONCEPT_OF = {
    _stemmer.stemWord(word): concept
    for concept, listed in CONCEPTS.items()
    for word in listed.split()
}


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The word's stem: "outlets" and "outlet" are one feature."""
    return _stemmer.stemWord(word)


def normalise(text: str) -> str:
    """NFKC, case folded, links and email addresses removed, joined words joined."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _LINKS.sub(" ", text)
    return _JOINED.sub("", text)


def _tokens_of(normalised: str) -> list[str | None]:
    """The words of a normalised text, in order; None where a stop word or a number was, so
    that word pairs never span one."""
    return [
        None if len(w) < 2 or len(w) > LONGEST_WORD or w in STOP_WORDS or w.isdigit() else w
        for w in _WORD.findall(normalised)
    ]


def _feature(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % DIMENSIONS


@lru_cache(maxsize=200_000)
def _word_features(word: str) -> tuple[int, tuple[int, ...]]:
    """A word's stem feature and its character n-gram features (for typos and compounds)."""
    padded = f"<{word}>"
    grams = {padded[i : i + n] for n in CHAR_SIZES for i in range(len(padded) - n + 1)}
    return _feature("w:" + stem(word)), tuple(sorted(_feature("c:" + g) for g in grams))


def concept(word: str) -> str | None:
    """The conference concept a word names, if any."""
    return _CONCEPT_OF.get(stem(word))


@lru_cache(maxsize=200_000)
def _contributions(word: str) -> tuple[tuple[int, float], ...]:
    """What one use of a word adds: its stem, its concept, its character n-grams."""
    stem_feature, grams = _word_features(word)
    added = [(stem_feature, 1.0)]
    named = concept(word)
    if named is not None:
        added.append((_feature("k:" + named), CONCEPT_WEIGHT))
    added.extend((gram, CHAR_WEIGHT) for gram in grams)
    return tuple(added)


class Tokenised:
    """Texts read once: a vocabulary of normalised words and every text's words as ids.

    ``texts`` are (title, body) pairs, already normalised (``normalised_pair``). ``ids``
    holds each text's words in order (the title's first), -1 where a stop word or a number
    was; ``starts`` where each text begins in it.
    """

    def __init__(self, texts: Iterable[tuple[str, str]]):
        vocabulary: dict[str, int] = {}
        # Compact arrays while reading: a list of Python ints would take ten times as much.
        ids = array("i")
        in_title = array("b")
        starts = array("q", [0])
        self.normalised: list[str] = []
        for parts in texts:
            self.normalised.append(" ".join(parts).strip())
            for part, is_title in zip(parts, (True, False), strict=True):
                found = _tokens_of(part)
                ids.extend(
                    -1 if w is None else vocabulary.setdefault(w, len(vocabulary)) for w in found
                )
                in_title.extend(bytes([is_title]) * len(found))
            starts.append(len(ids))
        self.words = list(vocabulary)
        self.ids = np.frombuffer(ids, dtype=np.int32)
        self.title = np.frombuffer(in_title, dtype=np.int8).astype(bool)
        self.starts = np.frombuffer(starts, dtype=np.int64)
        self.rows = np.repeat(np.arange(len(starts) - 1), np.diff(self.starts))
        self._counts: sp.csr_matrix | None = None
        self._table: sp.csr_matrix | None = None

    def __len__(self) -> int:
        return len(self.starts) - 1

    def word_counts(self) -> sp.csr_matrix:
        """Text x word: how often each word is used, a title's words counted TITLE_WEIGHT."""
        if self._counts is None:
            used = self.ids >= 0
            self._counts = sp.csr_matrix(
                (
                    np.where(self.title[used], TITLE_WEIGHT, 1.0),
                    (self.rows[used], self.ids[used]),
                ),
                shape=(len(self), len(self.words)),
            )
        return self._counts

    def features(self, rows: np.ndarray | None = None) -> sp.csr_matrix:
        """Text x feature: weighted counts of stems, concepts and character n-grams."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows)
        if self._table is None:
            self._table = _feature_matrix(self.words)
        # A chunk of texts at a time: each use of a word is expanded before it is summed.
        parts = [
            self._features_of(rows[start : start + CHUNK])
            for start in range(0, max(len(rows), 1), CHUNK)
        ]
        return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")

    def _features_of(self, rows: np.ndarray) -> sp.csr_matrix:
        counts = self.word_counts()[rows].tocoo()
        # Each use of a word adds its features: the word x feature rows, gathered and scaled.
        table = self._table
        lengths = np.diff(table.indptr)[counts.col]
        ends = np.cumsum(lengths)
        at = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(
            table.indptr[counts.col] - (ends - lengths), lengths
        )
        return sp.csr_matrix(
            (
                np.repeat(counts.data, lengths) * table.data[at],
                (np.repeat(counts.row, lengths), table.indices[at]),
            ),
            shape=(counts.shape[0], DIMENSIONS),
        )

    def words_of(self, row: int, *, body_only: bool = False) -> list[str]:
        """The content words of one text, in order."""
        span = slice(self.starts[row], self.starts[row + 1])
        ids = self.ids[span]
        keep = ids >= 0
        if body_only:
            keep &= ~self.title[span]
        return [self.words[i] for i in ids[keep].tolist()]


def _feature_matrix(words: Sequence[str]) -> sp.csr_matrix:
    """Word x feature: what one use of each word adds."""
    contributions = [_contributions(w) for w in words]
    sizes = np.fromiter((len(c) for c in contributions), dtype=np.int64, count=len(words))
    flat = chain.from_iterable(contributions)
    pairs = np.array(list(flat), dtype=np.float64).reshape(-1, 2)
    return sp.csr_matrix(
        (pairs[:, 1], (np.repeat(np.arange(len(words)), sizes), pairs[:, 0].astype(np.int64))),
        shape=(len(words), DIMENSIONS),
    )


def normalised_pair(title: str | None, body: str) -> tuple[str, str]:
    return normalise(title or ""), normalise(body)


def tokenised(texts: Iterable[tuple[str | None, str]]) -> Tokenised:
    """Texts (title, body) as they were written, read once."""
    return Tokenised(normalised_pair(title, body) for title, body in texts)


def features(texts: Iterable[tuple[str | None, str]]) -> sp.csr_matrix:
    """Weighted feature counts of some texts (title, body), one row each."""
    return tokenised(texts).features()


IDF_FLOOR = 0.2  # a feature every idea has still counts a little (tiny corpora)


@dataclass(frozen=True)
class Weights:
    """Document frequencies of a corpus: what TF-IDF needs to weigh a new text the same way."""

    documents: int
    features: np.ndarray  # sorted feature ids
    frequency: np.ndarray  # how many ideas have each of them

    def idf(self, features: np.ndarray) -> np.ndarray:
        frequency = np.zeros(len(features))
        if len(self.features):
            at = np.minimum(np.searchsorted(self.features, features), len(self.features) - 1)
            known = self.features[at] == features
            frequency[known] = self.frequency[at[known]]
        return np.log((1 + self.documents) / (1 + frequency)) + IDF_FLOOR


def corpus_weights(tokens: Tokenised) -> Weights:
    """Document frequencies over every text, counted a chunk of texts at a time."""
    found, present = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for start in range(0, len(tokens), CHUNK):
        rows = np.arange(start, min(start + CHUNK, len(tokens)))
        features, counts = np.unique(tokens.features(rows).indices, return_counts=True)
        found.append(features)
        present.append(counts)
    features, at = np.unique(np.concatenate(found), return_inverse=True)
    frequency = np.bincount(at.ravel(), weights=np.concatenate(present), minlength=len(features))
    return Weights(len(tokens), features, frequency.astype(np.int64))


def vectors(counts: sp.csr_matrix, weights: Weights) -> sp.csr_matrix:
    """Rows of L2-normalised TF-IDF (sublinear term frequency), one per row of counts."""
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    data = (1.0 + np.log1p(counts.data)) * weights.idf(counts.indices)
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))
    norms[norms == 0] = 1.0
    return sp.csr_matrix(
        (data / norms[rows], counts.indices.copy(), counts.indptr.copy()), shape=counts.shape
    )


def shared_words(first: Sequence[str], second: Sequence[str], limit: int = 6) -> list[str]:
    """Content words two texts share, in the order they appear in the first (for "why")."""
    stems = {stem(w) for w in second}
    seen: list[str] = []
    for w in first:
        if stem(w) in stems and w not in seen:
            seen.append(w)
    return seen[:limit]
