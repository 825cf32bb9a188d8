"""Reprints: an article whose body the stream has already published under another URL.

    body_signature → (index) candidates → confirm → choose the original
                                        fold: the article joins the index

A body's signature is a MinHash (Broder 1997) of its character shingles, whitespace removed first so
that a hard-wrapped or one-node-a-line rendering of the same text gives the same shingles. Candidates
come from LSH banding (Indyk & Motwani 1998; Leskovec, Rajaraman & Ullman, *Mining of Massive
Datasets*, ch. 3): articles that agree with the body on every row of at least one band (narrow bands, to
reach the low Jaccard of a body inside a larger one). Each candidate is confirmed on its whole signature
(the share of equal MinHash values estimates the Jaccard similarity of the two shingle sets) against
SIMILARITY_THRESHOLD, or, when one body is nearly all inside the other (one extraction kept more of the
page than the other), against CONTAINMENT_THRESHOLD:
the share of the smaller set in the larger, from the Jaccard estimate and the two sets' sizes
(|A ∩ B| = J (|A| + |B|) / (1 + J); Broder 1997 defines both resemblance and containment).

The index keeps the last WINDOW_ARTICLES articles folded into it in a ring (the oldest is evicted
first) and matches an article only against those fetched at most WINDOW_AGE_S before it (the pages'
own fetch times, never the clock, so a replay gives the same marks). Signatures are kept in their low
16 bits (b-bit minwise hashing, Li & König 2010): two unequal values agree there once in 65,536, a
bias far below the estimate's own spread, for half the memory.

The pipeline only reads the index (`ReprintIndex.match`); `fold` is the one function that changes it,
and the offline commands and the stream layer call it in the order they take pages. A page folded
twice (a replayed page) changes nothing and keeps its first mark. Both hold the index's lock: the
worker folds the group's articles on its event loop while a long page is matched in a thread.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import rensa

from .records import PageResult, Reprint, Signature

SHINGLE_CHARS = 5  # characters per shingle: Chinese words are 1–4 characters, so a shingle spans a word or two
NUM_PERM = 128  # MinHash values per body: the Jaccard estimate's standard deviation is at most 0.045
MINHASH_SEED = 20240611  # fixed: every worker and every run must give the same signature to the same body
# LSH bands over the first BANDS × ROWS values. Two rows a band reach the pairs that only the containment
# rule confirms: a pair at Jaccard 0.25 is a candidate 87 % of the time, at 0.3 95 %, at 0.5 all but once
# in 10,000. Four rows (16 × 4) made a pair at 0.3 a candidate 12 % of the time.
BANDS, ROWS = 32, 2
MIN_SHINGLES = 50  # shorter bodies get no signature: a stock sentence or two is not a story
SIMILARITY_THRESHOLD = 0.7  # estimated Jaccard from which a body is the same story as an earlier one
CONTAINMENT_THRESHOLD = 0.95  # estimated share of the smaller body's shingles in the larger's from which ...
CONTAINED_MIN_SIMILARITY = 0.25  # ... the two are one story, if their Jaccard estimate is at least this too
WINDOW_ARTICLES = 100_000  # articles the index holds; the oldest folded is evicted first
WINDOW_AGE_S = 7 * 86_400  # an article matches earlier ones fetched at most this long before it

_MIX = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio: spreads the code points of a shingle
_BAND_WEIGHTS = np.array([0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93, 0xCA5A826395121157],
                         dtype=np.uint64)[:ROWS]
_BAND_NUMBERS = np.arange(1, BANDS + 1, dtype=np.uint64) * _MIX


def body_signature(body: str) -> Signature | None:
    """The MinHash and band keys of a body, or None for a body too short to tell apart."""
    hashes = shingle_hashes(body)
    if len(hashes) < MIN_SHINGLES:
        return None
    digest = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
        hashes, np.array([0, len(hashes)], dtype=np.uint64), num_perm=NUM_PERM, seed=MINHASH_SEED)
    minhash = np.array(digest.to_rows()[0], dtype=np.uint32)
    return Signature(minhash=minhash, bands=band_keys(minhash), shingles=distinct_count(hashes))


def shingle_hashes(body: str) -> np.ndarray:
    """A 64-bit hash of every SHINGLE_CHARS-character window of the body, whitespace removed. The
    windows are hashed here, vectorised, and handed to rensa as numbers: a Python string per shingle
    costs about 1 ms a page, this about 0.1 ms."""
    text = "".join(body.split())
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
    count = len(points) - SHINGLE_CHARS + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    hashes = points[:count].copy()
    with np.errstate(over="ignore"):  # wrapping arithmetic modulo 2^64 is the point
        for offset in range(1, SHINGLE_CHARS):
            hashes *= _MIX
            hashes ^= points[offset:offset + count]
        hashes ^= hashes >> np.uint64(31)  # splitmix64's finaliser: every input bit reaches every output bit
        hashes *= np.uint64(0xBF58476D1CE4E5B9)
        hashes ^= hashes >> np.uint64(29)
    return hashes


def distinct_count(hashes: np.ndarray) -> int:
    """How many different values `hashes` holds: sorted and counted where they change (np.unique took ten
    times as long, ~0.4 ms a body)."""
    ordered = np.sort(hashes)
    return int(len(ordered) > 0) + int(np.count_nonzero(ordered[1:] != ordered[:-1]))


def band_keys(minhash: np.ndarray) -> np.ndarray:
    """One 64-bit key per band: the band's ROWS values and its number, mixed."""
    rows = minhash[:BANDS * ROWS].astype(np.uint64).reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        return (rows * _BAND_WEIGHTS).sum(axis=1, dtype=np.uint64) ^ _BAND_NUMBERS


def url_key(url: str) -> int:
    """The URL as a 64-bit number: copies under the same URL are the same page fetched again, not reprints."""
    return int.from_bytes(hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def fetch_time(fetched_at: str | None) -> float | None:
    """Seconds since the epoch of a page's fetch time, or None when it has none (or none that parses)."""
    if not fetched_at:
        return None
    try:
        moment = datetime.fromisoformat(fetched_at)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo else None  # a naive time has no fixed place in a shared window


class ReprintIndex:
    """The articles seen in the window, by LSH band. Fixed-size arrays in a ring (`capacity` articles);
    the band keys are looked up in a sorted array, merged with the keys of the latest articles every
    MERGE_EVERY articles, so that a lookup is a binary search and the index holds no Python object per
    article. Each article has a sequence number; its slot is `sequence % capacity`, and an entry whose
    slot was taken since by a later article is stale and skipped."""

    MERGE_EVERY = 1024

    def __init__(self, capacity: int = WINDOW_ARTICLES, max_age_s: float = WINDOW_AGE_S,
                 threshold: float = SIMILARITY_THRESHOLD) -> None:
        self.capacity = capacity
        self.max_age_s = max_age_s
        self.threshold = threshold
        self.folded = 0  # articles folded in so far; the next one's sequence number
        self._minhash = np.zeros((capacity, NUM_PERM), dtype=np.uint16)
        self._ids = np.zeros(capacity, dtype="S16")
        self._originals = np.zeros(capacity, dtype="S16")
        self._similarity = np.zeros(capacity, dtype=np.float32)
        self._urls = np.zeros(capacity, dtype=np.uint64)
        self._seen = np.full(capacity, np.nan)
        self._shingles = np.zeros(capacity, dtype=np.uint32)
        self._sequence = np.full(capacity, -1, dtype=np.int64)
        self._sorted_keys = np.empty(0, dtype=np.uint64)
        self._sorted_sequences = np.empty(0, dtype=np.int64)
        self._recent: dict[int, list[int]] = {}  # band key → sequences, since the last merge
        self._recent_bands: list[np.ndarray] = []  # the band keys of those articles, in sequence order
        # article id → its slot, so that telling whether an article is held (every fold asks, and the stream
        # folds each article the worker published once more when it reads it back) is one lookup
        self._slot_of: dict[bytes, int] = {}
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return min(self.folded, self.capacity)

    @property
    def nbytes(self) -> int:
        arrays = (self._minhash, self._ids, self._originals, self._similarity, self._urls, self._seen,
                  self._shingles, self._sequence, self._sorted_keys, self._sorted_sequences)
        return sum(array.nbytes for array in arrays)

    def match(self, signature: Signature, article_id: str, url: str, seen_at: float | None) -> Reprint | None:
        """The earlier article this body repeats, or None. An article already in the index (a replayed
        page) gets the mark it got the first time."""
        with self.lock:
            return self._match(signature, article_id, url, seen_at)

    def _match(self, signature: Signature, article_id: str, url: str, seen_at: float | None) -> Reprint | None:
        slots = self._candidate_slots(signature.bands)
        if not len(slots):
            return None
        ids = self._ids[slots]
        own = np.flatnonzero(ids == bytes.fromhex(article_id))
        if len(own):
            slot = slots[own[0]]
            original = _hex(self._originals[slot])
            return None if original == article_id else Reprint(original, float(self._similarity[slot]))
        similarity = np.count_nonzero(self._minhash[slots] == signature.minhash.astype(np.uint16), axis=1) / NUM_PERM
        confirmed = alike(similarity, self._shingles[slots], signature.shingles, self.threshold) & \
            (self._urls[slots] != np.uint64(url_key(url)))
        if seen_at is not None:  # NaN (no fetch time) compares false: such articles age by count alone
            confirmed &= ~(self._seen[slots] < seen_at - self.max_age_s)
        if not confirmed.any():
            return None
        # The most alike earlier copy itself, not the first of its copies: a copy wrongly marked would pass
        # its wrong original on to every later copy of its own story, and the similarity is to this one.
        # Between equally alike ones the smallest id, so that every worker, whatever order it read the
        # index in, chooses the same.
        best = min(np.flatnonzero(confirmed), key=lambda i: (-similarity[i], ids[i]))
        return Reprint(_hex(ids[best]), float(similarity[best]))  # k/128: exact in JSON

    def _candidate_slots(self, bands: np.ndarray) -> np.ndarray:
        starts = np.searchsorted(self._sorted_keys, bands, side="left")
        ends = np.searchsorted(self._sorted_keys, bands, side="right")
        found = [self._sorted_sequences[start:end] for start, end in zip(starts, ends) if end > start]
        found += [np.array(self._recent[key], dtype=np.int64) for key in bands.tolist() if key in self._recent]
        if not found:
            return np.empty(0, dtype=np.int64)
        sequences = np.unique(np.concatenate(found))
        return sequences[self._live(sequences)] % self.capacity

    def holds(self, entry: IndexEntry) -> bool:
        return bytes.fromhex(entry.article_id) in self._slot_of

    def add(self, entry: IndexEntry) -> None:
        """Put an article in the next slot of the ring, evicting the oldest when full."""
        sequence, slot = self.folded, self.folded % self.capacity
        self.folded += 1
        if self._sequence[slot] >= 0:  # the evicted article
            del self._slot_of[bytes.fromhex(_hex(self._ids[slot]))]
        article_id = bytes.fromhex(entry.article_id)
        self._slot_of[article_id] = slot
        self._minhash[slot] = entry.signature.minhash.astype(np.uint16)
        self._ids[slot] = article_id
        self._originals[slot] = bytes.fromhex(entry.original)
        self._similarity[slot] = entry.similarity
        self._urls[slot] = entry.url_key
        self._seen[slot] = np.nan if entry.seen_at is None else entry.seen_at
        self._shingles[slot] = entry.signature.shingles
        self._sequence[slot] = sequence
        for key in entry.signature.bands.tolist():
            self._recent.setdefault(key, []).append(sequence)
        self._recent_bands.append(entry.signature.bands)
        if len(self._recent_bands) >= self.MERGE_EVERY:
            self._merge()

    def _live(self, sequences: np.ndarray) -> np.ndarray:
        """Which of these articles are still held: those whose slot no later article has taken, the
        last `capacity` folded."""
        return sequences >= self.folded - self.capacity

    def _merge(self) -> None:
        """Move the latest articles' band keys into the sorted arrays, leaving out stale entries: the new
        keys are sorted on their own and inserted by binary search, one pass over the held keys."""
        keys = np.concatenate(self._recent_bands)
        first = self.folded - len(self._recent_bands)
        sequences = np.repeat(np.arange(first, self.folded, dtype=np.int64), [len(b) for b in self._recent_bands])
        order = np.argsort(keys, kind="stable")
        keys, sequences = keys[order], sequences[order]
        live = self._live(self._sorted_sequences)
        held_keys, held_sequences = self._sorted_keys[live], self._sorted_sequences[live]
        places = np.searchsorted(held_keys, keys, side="right")  # after the held keys equal to it
        self._sorted_keys = np.insert(held_keys, places, keys)
        self._sorted_sequences = np.insert(held_sequences, places, sequences)
        self._recent, self._recent_bands = {}, []


def alike(similarity, shingles_a, shingles_b, threshold: float = SIMILARITY_THRESHOLD):
    """Whether two bodies are one story, from their estimated Jaccard similarity and their sizes in distinct
    shingles (numbers or arrays of them): alike enough, or the smaller nearly all inside the larger."""
    shingles_a, shingles_b = np.asarray(shingles_a, dtype=np.float64), np.asarray(shingles_b, dtype=np.float64)
    shared = similarity * (shingles_a + shingles_b) / (1 + similarity)
    containment = shared / np.maximum(np.minimum(shingles_a, shingles_b), 1)
    contained = (containment >= CONTAINMENT_THRESHOLD) & (similarity >= CONTAINED_MIN_SIMILARITY)
    return (similarity >= threshold) | contained


def _hex(article_id: bytes) -> str:
    # numpy's fixed-size bytes drop trailing zero bytes when read back
    return bytes(article_id).ljust(16, b"\0").hex()


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What an article adds to the index: its signature, and the original it was found to repeat (its
    own id when it repeats none) with their similarity."""

    article_id: str
    url_key: int
    signature: Signature
    original: str
    similarity: float
    seen_at: float | None  # seconds since the epoch of its fetch


def index_entry(result: PageResult, fetched_at: str | None) -> IndexEntry | None:
    """What a processed page teaches the index; None when its body has no signature."""
    signature, article = result.observations.signature, result.article
    if signature is None:
        return None
    return IndexEntry(article.id, url_key(article.url), signature, article.duplicate_of or article.id,
                      article.similarity or 1.0, fetch_time(fetched_at))


def fold(index: ReprintIndex, entry: IndexEntry | None) -> None:
    """Teach the index one article, in the order the pages were taken. An article it holds already (a
    replayed page) is not added again; an article without a signature adds nothing."""
    if entry is None:
        return
    with index.lock:
        if not index.holds(entry):
            index.add(entry)
