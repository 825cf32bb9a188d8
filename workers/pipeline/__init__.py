"""The pipeline: pure, synchronous functions from a raw page to a cleaned article and its facts.

    split_segments → classify → assemble → extract_facts → keywords → reprints

`process_page` is the single entry used by the stream worker and the offline commands alike.
"""
from __future__ import annotations

import bisect
import hashlib
import re
import time
from collections import Counter

from .assemble import assemble
from .classify import classify
from .decode import RejectedPage, decode_page, page_from_object
from .facts import read_facts, reference_year
from .keywords import article_keywords, load_dictionary
from .records import CONTENT_LABELS, METADATA_LABELS, NO_MEMORY, Article, Memory, Observations, PageResult, RawPage
from .reprints import body_signature, fetch_time
from .sitememory import site_memory, site_of
from .split import split_segments

PIPELINE_VERSION = "0.1.0"
BODY_SEPARATOR = "\n"

# Runs rather than single characters: a page's Han characters are counted in a few hundred matches.
_HAN = re.compile(r"[\u3400-\u9fff]+")
_LATIN = re.compile(r"[A-Za-z]+")

__all__ = [
    "PIPELINE_VERSION",
    "RejectedPage",
    "decode_page",
    "Memory",
    "NO_MEMORY",
    "load_dictionary",
    "page_from_object",
    "process_page",
    "stable_id",
]


def stable_id(*parts: str) -> str:
    """A deterministic id: the same inputs give the same id in every process and on every run."""
    return _sha256("\x1f".join(parts))[:32]


def process_page(raw: RawPage, memory: Memory = NO_MEMORY) -> PageResult:
    """One page through the pipeline. `memory` is what earlier pages taught, read only; what this page
    teaches comes back in the result's `observations`."""
    clock = _StageClock()
    segments = split_segments(raw.text)
    clock.lap("split")
    classify(segments)
    line_fingerprints = site_memory(site_of(raw), segments, memory.site_template)
    clock.lap("classify")
    draft = assemble(segments)
    blocks = [text for _, text in draft.paragraphs]
    body = BODY_SEPARATOR.join(blocks)
    content_hash = _sha256(f"{draft.title or ''}\n{body}")
    article_id = stable_id(raw.url, content_hash)
    clock.lap("assemble")

    year = reference_year(draft.title, draft.published, raw.fetched_at)
    reading = read_facts(body, year)
    facts = tuple(reading.facts)
    block_starts = _block_starts(blocks)
    fact_segments = tuple(
        draft.paragraphs[bisect.bisect_right(block_starts, fact.span[0]) - 1][0] for fact in facts
    )
    clock.lap("facts")
    keywords = article_keywords(blocks)
    clock.lap("keywords")
    signature = body_signature(body)
    reprint = memory.reprints.match(signature, article_id, raw.url, fetch_time(raw.fetched_at)) \
        if signature is not None and memory.reprints is not None else None
    clock.lap("reprints")

    # Counted by the label's string: these maps are published as JSON objects, whose keys are plain strings.
    kept = Counter(str(s.label) for s in segments if s.label in CONTENT_LABELS + METADATA_LABELS)
    dropped = Counter(str(s.label) for s in segments if s.label not in CONTENT_LABELS + METADATA_LABELS)
    article = Article(
        id=article_id,
        url=raw.url,
        title=draft.title,
        body=body,
        paragraphs=tuple(blocks),
        headings=draft.headings,
        source=draft.source,
        author=draft.author,
        published=draft.published,
        keywords=keywords,
        lang=raw.lang or _guess_lang(body),
        content_hash=content_hash,
        kept=dict(sorted(kept.items())),
        dropped=dict(sorted(dropped.items())),
        pipeline_version=PIPELINE_VERSION,
        page_id=raw.page_id,
        duplicate_of=reprint.duplicate_of if reprint else None,
        similarity=reprint.similarity if reprint else None,
    )
    return PageResult(article=article, segments=tuple(segments), facts=facts, fact_segments=fact_segments,
                      timings=clock.laps, fact_rejections=dict(reading.rejected),
                      observations=Observations(line_fingerprints=line_fingerprints, signature=signature))


class _StageClock:
    """Seconds spent in each stage of one page."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = now - self._last
        self._last = now


def _sha256(text: str) -> str:
    # surrogatepass: a lone surrogate (possible in a str handed to process_page directly, never in a
    # decoded message) must not make hashing raise.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _block_starts(blocks: list[str]) -> list[int]:
    starts, offset = [], 0
    for text in blocks:
        starts.append(offset)
        offset += len(text) + len(BODY_SEPARATOR)
    return starts


def _guess_lang(text: str) -> str:
    han, latin = sum(map(len, _HAN.findall(text))), sum(map(len, _LATIN.findall(text)))
    if han == 0 and latin == 0:
        return "und"
    return "zh" if han * 3 >= latin else "en"
