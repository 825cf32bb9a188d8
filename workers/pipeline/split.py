"""Split raw page text into segments: the blocks a reader sees as one unit.

Scrapers deliver text in three styles, often mixed on one page:

* one block per line, blocks separated by blank lines (text-mode browsers);
* one text node per line, so an inline link, a bracket or a counter stands on a line of its own;
* prose hard-wrapped at a fixed width, so a sentence continues on the next line.

Every non-blank line starts as its own piece. A piece is glued onto the previous one when the
previous one evidently did not finish: it stops at the typical wrap width, it ends on a clause
mark (，、：；) or an opening bracket, it is a bare list marker, the next line opens with a mark
that cannot start a block, or — on pages that put text nodes on lines of their own — it is a
sentence cut short after a comma. Blank lines and list markers always start a new
segment.
"""
from __future__ import annotations

import re
from collections import Counter

from .records import Segment

# A width shared by at least this many lines, and this share of the long lines, is a wrap width.
WRAP_MIN_LINES = 3
WRAP_MIN_SHARE = 0.2
# ... or when this many lines reach the longest line's length.
WRAP_MIN_FULL_LINES = 2
# ... and at most this share of those lines may stick out beyond it: lines of text nodes or
# paragraphs cluster around common lengths too, but they run on well past any such length.
WRAP_MAX_LONGER_SHARE = 0.1
# Lines shorter than this are never counted when looking for the wrap width.
WRAP_MIN_WIDTH = 16
# A line this close to the wrap width (in characters) filled the line, so it is wrapped.
WRAP_SLACK = 3
# A piece longer than this is a block of its own even if it ends on a clause mark.
MAX_SEGMENT_CHARS = 5000
# When at least this share of the lines stop on a clause mark, the page puts text nodes on lines
# of their own, and a sentence cut short after a comma carries on over the next lines.
FRAGMENTED_MIN_SHARE = 0.08
# ... but a piece that has grown this long (characters) without finishing is no longer one sentence
# in progress: forum replies and UI lines without a full stop would otherwise run on together.
NODE_SENTENCE_MAX_CHARS = 100
# A Latin term on a line of its own joins the Chinese text before it when that is this long (characters).
NODE_TERM_MIN_CONTEXT = 6

# A line ends at \r\n, \r or \n. Most pages have no \r, and str.split finds their \n faster.
_LINE_BREAK = re.compile(r"(\r\n?|\n)")
# Marks are tested on the first or last character of a line or piece: a regex anchored at the end
# would still scan the whole piece from its start, at every line glued on.
# Sentence-final marks, and the closing quotes and brackets that count when they follow one.
_FINAL_MARKS = frozenset("。！？!?…~～")
_CLOSING_MARKS = "”’」』）)]】\"'"
# The line stops on a mark that announces more text.
_OPEN_END = frozenset("，、：；,;:（(《“「『【[<—-")
# The next line opens with a mark that cannot start a block.
_CLOSE_START = frozenset("，。、；：！？）》」』】”’,.;:!?)]")
# A clause mark inside the text: the piece is a sentence in progress.
_CLAUSE = re.compile(r"[，；,;]")
# List markers: bullets, "1." "1、" "(1)" "①", dashes.
BULLET = re.compile(
    r"^(?:[•·●○◆◇▪▫■□▶►➤✓✔\-–*+>]\s*"
    r"|[0-9]{1,3}[.、)）](?![0-9])\s*"
    r"|[(（][0-9一二三四五六七八九十]{1,3}[)）]\s*"
    r"|[①-⑳⑴-⒇❶-❿]\s*"
    r"|[一二三四五六七八九十]{1,3}、\s*)"
)
# A date and time on a line of its own (the stamp of a post or of a list entry) is never a line
# of wrapped prose, whatever its length.
_STAMP = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?")
# The parts of a post stamp (a date, a time, 发布于, a floor number) that a page of text nodes puts
# on lines of their own: they join each other into one stamp, and nothing else.
_STAMP_PART = (
    r"(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s*(?:星期|周)[一二三四五六日天])?"
    r"|\d{1,2}[:：点时]\d{2}(?:[:：分]\d{2}秒?|分)?"
    r"|(?:发布|發布|发表|發表)(?:于|於)?|#\d+|\d+\s*楼|沙发|板凳)"
)
STAMP_PARTS = re.compile(rf"{_STAMP_PART}(?:\s*{_STAMP_PART})*(?:\s*[|｜])?")
# A bar on a line of its own separates two items of one line of the page (作者 | 2024-01-05).
SEPARATOR = re.compile(r"[|｜]")
# A lone surrogate cannot be encoded, so no segment text may carry one on to the article and its
# messages: it becomes U+FFFD, one character for one, so that offsets still hold.
# A close button (of an inline advertisement, a pop-up) is a text node of its own: it never joins
# the text before or after it.
CLOSE_BUTTON = re.compile(r"[×✕✖╳]|关闭(?:广告)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
# A bracketed aside (an English name, a source) that a page of text nodes puts on a line of its own.
_ASIDE = re.compile(r"[（(][^（()）]{1,40}[）)]")
# ... and so is a Latin term (a name, a product, a command) set between Chinese words with spaces.
_LATIN_TERM = re.compile(r"[A-Za-z][\w+#./-]*(?: [A-Za-z0-9][\w+#./-]*){0,3}", re.ASCII)
_CJK_END = re.compile(r"[\u4e00-\u9fff]$")
_ASCII_WORD_END = re.compile(r"[A-Za-z0-9]$")
_ASCII_WORD_START = re.compile(r"^[A-Za-z0-9]")


def _lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end, stripped text) of every line; blank lines give an empty text."""
    if "\r" in text:
        pieces = _LINE_BREAK.split(text)  # line, break, line, break, …, line
        raws, breaks = pieces[::2], [len(b) for b in pieces[1::2]]
    else:
        raws = text.split("\n")
        breaks = [1] * (len(raws) - 1)
    breaks.append(0)  # after the last line
    out: list[tuple[int, int, str]] = []
    pos = 0
    for raw, brk in zip(raws, breaks):
        if not raw and not brk:
            break  # nothing follows the last line break
        stripped = raw.strip()
        if stripped:
            start = pos + len(raw) - len(raw.lstrip())
            out.append((start, start + len(stripped), stripped))
        else:
            out.append((pos, pos, ""))
        pos += len(raw) + brk
    return out


def wrap_width(lines: list[str]) -> int | None:
    """The width prose was hard-wrapped at, or None when the lines have no common width.

    Wrapped text has several lines at the full width and none beyond it; failing that (a few
    unbreakable lines stick out), the width most lines share.
    """
    lengths = [len(s) for s in lines if len(s) >= WRAP_MIN_WIDTH]
    if not lengths:
        return None
    longest = max(lengths)
    if sum(1 for n in lengths if n >= longest - 1) >= WRAP_MIN_FULL_LINES:
        return longest
    if len(lengths) < WRAP_MIN_LINES:
        return None
    counts = Counter(lengths)
    # Wrapped lines fill the width exactly or stop a character short (a wide mark moved on).
    best, best_n = 0, 0
    for width in counts:
        n = counts[width] + counts.get(width - 1, 0)
        if n > best_n or (n == best_n and width > best):
            best, best_n = width, n
    longer = sum(1 for n in lengths if n > best + WRAP_SLACK)
    if best_n >= WRAP_MIN_LINES and best_n >= WRAP_MIN_SHARE * len(lengths) and longer <= WRAP_MAX_LONGER_SHARE * len(lengths):
        return best
    return None


def fragmented(lines: list[str]) -> bool:
    """Whether the page breaks its sentences into one line per text node."""
    if not lines:
        return False
    return sum(1 for s in lines if s[-1:] in _OPEN_END) >= FRAGMENTED_MIN_SHARE * len(lines)


def _continues(prev: str, prev_line: str, line: str, width: int | None, in_nodes: bool) -> bool:
    """Whether `line` carries on the piece `prev` (whose last physical line is `prev_line`)."""
    if BULLET.fullmatch(prev_line):
        return True
    if CLOSE_BUTTON.fullmatch(line) or CLOSE_BUTTON.fullmatch(prev_line):
        return False
    bullet = BULLET.match(line)
    if len(prev) > MAX_SEGMENT_CHARS or (bullet and BULLET.match(prev)):
        return False
    if width is not None and len(prev_line) >= width - WRAP_SLACK and not _STAMP.fullmatch(prev_line):
        return True
    # A separator never carries on a sentence.
    if SEPARATOR.fullmatch(line):
        return False
    stamp_line = STAMP_PARTS.fullmatch(line)
    if stamp_line or STAMP_PARTS.fullmatch(prev):
        # A date after a field name ("发布时间：") is that field's value.
        return bool(stamp_line and (STAMP_PARTS.fullmatch(prev) or prev_line[-1:] in _OPEN_END))
    if bullet:
        return False
    if line[:1] in _CLOSE_START:
        return True
    # The piece, not its last line: a closing quote on a line of its own (。 then 」) ends it too.
    if _finished(prev):
        return False
    if prev_line[-1:] in _OPEN_END:
        return True
    # On such a page a bracketed aside inside a sentence joins the text before it, and the text after
    # it carries on the sentence; a list item's line ends at its aside (• 标题（原创）, then 最新评论).
    if in_nodes and (_ASIDE.fullmatch(line)
                     or (_ASIDE.fullmatch(prev_line) and len(prev) > len(prev_line) and not BULLET.match(prev))):
        return True
    # A Latin term joins Chinese text long enough to be a sentence in progress (a menu's entries are
    # shorter), and the Chinese after it carries the sentence on.
    if in_nodes and _CJK_END.search(prev_line) and len(prev) >= NODE_TERM_MIN_CONTEXT and _LATIN_TERM.fullmatch(line):
        return True
    if (in_nodes and _LATIN_TERM.fullmatch(prev_line) and len(prev) - len(prev_line) >= NODE_TERM_MIN_CONTEXT
            and not _LATIN_TERM.match(line)):
        return True
    return in_nodes and bool(_CLAUSE.search(prev)) and len(prev) < NODE_SENTENCE_MAX_CHARS


def _finished(piece: str) -> bool:
    """Whether the piece ends a sentence: a final mark and any closing marks after it, or a full stop."""
    return piece.rstrip(_CLOSING_MARKS)[-1:] in _FINAL_MARKS or piece[-1:] == "."


def _glue(left: str, right: str) -> str:
    if ((_ASCII_WORD_END.search(left, len(left) - 1) and _ASCII_WORD_START.match(right)) or BULLET.fullmatch(left)
            or (STAMP_PARTS.fullmatch(left) and STAMP_PARTS.fullmatch(right))):
        return left + " " + right
    return left + right


def split_segments(text: str) -> list[Segment]:
    """Cut `text` into segments with offsets into `text`; wrapped lines are joined back."""
    lines = _lines(_SURROGATE.sub("\ufffd", text))
    texts = [s for _, _, s in lines if s]
    width = wrap_width(texts)
    in_nodes = fragmented(texts)
    segments: list[Segment] = []
    blank_before = True
    prev_line = ""
    for start, end, stripped in lines:
        if not stripped:
            blank_before = True
            continue
        if segments and not blank_before and _continues(segments[-1].text, prev_line, stripped, width, in_nodes):
            seg = segments[-1]
            seg.text = _glue(seg.text, stripped)
            seg.end = end
        else:
            segments.append(Segment(index=len(segments), text=stripped, start=start, end=end))
        prev_line = stripped
        blank_before = False
    return segments
