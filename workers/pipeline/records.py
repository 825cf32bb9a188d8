"""Small typed records that flow through the pipeline.

Everything here is plain data: the pipeline's functions take and return these, the stream layer
serialises them with orjson.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .reprints import ReprintIndex


class Label(StrEnum):
    """A segment's label. Content labels make up the article; the rest are noise classes. The
    values are the strings published on the topics."""

    TITLE = "title"
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    CAPTION = "caption"
    SOURCE = "source"
    NAVIGATION = "navigation"
    UI_CHROME = "ui_chrome"
    RECOMMENDATION = "recommendation"
    ADVERTISEMENT = "advertisement"
    UNRELATED_POST = "unrelated_post"
    COMMENT = "comment"
    FOOTER = "footer"


CONTENT_LABELS = (Label.TITLE, Label.HEADING, Label.PARAGRAPH, Label.LIST_ITEM, Label.CAPTION)
METADATA_LABELS = (Label.SOURCE,)
NOISE_LABELS = tuple(label for label in Label if label not in CONTENT_LABELS + METADATA_LABELS)
LABELS = tuple(Label)


@dataclass(frozen=True, slots=True)
class RawPage:
    """A validated raw-page message."""

    url: str
    text: str
    page_id: str | None = None
    fetched_at: str | None = None  # ISO 8601, as the scraper sent it
    site: str | None = None
    lang: str | None = None


@dataclass(slots=True)
class Segment:
    """A block a reader sees as one unit. `start`/`end` index the raw page text."""

    index: int
    text: str
    start: int
    end: int
    label: Label | str = ""
    score: float = 0.0
    features: dict[str, float | int | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Period:
    text: str
    start: str | None  # "YYYY-MM" or "YYYY-MM-DD" or "YYYY"
    end: str | None


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # yoy | mom | change
    value: Decimal  # negative for a decrease
    unit: str  # "%", "percentage_point" or "bp"


class Fact(NamedTuple):
    """One quantitative statement. `span` indexes `text` given to the extractor. (A named tuple: a
    page makes dozens, and a frozen dataclass costs several times as much to make.)"""

    subject: str | None  # None when no words around the figure name what it measures
    value: Decimal
    unit: str
    qualifier: str  # exact | approx | at_least | at_most | range
    surface: str
    sentence: str
    span: tuple[int, int]
    quantity: str  # money | percent | percentage_point | area | length | weight | duration | count
    low: Decimal | None = None
    high: Decimal | None = None
    change: Change | None = None
    period: Period | None = None
    subject_method: str = "clause"  # how the subject was attached (metric.schema.json, subject_method)
    per: str | None = None  # a rate's denominator unit: kWh for 每千瓦时0.375元


@dataclass(frozen=True, slots=True)
class Draft:
    """What the assembler makes of the labelled segments, before ids and facts."""

    title: str | None
    paragraphs: tuple[tuple[int, str], ...]  # (segment index, text) of body blocks in order
    headings: tuple[str, ...]
    source: str | None = None
    author: str | None = None
    published: str | None = None  # ISO 8601


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    url: str
    title: str | None
    body: str
    paragraphs: tuple[str, ...]
    headings: tuple[str, ...]
    source: str | None
    author: str | None
    published: str | None
    keywords: tuple[str, ...]
    lang: str
    content_hash: str
    kept: dict[str, int]
    dropped: dict[str, int]
    pipeline_version: str
    page_id: str | None = None
    duplicate_of: str | None = None  # id of the earlier article whose body this one repeats
    similarity: float | None = None  # estimated Jaccard similarity of the two bodies


@dataclass(frozen=True, slots=True)
class Signature:
    """A body's MinHash (reprints.NUM_PERM values), the LSH band keys made from it, and its size."""

    minhash: np.ndarray  # uint32
    bands: np.ndarray  # uint64, one key a band
    shingles: int  # distinct shingles of the body


@dataclass(frozen=True, slots=True)
class Reprint:
    """The earlier article a body repeats, and how alike the two bodies are."""

    duplicate_of: str
    similarity: float


@dataclass(frozen=True, slots=True)
class LineFingerprints:
    """What a page teaches its site's template: its site, its digest (same content, same digest) and
    the fingerprints of its normalised lines (sitememory.py)."""

    site: str
    page: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Memory:
    """A read-only view of what earlier pages taught, handed to the pipeline with each page."""

    site_template: frozenset[str] = frozenset()  # fingerprints of the page's site's template lines
    reprints: ReprintIndex | None = None  # articles already published, by body signature


NO_MEMORY = Memory()


@dataclass(frozen=True, slots=True)
class Observations:
    """What a page taught, for the stream layer (or an offline command) to fold into its memory."""

    line_fingerprints: LineFingerprints | None = None
    signature: Signature | None = None  # of the article's body; None for a body too short to sign


@dataclass(frozen=True, slots=True)
class PageResult:
    article: Article
    segments: tuple[Segment, ...]
    facts: tuple[Fact, ...]
    fact_segments: tuple[int, ...]  # segment index each fact came from
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, for metrics and benchmarks
    fact_rejections: dict[str, int] = field(default_factory=dict)  # candidates not taken as facts, by reason
    observations: Observations = Observations()
