"""Assemble labelled segments into a draft article: title, body blocks, headings and metadata.

Body blocks are the content segments (headings, paragraphs, list items, captions) in reading
order. Source lines (来源/作者/编辑/发布时间/dates) never enter the body; they are parsed into the
source, author and publication date.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from . import lexicon
from .records import Draft, Label, Segment

BODY_LABELS = (Label.HEADING, Label.PARAGRAPH, Label.LIST_ITEM, Label.CAPTION)


def _any(words: tuple[str, ...]) -> str:
    return "(?:" + "|".join(map(re.escape, words)) + ")"


# Field names that end a value: "来源：新华社 作者：张三" holds two fields ("文" alone would end any value).
_FIELD = _any(lexicon.BYLINE_FIELDS + lexicon.BYLINE_NEIGHBOURS)
_VALUE_CHAR = r"[^\s|｜:：,，)）\]】]"
_SOURCE = re.compile(rf"{_any(lexicon.SOURCE_FIELDS)}\s*[：:]\s*(?P<v>{_VALUE_CHAR}+(?:[-－—·]{_VALUE_CHAR}+)?)")
_AUTHOR = re.compile(
    rf"{_any(lexicon.AUTHOR_FIELDS)}\s*[：:]\s*"
    rf"(?P<v>(?:(?!{_FIELD})[^\s|｜:：,，;；)）\]】\"“”'])+(?:[、 ](?:(?!{_FIELD})[^\s|｜:：,，;；)）\]】\"“”'\d])+)*)"
)
# The author when the byline names several people: the writer before the editor.
_AUTHOR_PRIORITY = lexicon.AUTHOR_FIELDS
_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
)


def parse_source(text: str) -> str | None:
    """The publisher named on a 来源 line."""
    m = _SOURCE.search(text)
    return m.group("v") if m else None


def parse_author(text: str) -> str | None:
    """The author (or, failing that, the editor) named on a byline."""
    found: dict[str, str] = {}
    for m in _AUTHOR.finditer(text):
        key = m.group(0).split("：")[0].split(":")[0].strip()
        found.setdefault(key, m.group("v").strip())
    for key in _AUTHOR_PRIORITY:
        if found.get(key):
            return found[key]
    return None


def parse_date(text: str) -> str | None:
    """The first calendar date in `text` as ISO 8601 (date, or date and local time; no zone)."""
    for m in _DATE.finditer(text):
        y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            continue
        date = f"{y:04d}-{mo:02d}-{d:02d}"
        if m.group("H") is None:
            return date
        hour, minute = int(m.group("H")), int(m.group("M"))
        if hour > 23 or minute > 59:
            return date
        if m.group("S") is not None and int(m.group("S")) <= 59:
            return f"{date}T{hour:02d}:{minute:02d}:{int(m.group('S')):02d}"
        return f"{date}T{hour:02d}:{minute:02d}"
    return None


def assemble(segments: Sequence[Segment]) -> Draft:
    title: str | None = None
    paragraphs: list[tuple[int, str]] = []
    headings: list[str] = []
    source = author = published = None
    for segment in segments:
        if segment.label == Label.TITLE and title is None:
            title = segment.text
        elif segment.label in BODY_LABELS:
            paragraphs.append((segment.index, segment.text))
            if segment.label == "heading":
                headings.append(segment.text)
        elif segment.label == Label.SOURCE:
            source = source or parse_source(segment.text)
            author = author or parse_author(segment.text)
            published = published or parse_date(segment.text)
    return Draft(
        title=title,
        paragraphs=tuple(paragraphs),
        headings=tuple(headings),
        source=source,
        author=author,
        published=published,
    )
