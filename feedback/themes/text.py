"""Ideas as vectors: normalised words, stems, word pairs and character n-grams, TF-IDF.

The same text always gives the same features, on every machine: features are hashed with
CRC-32 (not Python's salted ``hash``), and nothing depends on the order ideas arrived in.
"""

import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np
import scipy.sparse as sp
import snowballstemmer

DIMENSIONS = 1 << 22

# How much each kind of feature counts. A title says what the idea is about in few words.
TITLE_WEIGHT = 2.0
PAIR_WEIGHT = 0.0
CHAR_WEIGHT = 0.15
CHAR_SIZES = (3, 4, 5)
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


# Texts are tokenised several times in one computation; a few thousand stay cached.
@lru_cache(maxsize=8_192)
def tokens(text: str) -> tuple[str | None, ...]:
    """The words of a text, normalised, in order; None where a stop word or a number was, so
    that word pairs never span one."""
    return tuple(
        None if len(w) < 2 or len(w) > LONGEST_WORD or w in STOP_WORDS or w.isdigit() else w
        for w in _WORD.findall(normalise(text))
    )


def words(text: str) -> list[str]:
    """The content words of a text, normalised, in order (stop words and digits dropped)."""
    return [w for w in tokens(text) if w is not None]


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


def term_counts(title: str | None, body: str) -> Counter[int]:
    """Weighted feature counts of one idea: stems, concepts, character n-grams (and stem
    pairs when PAIR_WEIGHT is set)."""
    counts: Counter[int] = Counter()
    for text, weight in ((title or "", TITLE_WEIGHT), (body, 1.0)):
        previous = None
        for word in tokens(text):
            if word is None:
                previous = None
                continue
            for feature, share in _contributions(word):
                counts[feature] += weight * share
            if PAIR_WEIGHT:
                current = stem(word)
                if previous is not None and previous != current:
                    counts[_feature(f"p:{previous} {current}")] += weight * PAIR_WEIGHT
                previous = current
    return counts


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


def _flat(counts: Sequence[Counter[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, feature, count) arrays of a list of feature counts."""
    sizes = np.fromiter((len(c) for c in counts), dtype=np.int64, count=len(counts))
    total = int(sizes.sum())
    features = np.fromiter(chain.from_iterable(counts), dtype=np.int64, count=total)
    values = np.fromiter(
        chain.from_iterable(c.values() for c in counts), dtype=np.float64, count=total
    )
    return np.repeat(np.arange(len(counts)), sizes), features, values


def corpus_weights(counts: Sequence[Counter[int]]) -> Weights:
    _rows, features, _values = _flat(counts)
    unique, frequency = np.unique(features, return_counts=True)
    return Weights(len(counts), unique, frequency)


def vectors(counts: Sequence[Counter[int]], weights: Weights) -> sp.csr_matrix:
    """Rows of L2-normalised TF-IDF (sublinear term frequency), one per idea."""
    rows, features, values = _flat(counts)
    data = (1.0 + np.log1p(values)) * weights.idf(features)
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(counts)))
    norms[norms == 0] = 1.0
    return sp.csr_matrix((data / norms[rows], (rows, features)), shape=(len(counts), DIMENSIONS))


def shared_words(a: str, b: str, limit: int = 6) -> list[str]:
    """Content words two texts share, in the order they appear in the first (for "why")."""
    stems_b = {stem(w) for w in words(b)}
    seen: list[str] = []
    for w in words(a):
        if stem(w) in stems_b and w not in seen:
            seen.append(w)
    return seen[:limit]
