"""Assemble labelled segments into a draft article: title, body blocks, headings and metadata.

Body blocks are the content segments (headings, paragraphs, list items, captions) in reading
order. Source lines (来源/作者/编辑/发布时间/dates) never enter the body; they are parsed into the
source, author and publication date.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from .records import Draft, Segment

BODY_LABELS = ("heading", "paragraph", "list_item", "caption")

# Field names that end a value: "来源：新华社 作者：张三" holds two fields.
_FIELD = r"(?:来源|來源|来自|作者|编辑|編輯|责任编辑|責任編輯|责编|记者|記者|通讯员|发布时间|發布時間|发稿时间|时间|時間|日期|选稿|校对|审核|浏览|字体|分享)"
_SOURCE = re.compile(r"(?:来源|來源|来自|出处)\s*[：:]\s*(?P<v>[^\s|｜:：,，)）\]】]+(?:[-－—·][^\s|｜:：,，)）\]】]+)?)")
_AUTHOR = re.compile(
    r"(?:作者|撰文|文|记者|記者|责任编辑|責任編輯|编辑|編輯|责编)\s*[：:]\s*"
    rf"(?P<v>(?:(?!{_FIELD})[^\s|｜:：,，;；)）\]】\"“”'])+(?:[、 ](?:(?!{_FIELD})[^\s|｜:：,，;；)）\]】\"“”'\d])+)*)"
)
_AUTHOR_PRIORITY = ("作者", "撰文", "文", "记者", "記者", "责任编辑", "責任編輯", "编辑", "編輯", "责编")
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
        if segment.label == "title" and title is None:
            title = segment.text
        elif segment.label in BODY_LABELS:
            paragraphs.append((segment.index, segment.text))
            if segment.label == "heading":
                headings.append(segment.text)
        elif segment.label == "source":
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
