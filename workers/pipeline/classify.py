"""Label every segment: article content, article metadata, or one of the noise classes.

`classify` is one driver over a list of passes, in the order they run (the layout of jusText's
core, Pomikálek 2011; the density idea of GNE / CCNet, for Chinese text without markup):

ANALYSIS, each pass filling in the page's working state (`_Page`):
  describe        cheap character features of every block (length, CJK share, punctuation, digits,
                  post stamps) and, for blocks that could be prose, the share of function characters
                  (的 了 是 在 …): jusText's stoplist idea at the character level;
  kinds           each block `good` (prose), `near` (some prose), `short` or a noise kind recognised
                  by its form (source lines, UI words, footers, list headers, menus, teasers);
  numbered_lists  a list header over a numbered list heads the article's list, not a zone;
  zones           a header (热门推荐, 相关阅读, 评论) gives its class to the blocks under it;
  listings        a long row of headlines is a list of teasers, even where they read like prose;
  article_run     the article is the densest run of prose: a maximum-sum run over block values,
                  widened by jusText's context rule at its edges;
  records         an article of records (a price list) continues past its run while blocks open
                  with the fields of the run's short lines;
  author_card     an author's card at the run's end (name and role, desk, biography) is metadata;
  announced       a table or list the run's last line announces (附：…, a line ending in a colon)
                  continues the article over its plain lines;
  furniture       long stretches of small or noisy blocks inside the run are page furniture;
  thread_posts    on a thread page, the lines after each post stamp are a post;
  list_page       on a page without prose, its longest run of plain lines is its content;
  title           the title before the run (before the first post on a thread).

VERDICT: the content model (a logistic regression over `signals`, weights in content_model.json,
fitted by `python -m workers train-classifier`) gives each block its probability of being content
and the FIRST verdict (reason `model`). The REVISIONS then overrule it where the form is decisive,
each naming itself as the reason: `zone:<class>` (a block under a list header outside the run),
`kind:<kind>` (a block the passes found no prose in), `run_prose` (the run's prose, where the model
kept none of the run), `thread_post`, `announced`, `list_page`, `byline`, `author_card`, `title`.
The first verdict is kept apart: a revised segment carries both in its features.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from functools import lru_cache
from itertools import accumulate, chain

import numpy as np
from pathlib import Path

from . import lexicon
from .patterns import any_word, starting_with
from .records import Label, Segment
from .split import BULLET, CLOSE_BUTTON

# --- thresholds -------------------------------------------------------------------------------
# A block needs this many CJK characters (Han or kana) to count as prose.
PROSE_MIN_CJK = 15
# ... and at least this share of CJK among its letters (Latin counts against it).
PROSE_MIN_CJK_RATIO = 0.5
# Share of CJK characters that are function words; prose sits well above link lists and headlines.
PROSE_MIN_FUNCTION_SHARE = 0.05
# Prose outside the main run is kept only if it is at least this long (CJK characters).
OUTSIDE_MIN_CJK = 30
# Noise recognised by keywords only when the block is short: in long prose the words are content.
UI_MAX_CHARS = 40
# ... or when UI words make up the block: this many hits and at most this many characters.
UI_MIN_HITS = 3
UI_DENSE_MAX_CHARS = 80
FOOTER_MAX_CHARS = 200
# In prose a footer word is a word of the text ("备案" in a legal article): prose is a footer only
# when a footer word opens it (免责声明：…) within this many characters, or it holds this many
# different footer words (未经授权，不得转载).
FOOTER_OPENS_WITHIN = 4
FOOTER_MIN_WORDS_IN_PROSE = 2
HEADER_MAX_CHARS = 20
SOURCE_MAX_CHARS = 90
# Headings inside the article: short, unpunctuated lines.
HEADING_MAX_CHARS = 40
# Title candidates are looked for this many blocks before the article run.
TITLE_LOOKBACK = 12
TITLE_MIN_CHARS = 5
TITLE_MAX_CHARS = 80
# Run values: prose adds its CJK length (capped), noise subtracts a fixed cost plus its length.
GOOD_VALUE_CAP = 400
NEAR_FACTOR = 0.3
SHORT_COST = 3.0
NOISE_COST = 12.0
NOISE_LENGTH_FACTOR = 0.5
# A byline, a date line or a section header closes the article run: what follows is another item.
BOUNDARY_COST = 150.0
# Prose under a recommendation or advertising header that follows this much prose (CJK characters)
# is worth only a share of its value: such lists come after the article they hang off.
ZONE_AFTER_PROSE_CJK = 80
ZONE_DAMPING = 0.1
# A block with a bullet symbol, longer than this, that stops mid-sentence is a teaser for another
# page (numbered items are left alone: they are usually steps of the article).
TEASER_MIN_CHARS = 30
# ... unless it ends on a clause mark: the items of an enumeration (（一）…；) run on as one sentence.
CLAUSE_ENDINGS = ("；", ";", "，", "、")
# Inside the run, more than this many non-prose blocks in a row are page furniture (menus, share
# bars) when they are tiny on average or partly recognised noise; code and numbered steps are not.
MAX_INNER_GAP = 3
# An article that lists records (a price list, a timetable: 1、name / 成人票原价：… / 咨询电话：…) opens
# its short lines with the same labelled fields, again and again. A label that opens this many short
# lines of the run is a record's field; past the run's end, blocks that open with the run's fields
# continue the article (this many stray blocks between two of them aside), and a stretch of them
# inside the run is no furniture.
RECORD_FIELD_LINES = 3
RECORD_STRAY_BLOCKS = 2
# A line at the run's end that announces what follows (one ending in a colon, or 附：…) heads the
# article's table or list: the plain lines after it, this many at least, are the article's.
ANNOUNCED_MIN_LINES = 3
# An author's card closes many articles: a short line naming the reporter and their role (张三 经济观察报记者),
# perhaps their desk and a line of biography. Its name line sits among the run's last this many blocks.
AUTHOR_CARD_REACH = 4
AUTHOR_CARD_MAX_CHARS = 24
FURNITURE_MAX_MEAN_CHARS = 12
FURNITURE_MIN_NOISE_SHARE = 0.3
# A headline is a one-line block with no full stop (。；) inside: the link text of another page.
# This many headlines in a row (tiny counters and dates between them aside) make a list of links,
# and even those that read like prose are teasers; an article's subheadings stand between
# paragraphs, not in a row.
HEADLINE_MAX_CHARS = 50
HEADLINE_MIN_CJK = 6
HEADLINE_RUN = 4
# ... unless most of them end on these marks: a passage cut into its sentences.
SENTENCE_ENDINGS = ("？", "！", "?", "!")
LISTING_TINY_CHARS = 8
# A page without prose (a table of contents, an index) has for content its longest run of plain
# lines (no bullets, no recognised noise), when the run is at least this long.
LIST_PAGE_MIN_LINES = 5
# A page written in short lines (a blog of one phrase a line) has a main run of a stray block or
# two: when its longest run of plain lines holds this many times the run's prose (CJK characters),
# those lines are the article.
LINES_OVER_RUN = 10.0
# A thread: at least this many post stamps (a poster's time or floor number on a short line).
# The lines after a stamp, up to the next UI line or stamp, are the post: replies are short and
# unpunctuated, so they never look like prose, yet they are what the thread says.
THREAD_MIN_POSTS = 3
STAMP_MAX_CHARS = 40
# A block's shape: digits and Latin words collapsed, the first characters kept, and its length
# in tens. Lists of teasers and forum furniture repeat one shape many times on a page; prose does not.
SHAPE_PREFIX = 2
SHAPE_SCAN = 24  # characters looked at to find the prefix
# A line whose shape occurs this often on the page is list furniture, not a post.
POST_SHAPE_REPEATS = 3
# A line with a full stop or this many clause marks is a sentence, never a teaser list's headline.
POST_MIN_CLAUSES = 2
# At most this many lines of furniture (UI, bullets, repeated shapes, no letters) right under a stamp
# belong to the stamp, not the post: one text node a line, 只看该作者 | 来自 - 湖北 is four lines.
STAMP_FURNITURE_LINES = 8
# When at least this share of the posts (THREAD_MIN_POSTS of them at least) open with a headline
# this long (CJK characters), the stamps are the dates of a teaser list (date, headline, source),
# not the times of replies.
TEASER_HEADLINE_MIN_CJK = 15
TEASER_POST_SHARE = 0.5

# A site repeats its menus, bylines and footers on every page, and a block's own form (describe,
# kinds, its text signals) depends on its text alone: the forms of this many recent distinct lines
# are kept, of lines up to this long (longer ones are prose, which a site does not repeat).
FORM_CACHE_LINES = 1 << 13
FORM_CACHE_MAX_CHARS = 80

# --- character classes and patterns -------------------------------------------------------------
# Runs, not single characters: counting the lengths of a few runs is cheaper than listing every character.
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_RUN = re.compile(r"[A-Za-z]+")
_DIGIT_RUN = re.compile(r"[0-9０-９]+")
_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9０-９]")
_SENT_END = re.compile(r"[。！？!?…]")
_CLAUSE = re.compile(r"[，、；：;]|,(?!\d)")
_FINAL = re.compile(r"[。！？!?…][”’」』）)]?$")
_FULL_STOP = re.compile(r"[。；;]")
# Any mark that _SENT_END, _CLAUSE or _FINAL look for.
_PUNCTUATION = re.compile(r"[。！？!?…，、；：;,]")
_LETTER = re.compile(r"[^\W\d_]")
_COLON = re.compile(r"[：:]")


def _words(words: tuple[str, ...]) -> str:
    return "|".join(map(re.escape, words))


# Stamps only a thread has: a teaser list dates its entries but never numbers floors or says 发表于.
THREAD_STAMP = re.compile(r"发表于|發表於|\d+\s*楼|#\d+$|沙发|板凳")
_TIME_AGO = r"(?:秒|分钟|小时|天|周|个月|月|年)前"
POST_STAMP = re.compile(
    starting_with(
        r"\d发發#沙板",
        r"\d+\s*" + _TIME_AGO + r"|\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}|"
        + THREAD_STAMP.pattern,
    )
)
# A line that is only a piece of a stamp: a furniture word, the unit of a time split from its number,
# or the poster's place.
POST_FURNITURE = re.compile(
    rf"^(?:{_words(lexicon.POST_FURNITURE)}|{_TIME_AGO}|(?:IP属地\s*[：:]?\s*)?(?:{_words(lexicon.POSTER_PLACES)}))$"
)
# A news byline's field with its value (来源：新华社): a stamp that names one dates an article, not a post.
BYLINE_FIELD = re.compile(rf"(?:{_words(lexicon.NAMING_FIELDS)})\s*[：:]")
_DATE_TIME = r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s*(?:\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
SOURCE_LINE = re.compile(rf"^[\W_]*(?:{_DATE_TIME}\s*[|｜]?\s*)?(?:{_words(lexicon.BYLINE_FIELDS)})\s*[：:]")
# A date line: a date, perhaps its time, and perhaps after a space the name of the source that
# published it ("2017-11-23 18:07:16 华尔街见闻"): a name, not a phrase (no punctuation, no digits).
DATE_LINE = re.compile(
    r"^[\W_]*\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*"
    r"(?:\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?(?:\s+[^\W\d_]{2,12})?[\W_]*$"
)
FOOTER = re.compile(any_word(lexicon.FOOTER_WORDS), re.IGNORECASE)
UI = re.compile(any_word(lexicon.UI_WORDS) + rf"|\d+\s*(?:{_words(lexicon.COUNTER_UNITS)})")
# Literal alternatives: re itself skips to the positions where one of their first characters stands.
RECOMMEND = re.compile(_words(lexicon.RECOMMENDATION_HEADERS))
ADVERT = re.compile(_words(lexicon.ADVERT_WORDS))
# A publishing platform's notice that the text above is a user's post: the article ends there, and
# what follows (often another user's post) does not belong to it.
PLATFORM_NOTE = re.compile(_words(lexicon.PLATFORM_NOTES))
# A comment section's header; its count (243 条评论) may stand on a line of its own.
_COMMENT = f"(?:{_words(lexicon.COMMENT_NOUNS)})"
COMMENT_HEADER = re.compile(
    rf"^\W*(?:(?:\d+\s*)?条{_COMMENT}|(?:{_words(lexicon.COMMENT_QUALIFIERS)}){_COMMENT}|评论区|评论\s*[(（]\d+|跟帖)"
)
# The first item of a numbered list.
FIRST_ITEM = re.compile(r"^(?:1[.、)）](?![0-9])|[(（][1一][)）]|[①⑴❶]|一、)")
# A record's line: its number (1、) or a field, a short label, a colon and its value (成人票原价：279元).
# A date or a time is no label.
RECORD_LINE = re.compile(r"^(?:[0-9０-９]{1,3}[、．.)）](?![0-9０-９])|(?![0-9０-９]+[年月日号时:：\-/.])[^\s：:，。]{2,8}[：:]\s*\S)")
# A line that announces the list or table under it.
ANNOUNCEMENT = re.compile(rf"^(?:{_words(lexicon.ATTACHMENT_LABELS)})\s*[：:]|[：:]$")
# Blocks with text of their own: prose, nearly prose, a short line.
TEXT_KINDS = ("good", "near", "short")
# Blocks that end an article's records: what follows them is another item of the page.
RECORD_BOUNDARY_KINDS = ("source", "header", "footer", "ui", "menu")
# A line that ends with an author's role: the name line of an author's card.
AUTHOR_ROLE_END = re.compile(rf"..(?:{_words(tuple(f for f in lexicon.AUTHOR_FIELDS if len(f) > 1))})$")
SYMBOL_BULLET = re.compile(r"^[•·●○◆◇▪▫■□▶►➤\-–*+>]")
HASHTAG_LINE = re.compile(r"^#[^#\s]{1,30}#$")
CAPTION = re.compile(rf"{_words(lexicon.CAPTION_WORDS)}|(?:{_words(lexicon.CAPTION_ENDINGS)})$")
# A line with several short items separated by spaces or bars: a menu.
MENU = re.compile(r"^(?:\S{1,8}(?:\s+|\s*[|｜/]\s*)){3,}\S{1,8}$")
# Function characters (lexicon.FUNCTION_CHARS); counting them needs no tokeniser, so the classifier
# tokenises nothing and only the article's own segments are ever tokenised (for keywords).
_FUNCTION_CHAR = re.compile(f"[{lexicon.FUNCTION_CHARS}]")


# --- the page's working state ---------------------------------------------------------------------
@dataclass(slots=True)
class _Block:
    """Per-segment working state of the classifier."""

    n: int
    cjk: int
    cjk_ratio: float
    sent: int
    clause: int
    final: bool
    bullet: bool
    digit_ratio: float
    latin: int
    ui_hits: int  # UI words, counted in blocks short enough for them to mean UI
    shape: str
    # A post stamp: a short line with a poster's time or a floor number and no full stop (a reply
    # that speaks of 1 楼 is a sentence, not a stamp).
    stamp: bool
    kind: str = "short"  # good | near | short | source | footer | ui | header | menu | teaser
    function_share: float = -1.0
    zone: str = ""
    damped: bool = False


# The fields `_describe` sets, those without a default: the rest are the later passes'.
_FORM_FIELDS = tuple(f.name for f in fields(_Block) if f.default is MISSING)


@dataclass(frozen=True, slots=True)
class _Form:
    """What a line's text alone says of it: its block's own fields, its kind and its text signals."""

    fields: tuple
    kind: str
    function_share: float
    signals: tuple[float, ...]


@dataclass(slots=True)
class _Page:
    """What the analysis passes learn about one page, pass after pass."""

    segments: list[Segment]
    forms: list[_Form] = field(default_factory=list)
    blocks: list[_Block] = field(default_factory=list)
    run: tuple[int, int] = (0, -1)  # the article run, inclusive; empty when end < start
    record_fields: frozenset[str] = frozenset()
    furniture: set[int] = field(default_factory=set)
    card: set[int] = field(default_factory=set)
    announced: set[int] = field(default_factory=set)
    posts: set[int] = field(default_factory=set)
    list_lines: set[int] = field(default_factory=set)
    title: int | None = None

    @property
    def found(self) -> bool:
        return self.run[1] >= self.run[0]


# --- analysis passes ------------------------------------------------------------------------------
def _describe(text: str) -> _Block:
    n = len(text)
    cjk = sum(map(len, _CJK_RUN.findall(text)))
    # Most blocks hold no Latin letter or digit, and most no punctuation: one search spares them
    # the passes that count those. The shape's prefix changes only where such a run starts in it.
    latin = digits = sent = clause = 0
    final = False
    first = _LATIN_OR_DIGIT.search(text)
    if first:
        latin = sum(map(len, _LATIN_RUN.findall(text)))
        digits = sum(map(len, _DIGIT_RUN.findall(text)))
    if _PUNCTUATION.search(text):
        sent = len(_SENT_END.findall(text))
        clause = len(_CLAUSE.findall(text))
        # The final mark, a closing quote and a newline are the last three characters at most.
        final = bool(_FINAL.search(text, n - 3))
    prefix = text[:SHAPE_PREFIX]
    if first and first.start() < SHAPE_PREFIX:
        prefix = _LATIN_RUN.sub("a", _DIGIT_RUN.sub("0", text[:SHAPE_SCAN]))[:SHAPE_PREFIX]
    return _Block(
        n=n,
        cjk=cjk,
        cjk_ratio=cjk / max(1, cjk + latin),
        sent=sent,
        clause=clause,
        final=final,
        bullet=bool(BULLET.match(text)),
        digit_ratio=digits / max(1, n),
        latin=latin,
        ui_hits=len(UI.findall(text)) if n <= UI_DENSE_MAX_CHARS else 0,
        shape=f"{prefix}|{min(n // 10, 5)}",
        stamp=n <= STAMP_MAX_CHARS and bool(POST_STAMP.search(text)) and not _FULL_STOP.search(text),
    )


def _read_form(text: str) -> _Form:
    b = _describe(text)
    kind = _kind(text, b)
    return _Form(tuple(getattr(b, name) for name in _FORM_FIELDS), kind, b.function_share, _text_signals(text, b))


_recent_form = lru_cache(maxsize=FORM_CACHE_LINES)(_read_form)


def _form(text: str) -> _Form:
    return _recent_form(text) if len(text) <= FORM_CACHE_MAX_CHARS else _read_form(text)


def forget_lines() -> None:
    """Forget the forms of the lines seen so far: the benchmark measures pages new to the classifier."""
    _recent_form.cache_clear()


def describe(page: _Page) -> None:
    page.forms = [_form(s.text) for s in page.segments]
    page.blocks = [_Block(*form.fields) for form in page.forms]


def _kind(text: str, b: _Block) -> str:
    """The block's kind from its own form, before looking at neighbours."""
    # A finished sentence after a field name is an interview's question (记者：…？), not a byline.
    if b.n <= SOURCE_MAX_CHARS and (SOURCE_LINE.search(text) or DATE_LINE.match(text)) and not (b.final and _is_prose(b)):
        return "source"
    if b.n <= FOOTER_MAX_CHARS and _is_footer(text, b):
        return "footer"
    if COMMENT_HEADER.search(text) or (b.n <= HEADER_MAX_CHARS and HASHTAG_LINE.match(text)):
        return "header"
    if b.n <= FOOTER_MAX_CHARS and PLATFORM_NOTE.search(text):
        return "header"
    if b.ui_hits >= UI_MIN_HITS:
        return "ui"
    if (b.bullet and b.n >= TEASER_MIN_CHARS and not b.final and (SYMBOL_BULLET.match(text) or not b.sent)
            and not text.endswith(CLAUSE_ENDINGS)):
        return "teaser"
    if _is_prose(b):
        b.function_share = len(_FUNCTION_CHAR.findall(text)) / max(1, b.cjk)
        if b.function_share >= PROSE_MIN_FUNCTION_SHARE:
            return "good"
        return "near"
    if b.n <= HEADER_MAX_CHARS and not b.sent and _names_a_list(text):
        return "header"
    # One UI word (微信, 登录) does not make a numbered item chrome: numbered items are steps.
    if b.n <= UI_MAX_CHARS and b.ui_hits and not (b.bullet and not SYMBOL_BULLET.match(text)):
        return "ui"
    if not b.sent and not b.clause and MENU.match(text):
        return "menu"
    return "short"


def _names_a_list(text: str) -> bool:
    """A list or advertising word before any colon: after one it is a field's value (类型：广告)."""
    found = RECOMMEND.search(text) or ADVERT.search(text)
    return bool(found) and not _COLON.search(text, 0, found.start())


def _is_prose(b: _Block) -> bool:
    return b.cjk >= PROSE_MIN_CJK and b.cjk_ratio >= PROSE_MIN_CJK_RATIO and bool(b.sent or b.clause)


def _is_footer(text: str, b: _Block) -> bool:
    """Footer words in a block that is not prose, or that open it, or several different ones."""
    found = FOOTER.search(text)
    if not found or not _is_prose(b) or found.start() <= FOOTER_OPENS_WITHIN:
        return bool(found)
    return len({m.group().lower() for m in FOOTER.finditer(text)}) >= FOOTER_MIN_WORDS_IN_PROSE


def kinds(page: _Page) -> None:
    for form, b in zip(page.forms, page.blocks):
        b.kind, b.function_share = form.kind, form.function_share


def numbered_lists(page: _Page) -> None:
    """A list or advertising header, itself no list item, followed by a list's first numbered
    item heads a list of the article (门票优惠景点 then 1、…): lists of links carry symbol
    bullets or none, so it opens no zone."""
    segments, blocks = page.segments, page.blocks
    for i in range(len(blocks) - 1):
        b, text = blocks[i], segments[i].text
        if (b.kind == "header" and not b.bullet and FIRST_ITEM.match(segments[i + 1].text)
                and _header_zone(text) in (Label.ADVERTISEMENT, Label.RECOMMENDATION)):
            b.kind = "short"


def _header_zone(text: str) -> Label:
    if ADVERT.search(text):
        return Label.ADVERTISEMENT
    if COMMENT_HEADER.search(text):
        return Label.COMMENT
    if RECOMMEND.search(text):
        return Label.RECOMMENDATION
    return Label.UNRELATED_POST


def zones(page: _Page, *, after_prose_cjk: int = ZONE_AFTER_PROSE_CJK) -> None:
    """A header gives its class to the blocks after it, up to the next header or byline (a bare
    date does not end it: teaser lists date every entry). A list or advertising header before the
    article's prose is page navigation (热门, 推荐, 招聘 in a menu): its list ends at the first
    prose. A list or advertising header that follows the article's prose damps the prose under
    it (so does one after an editor's or source line that signs the prose off, however short
    the prose), and a platform's notice there closes the article: the rest of the page stays in zones
    and damped, even under a byline (the next item is another user's post). An advertisement's
    close button (×) ends its zone: an ad set into the article holds a line or two, and the
    article goes on after it."""
    listing = (Label.RECOMMENDATION, Label.ADVERTISEMENT)
    zone, damped, closed, after_prose, prose, signed = "", False, False, False, 0, False
    for segment, b in zip(page.segments, page.blocks):
        if b.kind == "header":
            zone = _header_zone(segment.text)
            after_prose = prose >= after_prose_cjk or signed
            closed = closed or (after_prose and bool(PLATFORM_NOTE.search(segment.text)))
            damped = closed or (after_prose and zone in listing)
        elif b.kind == "source" and not closed and SOURCE_LINE.search(segment.text):
            zone, damped, signed = "", False, prose > 0
        elif zone == Label.ADVERTISEMENT and not closed and CLOSE_BUTTON.fullmatch(segment.text):
            zone, damped = "", False
        elif b.kind == "good":
            if zone in listing and not after_prose:
                zone = ""
            prose += b.cjk
        b.zone, b.damped = zone, damped


def _is_headline(segment: Segment, b: _Block) -> bool:
    text = segment.text
    return (
        b.kind in ("good", "near", "short", "teaser")
        and b.zone != Label.COMMENT
        and HEADLINE_MIN_CJK <= b.cjk
        and b.n <= HEADLINE_MAX_CHARS
        and not _FULL_STOP.search(text)
        and not text.endswith(("：", ":"))
        # Two finished sentences are a passage of text, however short, not a link's title.
        and not (b.final and b.sent > 1)
    )


def listings(page: _Page, *, headline_run: int = HEADLINE_RUN, tiny_chars: int = LISTING_TINY_CHARS) -> None:
    """Prose-like blocks in a long row of headlines are teasers of a link list, unless prose
    before the row announces it with a colon. Replies under a comment header are short lines
    too, but they are the thread, not links."""
    segments, blocks = page.segments, page.blocks
    # Turning prose into teasers leaves a headline a headline: the flags hold for the whole pass.
    headline = [_is_headline(s, b) for s, b in zip(segments, blocks)]
    i, count = 0, len(blocks)
    while i < count:
        if not headline[i]:
            i += 1
            continue
        j, headlines = i, []
        while j < count and (headline[j] or blocks[j].n < tiny_chars):
            if headline[j]:
                headlines.append(j)
            j += 1
        # A row of mostly questions and exclamations is a passage cut at its marks (a teaser cut
        # short ends on an ellipsis instead).
        sentences = sum(1 for k in headlines if segments[k].text.endswith(SENTENCE_ENDINGS))
        if len(headlines) >= headline_run and not _announced_at(segments, i) and sentences * 2 < len(headlines):
            for k in headlines:
                if blocks[k].kind in ("good", "near"):
                    blocks[k].kind = "teaser"
        i = j


def _announced_at(segments: list[Segment], i: int) -> bool:
    """Whether the line before block i announces the list or table that starts there."""
    return i > 0 and bool(ANNOUNCEMENT.search(segments[i - 1].text))


def _value(b: _Block, beside_good: bool = False) -> float:
    """A block's worth to the article run. A finished sentence of some prose beside prose counts
    as prose (jusText's context rule): a short article is often a few such sentences."""
    if b.kind in ("source", "header"):
        return -BOUNDARY_COST
    if b.kind == "short":
        return -SHORT_COST
    if b.kind not in ("good", "near"):
        return -(NOISE_COST + NOISE_LENGTH_FACTOR * min(b.n, 80))
    value = float(min(b.cjk, GOOD_VALUE_CAP))
    if b.kind == "near" and not (beside_good and b.final):
        value = NEAR_FACTOR * value - SHORT_COST
    if b.damped:
        value *= ZONE_DAMPING
    return value


def _densest_run(values: list[float]) -> tuple[int, int]:
    """The maximum-sum run of `values` (Kadane); (start, end) inclusive, or (0, -1)."""
    best, best_span = 0.0, (0, -1)
    total, start = 0.0, 0
    for i, value in enumerate(values):
        if total <= 0:
            total, start = 0.0, i
        total += value
        if total > best:
            best, best_span = total, (start, i)
    return best_span


def article_run(page: _Page) -> None:
    """The densest run of prose (a finished sentence beside prose counting as prose), then
    jusText's context rule at its edges: short finished sentences next to the run join it."""
    blocks = page.blocks
    good = [False, *(b.kind == "good" for b in blocks), False]
    start, end = _densest_run([_value(b, good[i] or good[i + 2]) for i, b in enumerate(blocks)])
    if end < start:
        page.run = (start, end)
        return
    while start > 0 and blocks[start - 1].kind in ("short", "near") and blocks[start - 1].final:
        start -= 1
    while end + 1 < len(blocks) and blocks[end + 1].kind in ("short", "near") and blocks[end + 1].final:
        end += 1
    page.run = (start, end)


def _lead(b: _Block) -> str:
    return b.shape.partition("|")[0]


def records(page: _Page, *, field_lines: int = RECORD_FIELD_LINES, stray_blocks: int = RECORD_STRAY_BLOCKS) -> None:
    """The fields of the run's records, and the run widened over the records that follow it."""
    segments, blocks, (start, end) = page.segments, page.blocks, page.run
    if end < start:
        return
    leads = Counter(_lead(blocks[i]) for i in range(start, end + 1)
                    if blocks[i].kind == "short" and RECORD_LINE.match(segments[i].text))
    fields = frozenset(lead for lead, count in leads.items() if count >= field_lines)
    if not fields:
        return
    page.record_fields = fields
    i = last = end
    while i + 1 < len(blocks) and i - last <= stray_blocks and blocks[i + 1].kind not in RECORD_BOUNDARY_KINDS:
        i += 1
        if _lead(blocks[i]) in fields:
            last = i
    page.run = (start, last)


def announced(page: _Page, *, min_lines: int = ANNOUNCED_MIN_LINES) -> None:
    """A line that ends the run, or follows it, announcing a table or a list: the plain lines
    under it (cells of a table one a line) are the article's, up to the first noise line. The run
    itself stays as it is: the model reads the run's prose, and a table is none."""
    segments, blocks, (start, end) = page.segments, page.blocks, page.run
    if end < start:
        return
    for head in (end, end + 1):
        if head < len(blocks) and blocks[head].kind in TEXT_KINDS and ANNOUNCEMENT.search(segments[head].text):
            stop = head + 1
            while stop < len(blocks) and blocks[stop].kind in TEXT_KINDS:
                stop += 1
            if stop - head - 1 >= min_lines:
                page.announced = set(range(end + 1, stop))
            return


def author_card(page: _Page, *, reach: int = AUTHOR_CARD_REACH, max_chars: int = AUTHOR_CARD_MAX_CHARS) -> None:
    """An author's card at the run's end is the article's metadata: the run ends before it. A role word
    before a credit (新华社记者 / 李梦馨 / 摄, one text node a line) is a photo caption's, not a card."""
    segments, blocks, (start, end) = page.segments, page.blocks, page.run
    for i in range(max(start + 1, end - reach + 1), end + 1):
        b = blocks[i]
        text = segments[i].text
        # 只看该作者 ends like a role, but it is a post's button.
        if b.n <= max_chars and not b.sent and AUTHOR_ROLE_END.search(text) and not _COLON.search(text) \
                and not POST_FURNITURE.match(text) \
                and not any(CAPTION.search(segments[k].text) for k in range(i, min(end, i + reach) + 1)):
            page.card = set(range(i, end + 1))
            page.run = (start, i - 1)
            return


def furniture(page: _Page, *, max_gap: int = MAX_INNER_GAP, max_mean_chars: int = FURNITURE_MAX_MEAN_CHARS,
              min_noise_share: float = FURNITURE_MIN_NOISE_SHARE) -> None:
    """Inside the run, long stretches of small or noisy blocks are page furniture, unless they are
    the items of a list that the prose before them announces with a colon, or the run's records."""
    segments, blocks, (first, last) = page.segments, page.blocks, page.run
    i = first
    while i <= last:
        if blocks[i].kind in ("good", "near"):
            i += 1
            continue
        j = i
        while j <= last and blocks[j].kind not in ("good", "near"):
            j += 1
        gap = range(i, j)
        mean_chars = sum(blocks[k].n for k in gap) / len(gap)
        noise = sum(1 for k in gap if blocks[k].kind != "short") / len(gap)
        furnished = mean_chars < max_mean_chars or noise >= min_noise_share
        listed = (_announced_at(segments, i) and all(blocks[k].bullet for k in gap)) or \
            2 * sum(_lead(blocks[k]) in page.record_fields for k in gap) >= len(gap)
        if len(gap) > max_gap and furnished and not listed:
            page.furniture.update(gap)
        i = j


def _is_sentence(segment: Segment, b: _Block, *, min_clauses: int = POST_MIN_CLAUSES) -> bool:
    """A full stop or several clauses: a sentence, where a teaser list's headline is one phrase."""
    return b.clause >= min_clauses or bool(_FULL_STOP.search(segment.text))


def _post_stamps(page: _Page) -> list[int]:
    """The short lines that can stamp a post: a poster's time or a floor number, unless a byline's
    field beside it, on the line or on the next, makes it the date of an article."""
    segments, blocks = page.segments, page.blocks
    return [i for i, b in enumerate(blocks) if b.stamp and not BYLINE_FIELD.search(segments[i].text)
            and not (i + 1 < len(blocks) and BYLINE_FIELD.match(segments[i + 1].text))]


def thread_posts(page: _Page, *, min_posts: int = THREAD_MIN_POSTS, shape_repeats: int = POST_SHAPE_REPEATS,
                 stamp_furniture: int = STAMP_FURNITURE_LINES) -> None:
    """On a thread page, the blocks of each post: the lines after a post stamp that hold words,
    up to the next stamp, UI line, header or line without letters (a counter, a separator).
    A UI line right under a stamp is skipped. Bulleted lines and lines whose shape repeats on
    the page are the entries of a teaser list with dates, not posts; so are posts that mostly
    open with a long headline, unless a stamp is one only a thread has (a floor number, 发表于).
    Replies are short and unpunctuated: they never look like prose, yet they are the thread."""
    segments, blocks = page.segments, page.blocks
    stamps = _post_stamps(page)
    if len(stamps) < min_posts:
        return
    shapes = Counter(b.shape for b in blocks)
    stamp_set, out, openers = set(stamps), set(), []
    def listed(j: int) -> bool:
        # Teaser entries are bulleted or alike in shape, and a headline is one phrase: a bulleted
        # sentence between stamps is a reply.
        b = blocks[j]
        return (b.bullet or shapes[b.shape] >= shape_repeats) and not _is_sentence(segments[j], b)

    def speaks(j: int) -> bool:
        # A UI word in a finished sentence (1 楼我的评论被删除了。) is a reply that names it, not a button.
        return blocks[j].kind == "ui" and bool(_FULL_STOP.search(segments[j].text))

    def furnishes(j: int) -> bool:
        text = segments[j].text
        return (blocks[j].kind == "ui" and not speaks(j)) or listed(j) or not _LETTER.search(text) \
            or bool(POST_FURNITURE.match(text))

    for i in stamps:
        # The stamp's own furniture right under it (a UI line 对 某人 #3 回复, 只看该作者, 来自 - 湖北,
        # a separator) addresses the post; the post follows it.
        j = i + 1
        while j < min(len(blocks), i + 1 + stamp_furniture) and j not in stamp_set and furnishes(j):
            j += 1
        start = j
        while (
            j < len(blocks)
            and j not in stamp_set
            and (blocks[j].kind in TEXT_KINDS or speaks(j) or (blocks[j].kind == "teaser" and not listed(j)))
            and blocks[j].zone in ("", Label.COMMENT)
            and _LETTER.search(segments[j].text)
            and not listed(j)
        ):
            out.add(j)
            j += 1
        if j > start:
            openers.append(start)
    headlines = [i for i in openers if _is_headline(segments[i], blocks[i]) and blocks[i].cjk >= TEASER_HEADLINE_MIN_CJK
                 and not _is_sentence(segments[i], blocks[i])]
    thread = any(THREAD_STAMP.search(segments[i].text) for i in stamps)
    if not thread and len(openers) >= min_posts and len(headlines) >= TEASER_POST_SHARE * len(openers):
        for i in headlines:  # the entries of a dated teaser list
            if blocks[i].kind in ("good", "near"):
                blocks[i].kind = "teaser"
        return
    page.posts = out


def list_page(page: _Page, *, min_lines: int = LIST_PAGE_MIN_LINES, lines_over_run: float = LINES_OVER_RUN) -> None:
    """On a page without prose (a table of contents, an index) or written in short lines, the
    longest run of plain lines is the content when it holds `lines_over_run` times the run's prose."""
    blocks = page.blocks
    best, start = range(0), 0
    for i, b in enumerate(blocks + [None]):
        if b is not None and b.kind in ("short", "near", "good", "teaser") and not b.bullet:
            continue
        if i - start > len(best):
            best = range(start, i)
        start = i + 1
    if len(best) < min_lines:
        return
    # A short news item is often one block of figures, prose with few function characters: it counts.
    run_cjk = sum(b.cjk for b in blocks[page.run[0] : page.run[1] + 1] if b.kind in ("good", "near"))
    if sum(blocks[i].cjk for i in best) >= lines_over_run * run_cjk:
        page.list_lines = set(best)


def _is_title_like(segment: Segment, b: _Block) -> bool:
    return (
        TITLE_MIN_CHARS <= b.n <= TITLE_MAX_CHARS
        and b.kind in TEXT_KINDS
        and b.cjk_ratio >= PROSE_MIN_CJK_RATIO
        and not b.bullet
        and b.sent <= 1
        and not segment.text.endswith(("。", "：", ":"))
    )


def title(page: _Page, *, lookback: int = TITLE_LOOKBACK) -> None:
    """The title: the last title-like block before a byline, else the nearest before the run.
    On a page of several stamps the title comes before the first, the article's date or the first
    post's: a line between later stamps is a reply."""
    if not page.found:
        return
    segments, blocks = page.segments, page.blocks
    stamps = [i for i, b in enumerate(blocks) if b.stamp]
    before = min(page.run[0], stamps[0]) if len(stamps) >= THREAD_MIN_POSTS else page.run[0]
    for i in range(before - 1, max(0, before - lookback) - 1, -1):
        if not _is_title_like(segments[i], blocks[i]):
            continue
        if page.title is None:
            page.title = i
        if i + 1 < len(blocks) and blocks[i + 1].kind == "source":
            page.title = i
            return


# The analysis passes, in the order they run.
ANALYSIS: tuple[Callable[[_Page], None], ...] = (
    describe, kinds, numbered_lists, zones, listings, article_run, records, author_card, announced, furniture, thread_posts, list_page, title,
)


def analyse(segments: list[Segment]) -> _Page:
    page = _Page(segments)
    for step in ANALYSIS:
        step(page)
    return page


# --- the content model ------------------------------------------------------------------------
# Whether a block belongs to the article is decided by a logistic regression over the signals
# below: the block's own form, the analysis passes' verdicts (kind, zone, main run, furniture), its
# neighbours and the page as a whole. `python -m workers train-classifier` fits the weights on the
# dev corpus and writes them to MODEL_PATH; at run time the decision is one dot product.
MODEL_PATH = Path(__file__).with_name("content_model.json")
KINDS = ("good", "near", "short", "source", "footer", "ui", "header", "menu", "teaser")
# Context windows (blocks either side) over which the share of prose is measured.
NEAR_WINDOW = 2
WIDE_WINDOW = 8
# A block this long (characters) counts as a long line in the page's line-length style.
LONG_LINE_CHARS = 40
# A teaser cut short ends on an ellipsis (…, ... or ..), spaces after it aside.
TRUNCATION_MARKS = ("..", "…")
# How far (blocks) a byline or date line above a block still counts as its header.
BYLINE_REACH = 30


def _rule_content(b: _Block, inside: bool) -> bool:
    """The hand rules' verdict: prose or a short block inside the run, long prose outside a zone."""
    if inside:
        return b.kind in TEXT_KINDS
    return b.kind == "good" and b.cjk >= OUTSIDE_MIN_CJK and not b.zone


def _window_shares(flags: list[float], k: int) -> list[float]:
    """For every block, the mean of `flags` over the k blocks either side of it (itself left out)."""
    count = len(flags)
    prefix = list(accumulate(flags, initial=0.0))
    # The windows' bounds, max(0, i - k) and min(count, i + k + 1), listed rather than computed.
    lows = [0] * min(k, count) + list(range(count - k))
    highs = list(range(k + 1, count + 1)) + [count] * min(k, count)
    # A lone block has no neighbours: its share is 0.
    return [(prefix[hi] - prefix[lo] - flag) / ((hi - lo - 1) or 1) for lo, hi, flag in zip(lows, highs, flags)]


def _inside(page: _Page) -> list[bool]:
    start, end = page.run
    return [start <= i <= end and i not in page.furniture for i in range(len(page.blocks))]


# The signals of a block's text alone: part of its line's form, so computed once for each distinct line.
TEXT_SIGNALS = (
    "log_chars", "log_cjk", "cjk_ratio", "sentences", "clauses", "final", "bullet", "symbol_bullet", "truncated",
    "period_end", "exclaims", "latin_ratio", "digit_ratio", "stopwords", "ui_words", "recommend_words",
)


def _text_signals(text: str, b: _Block) -> tuple[float, ...]:
    return (
        math.log1p(b.n),
        math.log1p(b.cjk),
        b.cjk_ratio,
        min(b.sent, 5) / 5,
        min(b.clause, 10) / 10,
        1.0 if b.final else 0.0,
        1.0 if b.bullet else 0.0,
        1.0 if b.bullet and SYMBOL_BULLET.match(text) else 0.0,
        1.0 if text.rstrip().endswith(TRUNCATION_MARKS) else 0.0,
        1.0 if b.final and text.endswith("。") else 0.0,
        min(text.count("！") + text.count("!"), 3) / 3 if b.sent else 0.0,
        b.latin / max(1, b.n),
        b.digit_ratio,
        max(0.0, b.function_share),
        min(b.ui_hits, UI_MIN_HITS) / UI_MIN_HITS,
        1.0 if RECOMMEND.search(text) else 0.0,
    )


def signals(page: _Page) -> dict[str, list[float]]:
    """Named numeric signals, the content model's input: one column per signal, one value per block."""
    blocks, furniture = page.blocks, page.furniture
    count = len(blocks)
    start, end = page.run
    block_kinds = [b.kind for b in blocks]
    prose = [1.0 if kind == "good" else 0.0 for kind in block_kinds]
    inside = _inside(page)
    rule = [1.0 if _rule_content(b, flag) else 0.0 for b, flag in zip(blocks, inside)]
    max_cjk = max((b.cjk for b in blocks), default=0) or 1
    run_cjk = sum(b.cjk for b, flag in zip(blocks, inside) if flag and b.kind == "good")
    prose_cjk = sum(b.cjk for b in blocks if b.kind == "good") or 1
    shape_counts = Counter(b.shape for b in blocks)
    since_byline, byline = [], -BYLINE_REACH
    for i, kind in enumerate(block_kinds):
        since_byline.append(min(i - byline, BYLINE_REACH) / BYLINE_REACH)
        if kind == "source":
            byline = i
    # How far each block is from the run: counting down to its start, zero inside it, up from its end.
    distance = [*range(start, 0, -1), *[0] * (end - start + 1), *range(1, count - end)]
    last = max(1, count - 1)
    columns = {f"kind_{k}": [0.0] * count for k in KINDS}
    for i, kind in enumerate(block_kinds):
        columns[f"kind_{kind}"][i] = 1.0
    columns.update(zip(TEXT_SIGNALS, map(list, zip(*(form.signals for form in page.forms)))) if count else
                   ((name, []) for name in TEXT_SIGNALS))
    final = columns["final"]
    columns.update(
        cjk_of_page_max=[b.cjk / max_cjk for b in blocks],
        repeated_shape=[math.log1p(shape_counts[b.shape] - 1) for b in blocks],
        since_byline=since_byline,
        in_zone=[1.0 if b.zone else 0.0 for b in blocks],
        damped=[1.0 if b.damped else 0.0 for b in blocks],
        inside_run=[1.0 if flag else 0.0 for flag in inside],
        furniture=[1.0 if i in furniture else 0.0 for i in range(count)],
        before_run=[1.0] * start + [0.0] * (count - start),
        after_run=[0.0] * (end + 1) + [1.0] * (count - end - 1),
        run_distance=list(map(math.log1p, distance)),
        position=[i / last for i in range(count)],
        rule_content=rule,
        prev_rule=[0.0, *rule[:-1]][:count],
        next_rule=[*rule[1:], 0.0][:count],
        prev_final=[0.0, *final[:-1]][:count],
        next_final=[*final[1:], 0.0][:count],
        near_prose=_window_shares(prose, NEAR_WINDOW),
        wide_prose=_window_shares(prose, WIDE_WINDOW),
        near_rule=_window_shares(rule, NEAR_WINDOW),
    )
    page = {
        "page_prose_share": sum(prose) / max(1, count),
        "page_long_share": sum(1 for b in blocks if b.n >= LONG_LINE_CHARS) / max(1, count),
        "page_final_share": sum(final) / max(1, count),
        "page_run_share": run_cjk / prose_cjk,
        "page_log_blocks": math.log1p(count),
    }
    columns.update((name, [value] * count) for name, value in page.items())
    return columns


@dataclass(frozen=True, slots=True)
class ContentModel:
    """Logistic regression weights over named signals; a missing signal counts as zero."""

    weights: dict[str, float]
    bias: float
    threshold: float = 0.5

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> ContentModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(weights=data["weights"], bias=data["bias"], threshold=data["threshold"])

    def probabilities(self, columns: dict[str, list[float]]) -> list[float]:
        """One probability per block: the weighted sum of its signals, taken column by column (one
        array operation a signal, in the weights' order, so every sum is the same float a loop over
        the blocks would give)."""
        names = [name for name, weight in self.weights.items() if weight and name in columns]
        count = len(next(iter(columns.values()), []))
        values = np.fromiter(chain.from_iterable(columns[name] for name in names), float, len(names) * count)
        sums = np.zeros(count)
        for name, column in zip(names, values.reshape(len(names), count)):
            sums += self.weights[name] * column
        return [1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.bias + total)))) for total in sums.tolist()]


_MODEL: ContentModel | None = None


def content_model() -> ContentModel:
    global _MODEL
    if _MODEL is None:
        _MODEL = ContentModel.load()
    return _MODEL


# --- the verdict ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Verdict:
    """A segment's label and what decided it: `model`, or the revision that overruled it."""

    label: Label
    reason: str


def _content_label(segment: Segment, b: _Block) -> Label:
    text = segment.text
    if b.bullet:
        return Label.LIST_ITEM
    if b.n <= HEADING_MAX_CHARS and CAPTION.search(text):
        return Label.CAPTION
    if b.n <= HEADING_MAX_CHARS and not b.final and not b.sent:
        return Label.HEADING
    return Label.PARAGRAPH


def _noise_label(segment: Segment, b: _Block, before_run: bool) -> Label:
    if b.kind == "footer":
        return Label.FOOTER
    if b.kind == "ui":
        return Label.UI_CHROME
    if b.zone:
        return b.zone if isinstance(b.zone, Label) else Label(b.zone)  # (a zone is set as a Label)
    if b.kind == "header":
        return _header_zone(segment.text)
    if b.kind == "teaser":
        return Label.RECOMMENDATION
    if b.kind == "menu" or before_run:
        return Label.NAVIGATION
    if b.kind in ("good", "near"):
        return Label.UNRELATED_POST
    return Label.UI_CHROME


@dataclass(slots=True)
class _Verdicts:
    """The page's analysis, the model's probabilities and the verdicts as they are revised."""

    page: _Page
    probabilities: list[float]
    inside: list[bool]
    rule: list[float]
    labels: list[Verdict]

    def content(self, i: int) -> bool:
        return self.labels[i].label in _CONTENT

    def keep(self, i: int, reason: str) -> None:
        self.labels[i] = Verdict(_content_label(self.page.segments[i], self.page.blocks[i]), reason)

    def drop(self, i: int, reason: str) -> None:
        self.labels[i] = Verdict(_noise_label(self.page.segments[i], self.page.blocks[i], i < self.page.run[0]), reason)


_CONTENT = frozenset((Label.TITLE, Label.HEADING, Label.PARAGRAPH, Label.LIST_ITEM, Label.CAPTION))
# The model's verdict for each label: immutable, so one for every block that gets it.
_MODEL_VERDICTS = {label: Verdict(label, "model") for label in Label}


def _first_verdicts(page: _Page, probabilities: list[float], threshold: float) -> list[Verdict]:
    """The model's verdict on every block: content at or above its threshold."""
    segments, blocks, start = page.segments, page.blocks, page.run[0]
    return [
        _MODEL_VERDICTS[_content_label(s, b) if p >= threshold else _noise_label(s, b, i < start)]
        for i, (s, b, p) in enumerate(zip(segments, blocks, probabilities))
    ]


def zone_outside_run(v: _Verdicts) -> None:
    """Outside the article run, a block under a list or post header stays in that header's zone:
    the header says what the block is better than the block's own form does."""
    for i, b in enumerate(v.page.blocks):
        if b.zone and not v.inside[i] and v.content(i):
            v.drop(i, f"zone:{b.zone}")


def no_prose(v: _Verdicts) -> None:
    """A block that is neither prose nor a short line inside the run is not kept on the model's
    word alone: its kind (a menu, a teaser, a footer) says what it is."""
    for i, b in enumerate(v.page.blocks):
        if not v.rule[i] and b.kind not in ("good", "near") and v.content(i):
            v.drop(i, f"kind:{b.kind}")


def run_prose(v: _Verdicts) -> None:
    """A page whose run holds prose has an article: where the model keeps none of the run, the
    run's prose is kept (a short news item of figures reads to the model like a table)."""
    run = [i for i, inside in enumerate(v.inside) if inside]
    if any(v.content(i) for i in run):
        return
    for i in run:
        if v.page.blocks[i].kind == "good":
            v.keep(i, "run_prose")


def thread_post(v: _Verdicts) -> None:
    """Replies on a thread page are content whatever their form."""
    for i in sorted(v.page.posts):
        v.keep(i, "thread_post")


def announced_line(v: _Verdicts) -> None:
    """The table or list the article announces at its end is the article's."""
    for i in sorted(v.page.announced):
        v.keep(i, "announced")


def list_page_line(v: _Verdicts) -> None:
    """The entries of a page without prose, or written in short lines, are its content."""
    for i in sorted(v.page.list_lines):
        v.keep(i, "list_page")


def byline(v: _Verdicts, *, reach_before: int = TITLE_LOOKBACK, reach_after: int = 3) -> None:
    """Bylines and date lines just before or just after the article run are its metadata."""
    page = v.page
    if not page.found:
        return
    for i, b in enumerate(page.blocks):
        if b.kind == "source" and page.run[0] - reach_before <= i <= page.run[1] + reach_after:
            v.labels[i] = Verdict(Label.SOURCE, "byline")


def card_line(v: _Verdicts) -> None:
    for i in sorted(v.page.card):
        v.labels[i] = Verdict(Label.SOURCE, "author_card")


def title_line(v: _Verdicts) -> None:
    if v.page.title is not None:
        v.labels[v.page.title] = Verdict(Label.TITLE, "title")


# The revisions of the first verdict, in the order they run: a later one overrules an earlier one.
REVISIONS: tuple[Callable[[_Verdicts], None], ...] = (
    zone_outside_run, no_prose, run_prose, thread_post, announced_line, list_page_line, byline, card_line, title_line,
)


def _features(b: _Block, p: float, first: Verdict, final: Verdict) -> dict[str, float | int | str]:
    features: dict[str, float | int | str] = {"kind": b.kind, "cjk": b.cjk, "p": round(p, 3), "reason": final.reason}
    if final is not first and final != first:  # (most verdicts are never revised: the same object)
        features["first"] = first.label.value
    if b.function_share >= 0:
        features["stop"] = round(b.function_share, 3)
    if b.zone:
        features["zone"] = str(b.zone)
    return features


def classify(segments: list[Segment], model: ContentModel | None = None) -> None:
    """Set label, score (the probability of being content) and features on every segment, in place:
    the analysis passes, the model's first verdict, then the revisions, in order."""
    model = model or content_model()
    page = analyse(segments)
    columns = signals(page)
    probabilities = model.probabilities(columns)
    first = _first_verdicts(page, probabilities, model.threshold)
    verdicts = _Verdicts(page, probabilities, _inside(page), columns["rule_content"], list(first))
    for revise in REVISIONS:
        revise(verdicts)
    for segment, b, p, before, after in zip(segments, page.blocks, probabilities, first, verdicts.labels):
        segment.label = after.label
        segment.score = p
        segment.features = _features(b, p, before, after)
