"""Reprints in the stream: every worker of the group marks a reprint of an article any of them published, and
the index survives kill -9, restarts and rebalances.

- A processed page whose body has a signature has one more output: its `IndexEntry` (id, original, URL key,
  similarity, fetch time, size and MinHash) on TOPIC_REPRINTS, keyed by article id, in a fixed binary layout
  (`signature_record`). It goes out with the page's other outputs, under its guarantee: in its transaction
  under exactly_once.
- Every worker reads TOPIC_REPRINTS from its beginning (`Signatures`, a `TopicReader` like the site
  templates', rather than a faust GlobalTable: GlobalTables with several workers have missed updates,
  robinhood/faust#541 and #716, faust-streaming/faust#283) and folds each record into its own
  `ReprintIndex`; the page agent folds its own article as soon as it is processed, so that the worker's next
  pages see it without waiting for the topic. Folding an article the index holds changes nothing, so the
  record of an article folded already, or a replayed page's, keeps its first mark.
- A worker takes its first page once it has read the topic up to its end (with the templates, one wait).
- The topic is compacted (one record an article, whatever the replays) and deleted after
  REPRINT_WINDOW_AGE_S (Kafka's `retention.ms`, by the time a record was written): what the index would
  no longer match is not read again at a restart.
"""
from __future__ import annotations

import logging
import math
import struct

import numpy as np

from . import telemetry
from .delivery import Output
from .memory import TopicReader
from .pipeline.records import Signature
from .pipeline.reprints import NUM_PERM, IndexEntry, band_keys, fold
from .settings import Settings, reprint_index

log = logging.getLogger(__name__)

# A record, little-endian: layout version, article id and original id (16 bytes each), URL key, similarity,
# fetch time in seconds since the epoch (NaN: none) and the body's distinct shingles, then the NUM_PERM MinHash
# values, whole (the band keys are made from all 32 bits; the index keeps the low 16 of each). 573 bytes; as
# JSON it was ~1.5 KB.
RECORD_VERSION = 2
RECORD_HEADER = struct.Struct("<B16s16sQddI")
RECORD_BYTES = RECORD_HEADER.size + NUM_PERM * 4


class BadSignatureRecord(ValueError):
    """A record of the signatures topic that is not one this worker writes."""


def signature_record(entry: IndexEntry) -> bytes:
    seen_at = math.nan if entry.seen_at is None else entry.seen_at
    header = RECORD_HEADER.pack(RECORD_VERSION, bytes.fromhex(entry.article_id), bytes.fromhex(entry.original),
                                entry.url_key, entry.similarity, seen_at, entry.signature.shingles)
    return header + entry.signature.minhash.astype("<u4").tobytes()


def signature_output(settings: Settings, entry: IndexEntry) -> Output:
    """What a page teaches the group's reprint indexes, as one more output of the page."""
    return settings.topic_reprints, entry.article_id.encode("ascii"), signature_record(entry)


def read_signature(value: bytes | None) -> IndexEntry:
    if value is None or len(value) != RECORD_BYTES:
        raise BadSignatureRecord(f"{'no value' if value is None else f'{len(value)} bytes'}, not {RECORD_BYTES}")
    version, article_id, original, url_key, similarity, seen_at, shingles = RECORD_HEADER.unpack_from(value)
    if version != RECORD_VERSION:
        raise BadSignatureRecord(f"layout version {version}, not {RECORD_VERSION}")
    if not 0 < similarity <= 1:  # an original's own is 1; NaN fails too
        raise BadSignatureRecord(f"similarity {similarity}")
    if not shingles:
        raise BadSignatureRecord("a body of no shingles")
    minhash = np.frombuffer(value, dtype="<u4", offset=RECORD_HEADER.size).astype(np.uint32)
    return IndexEntry(article_id.hex(), url_key, Signature(minhash=minhash, bands=band_keys(minhash), shingles=shingles),
                      original.hex(), similarity, None if math.isnan(seen_at) else seen_at)


class Signatures(TopicReader):
    """The worker's reprint index (None with no TOPIC_REPRINTS): the group's articles, read from the topic, and
    the worker's own, folded as it processes them."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.topic_reprints)
        self.index = reprint_index(settings) if settings.topic_reprints else None

    def fold(self, entry: IndexEntry | None) -> None:
        if self.index is not None:
            fold(self.index, entry)
            telemetry.REPRINT_INDEX_ARTICLES.set(len(self.index))

    def apply(self, key: str, value: bytes | None) -> None:
        """One record of the topic: an article for the index. A bad record is logged, counted and skipped."""
        try:
            entry = read_signature(value)
            if entry.article_id != key:
                raise BadSignatureRecord(f"the record is article {entry.article_id}'s")
        except BadSignatureRecord as exc:
            log.warning("signature record %r not read (%s); skipped", key, exc)
            telemetry.labelled(telemetry.REPRINT_RECORDS_SKIPPED, "bad_record").inc()
            return
        self.fold(entry)
