"""Site memory: the lines a site repeats on most of its pages are its template.

A stream worker sees many pages of one site; a single-page extractor sees one. Navigation bars,
share bars, 相关新闻 headers, editor lines, footers and the same sidebar teasers come back on page
after page of a site, while an article's own lines appear on its page alone. So:

1. `page_lines`: every segment's text is normalised (NFKC, spaces collapsed, digits and
   Chinese-numeral dates masked, so 2017年05月22日 and 2020年1月3日 are one line) and
   fingerprinted; the page's digest is taken over the lines its first verdict kept as content, so
   the same article fetched twice (its sidebars changed or not) is one page.
2. `fold`: a site's state is a window of its last WINDOW_PAGES distinct pages and, over that
   window, how many pages each fingerprint is on. A page already in the window teaches nothing.
   Sites are held least recently seen first; past MAX_SITES the oldest is forgotten.
3. the template: a fingerprint on at least TEMPLATE_MIN_SHARE of the window's pages, and on at least
   TEMPLATE_MIN_PAGES of them, is the site's template; `fold` keeps it with the window, revising it
   by the lines whose counts a page moved.
4. `template_pass`: a revision of the classifier's verdicts. A content segment (never the title)
   whose line is in the template is relabelled as noise with the reason `site_template`; every
   segment carries the `template` feature. A page whose content is mostly template (a reprint of a
   page seen before, an index page) keeps its verdicts: the template never empties an article.

The pipeline only reads a template (`Memory.site_template`) and reports what the page taught
(`Observations.line_fingerprints`); `fold` is pure and is what both the offline commands and the
stream layer run. Every site is learnt on its own, so no site's pages can teach another's template.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from .records import CONTENT_LABELS, Label, LineFingerprints, Memory, RawPage, Segment
from .split import BULLET

# --- thresholds and bounds ----------------------------------------------------------------------
# A site's template is learnt over its last this many distinct pages.
WINDOW_PAGES = 40
# A line on at least this share of the window's pages ...
TEMPLATE_MIN_SHARE = 0.1
# ... and on at least this many of them is template.
TEMPLATE_MIN_PAGES = 4
# Sites remembered at once; the least recently seen is forgotten first.
MAX_SITES = 2000
# Lines of one page that are remembered: template sits at the top and the bottom of a page, so a
# longer page gives its first and last halves of this many.
MAX_LINES_PER_PAGE = 240
# Lines longer than this (characters, normalised) are never remembered: they are an article's prose.
MAX_LINE_CHARS = 200
# A page whose content (characters of its first verdict's content segments) is at least this share
# template keeps its verdicts: it is a reprint or an index page, and its body is all it has.
REPRINT_MIN_SHARE = 0.8
# Hex digits of a line's fingerprint (48 bits: two lines of one site collide about once in 10^7 pairs).
FINGERPRINT_HEX = 12
# Lines whose fingerprints are kept at hand: three in four of a news site's lines are ones it has shown
# before, and normalising a line costs more than looking it up.
FINGERPRINT_CACHE_LINES = 8192

# A dropped block of at least this many Han characters, with a sentence end, that lies between the
# template lines around the article and is no template itself, is the article's own prose.
PROSE_MIN_HAN = 30
# Noise labels the article's stretch may take back: list and post labels that the classifier gives
# prose it took for the page's furniture (navigation and comments are left as they are).
RESTORED_LABELS = (Label.FOOTER, Label.RECOMMENDATION, Label.UI_CHROME, Label.UNRELATED_POST, Label.ADVERTISEMENT)

REASON = "site_template"
RESTORE_REASON = "site_template_stretch"
# The content labels the pass revises: a title is never taken from an article, nor a caption from its
# figure (a stock photo credit repeats on every page with a picture, and it is that picture's).
REVISED_LABELS = tuple(label for label in CONTENT_LABELS if label not in (Label.TITLE, Label.CAPTION))

_SPACE = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u9fff]")
_SENTENCE_END = re.compile(r"[。！？!?]")
_DIGITS = re.compile(r"[0-9]+")
_CHINESE_DATE = re.compile(r"[〇零一二三四五六七八九十]+(?=[年月日号])")


# --- what a page teaches ------------------------------------------------------------------------
def normalise(line: str) -> str:
    """A line as the template sees it: NFKC, spaces collapsed, numbers and dates masked."""
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", line)).strip()
    return _CHINESE_DATE.sub("0", _DIGITS.sub("0", text))


@lru_cache(maxsize=FINGERPRINT_CACHE_LINES)  # a site's chrome comes back page after page
def fingerprint(line: str) -> str | None:
    """A line's fingerprint: the digest of its normal form (None for a line with no text)."""
    return _digest(normal) if (normal := normalise(line)) else None


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()[:FINGERPRINT_HEX]


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the Public Suffix List the package ships; nothing is fetched


def site_of(raw: RawPage) -> str:
    """The site a page belongs to: the message's `site`, else its URL's registrable host (eTLD+1,
    by the Public Suffix List), else its host, else the URL itself."""
    if raw.site:
        return raw.site.strip().lower()
    host = (urlsplit(raw.url).hostname or "").rstrip(".")
    if not host:
        return raw.url
    return _suffixes().privatesuffix(host) or host


def line_digests(segments: Sequence[Segment]) -> list[str | None]:
    """Each segment's fingerprint (None for a segment with no text)."""
    return [fingerprint(s.text) for s in segments]


def page_lines(site: str, segments: Sequence[Segment], digests: Sequence[str | None]) -> LineFingerprints:
    """The fingerprints of a page's lines (each once, in page order, bounded) and the page's digest.
    Call it on the first verdict: the digest is taken over the content it kept."""
    fingerprints: dict[str, None] = {}
    content: list[str] = []
    for segment, line in zip(segments, digests):
        if line is None:
            continue
        if len(segment.text) <= MAX_LINE_CHARS:
            fingerprints.setdefault(line)
        if segment.label in CONTENT_LABELS:
            content.append(line)
    lines = tuple(fingerprints)
    if len(lines) > MAX_LINES_PER_PAGE:
        half = MAX_LINES_PER_PAGE // 2
        lines = lines[:half] + lines[-half:]
    return LineFingerprints(site=site, page=_digest("\n".join(content)), lines=lines)


# --- learning -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Limits:
    """The memory's thresholds and bounds (the SITE_MEMORY_* settings; the defaults are the constants above)."""

    window_pages: int = WINDOW_PAGES
    min_share: float = TEMPLATE_MIN_SHARE
    min_pages: int = TEMPLATE_MIN_PAGES
    max_sites: int = MAX_SITES


@dataclass(frozen=True, slots=True)
class SiteState:
    """One site's window: its last distinct pages (digest, fingerprints), oldest first, the number of those
    pages each fingerprint is on, how many distinct pages the site has taught so far (the next one's
    sequence number), and its template under the limits it was folded with."""

    pages: tuple[tuple[str, tuple[str, ...]], ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    taught: int = 0
    template: frozenset[str] = frozenset()


def _least_pages(limits: Limits, pages: int) -> float:
    """How many of a window of `pages` pages a line must be on to be template."""
    return max(limits.min_pages, limits.min_share * pages)


def _template(counts: dict[str, int], least: float) -> frozenset[str]:
    return frozenset(line for line, count in counts.items() if count >= least)


def fold_site(state: SiteState, seen: LineFingerprints, limits: Limits = Limits()) -> SiteState:
    """The site's state after one more page; a page already in the window teaches nothing. Only the lines
    whose counts moved can join or leave the template, so it is revised rather than recounted (unless the
    window's growth moved the bar)."""
    if any(page == seen.page for page, _ in state.pages):
        return state
    counts = dict(state.counts)
    pages = state.pages + ((seen.page, seen.lines),)
    moved = list(seen.lines)
    for line in seen.lines:
        counts[line] = counts.get(line, 0) + 1
    while len(pages) > limits.window_pages:
        for line in pages[0][1]:
            if (left := counts[line] - 1) == 0:
                del counts[line]
            else:
                counts[line] = left
        moved += pages[0][1]
        pages = pages[1:]
    least = _least_pages(limits, len(pages))
    if least != _least_pages(limits, len(state.pages)):
        template = _template(counts, least)
    else:
        lines = set(state.template)
        for line in moved:
            if counts.get(line, 0) >= least:
                lines.add(line)
            else:
                lines.discard(line)
        template = frozenset(lines)
    return SiteState(pages=pages, counts=counts, taught=state.taught + 1, template=template)


def window_state(pages: Iterable[tuple[int, str, tuple[str, ...]]], limits: Limits = Limits()) -> SiteState:
    """A site's state from its pages numbered in the order they were folded (any order, stale ones too):
    the last `limits.window_pages` of them."""
    last = sorted(pages)[-limits.window_pages:]
    counts: dict[str, int] = {}
    for _, _, lines in last:
        for line in lines:
            counts[line] = counts.get(line, 0) + 1
    return SiteState(pages=tuple((page, lines) for _, page, lines in last), counts=counts,
                     taught=last[-1][0] + 1 if last else 0, template=_template(counts, _least_pages(limits, len(last))))


@dataclass(frozen=True, slots=True)
class MemoryState:
    """Every site's state, least recently seen first (dicts keep their order), under its limits."""

    sites: dict[str, SiteState] = field(default_factory=dict)
    limits: Limits = Limits()

    def template(self, site: str) -> frozenset[str]:
        state = self.sites.get(site)
        return state.template if state is not None else frozenset()


def fold(state: MemoryState, seen: LineFingerprints | None) -> MemoryState:
    """What is known after one more page: its site's window moves on and its site becomes the most
    recently seen; past the limit of sites the least recently seen site is forgotten."""
    if seen is None:
        return state
    sites = dict(state.sites)
    site = sites.pop(seen.site, SiteState())
    sites[seen.site] = fold_site(site, seen, state.limits)
    while len(sites) > state.limits.max_sites:
        del sites[next(iter(sites))]
    return MemoryState(sites=sites, limits=state.limits)


# --- using ---------------------------------------------------------------------------------------
def template_pass(segments: Sequence[Segment], digests: Sequence[str | None], template: frozenset[str]) -> int:
    """Relabel the content segments (never the title) whose line is in the site's template as noise,
    with the reason `site_template`, unless most of the page's content is template. Every segment gets
    the `template` feature. Returns the number of segments relabelled."""
    if not template:
        return 0
    members = [line in template for line in digests]
    for segment, member in zip(segments, members):
        segment.features["template"] = int(member)
    content_chars = template_chars = 0
    for segment, member in zip(segments, members):
        if segment.label in CONTENT_LABELS:
            content_chars += len(segment.text)
            template_chars += len(segment.text) if member else 0
    if not content_chars or template_chars >= REPRINT_MIN_SHARE * content_chars:
        return 0
    # Before the article's own first line a template line is navigation; after it, page furniture.
    first = next((i for i, (s, member) in enumerate(zip(segments, members))
                  if s.label in CONTENT_LABELS and not member), len(segments))
    relabelled = 0
    for i, (segment, member) in enumerate(zip(segments, members)):
        if member and segment.label in REVISED_LABELS:
            _revise(segment, Label.NAVIGATION if i < first else Label.FOOTER, REASON)
            relabelled += 1
    return relabelled + _restore_stretch(segments, members)


def _restore_stretch(segments: Sequence[Segment], members: Sequence[bool]) -> int:
    """The article lies between the site's template lines: from the last template line before its first
    content block to the first after its last. Prose in that stretch that the classifier dropped as page
    furniture, and that the site never repeats, is the article's own (a second part the classifier cut off);
    prose right under a dropped bulleted line is that list entry's summary (* 标题, then its lead)."""
    content = [i for i, (s, member) in enumerate(zip(segments, members)) if s.label in CONTENT_LABELS and not member]
    if not content:
        return 0
    start = max((i for i in range(content[0]) if members[i]), default=-1)
    end = min((i for i in range(content[-1] + 1, len(segments)) if members[i]), default=len(segments))
    restored = 0
    for i in range(start + 1, end):
        segment, text = segments[i], segments[i].text
        if (segment.label in RESTORED_LABELS and len(_HAN.findall(text)) >= PROSE_MIN_HAN
                and _SENTENCE_END.search(text) and not _entry_summary(segments, i)):
            _revise(segment, Label.PARAGRAPH, RESTORE_REASON)
            restored += 1
    return restored


def _entry_summary(segments: Sequence[Segment], i: int) -> bool:
    """Whether segment i stands right under a dropped bulleted line: that list entry's summary."""
    return i > 0 and segments[i - 1].label not in CONTENT_LABELS and bool(BULLET.match(segments[i - 1].text))


def _revise(segment: Segment, label: Label, reason: str) -> None:
    """A revised verdict, as the classifier's revisions record one: the model's label stays in `first`."""
    segment.features.setdefault("first", segment.label)
    segment.label, segment.features["reason"] = label, reason


def site_memory(site: str, segments: Sequence[Segment], template: frozenset[str]) -> LineFingerprints:
    """The site-memory step of the pipeline, after the classifier's first verdict: what the page
    teaches its site, then the template pass over it."""
    digests = line_digests(segments)
    seen = page_lines(site, segments, digests)
    template_pass(segments, digests, template)
    return seen


def memory_for(state: MemoryState, raw: RawPage) -> Memory:
    """The read-only view the pipeline gets for a page: its site's template."""
    return Memory(site_template=state.template(site_of(raw)))


__all__ = [
    "Limits",
    "MemoryState",
    "memory_for",
    "site_memory",
    "SiteState",
    "fingerprint",
    "fold",
    "fold_site",
    "normalise",
    "page_lines",
    "site_of",
    "template_pass",
    "window_state",
]
