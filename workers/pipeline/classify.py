"""Label every segment: article content, article metadata, or one of the noise classes.

The passes follow jusText (Pomikálek, 2011) and the density idea of GNE / CCNet, adapted to
Chinese text without markup:

1. `_describe`: cheap character features (length, CJK ratio, punctuation, digits, markers, post
   stamps) and, only for blocks that could be prose, the share of function characters
   (的 了 是 在 …). Function words separate running text from link lists and headlines — the
   stoplist idea of jusText, whose lists come from the most frequent words of each language's
   Wikipedia.
2. `_initial`: each block is `good` (prose), `near` (some prose), `short` or an explicit noise
   class recognised by its form (source lines, UI words, footers, list headers).
3. `_main_run`: the article is the densest run of prose: a maximum-sum run over block values
   (positive for prose, negative for noise), found in one linear pass.
4. `_zones`: a header such as 热门推荐 or a #话题# line starts a zone whose blocks share its class
   (`_numbered_lists`: not when a numbered list of the article follows it).
   `_listings`: a long row of headlines (one-line blocks with no full stop) is a list of teasers.
   `_posts`: on a thread page (several post stamps: times, floor numbers), the lines after each
   stamp are a post; replies are short and would never pass for prose on their own.
5. `signals` and the content model: every block gets named signals — its own form, the verdicts
   of the passes above (kind, zone, main run, furniture), its neighbours and page-level style
   (share of long lines, of finished sentences) — and a logistic regression fitted on the dev
   corpus (`python -m workers train-classifier`, weights in content_model.json) gives the
   probability that it belongs to the article. Hard rules stay where the form is decisive: the
   title, bylines near the run, a zone's blocks outside the run, and a block with no prose that
   the rules did not keep.
6. Content blocks become title/heading/paragraph/list_item/caption/source; every other block gets
   its noise class from its form, its zone and its position.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate, compress
from pathlib import Path


from .records import Segment
from .patterns import any_word, starting_with
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
# Inside the run, more than this many non-prose blocks in a row are page furniture (menus, share
# bars) when they are tiny on average or partly recognised noise; code and numbered steps are not.
MAX_INNER_GAP = 3
FURNITURE_MAX_MEAN_CHARS = 12
FURNITURE_MIN_NOISE_SHARE = 0.3
# A headline is a one-line block with no full stop (。；) inside: the link text of another page.
# This many headlines in a row (tiny counters and dates between them aside) make a list of links,
# and even those that read like prose are teasers; an article's subheadings stand between
# paragraphs, not in a row.
HEADLINE_MAX_CHARS = 50
HEADLINE_MIN_CJK = 6
HEADLINE_RUN = 4
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
# When at least this share of the posts (THREAD_MIN_POSTS of them at least) open with a headline
# this long (CJK characters), the stamps are the dates of a teaser list (date, headline, source),
# not the times of replies.
TEASER_HEADLINE_MIN_CJK = 15
TEASER_POST_SHARE = 0.5

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


# Stamps only a thread has: a teaser list dates its entries but never numbers floors or says 发表于.
THREAD_STAMP = re.compile(r"发表于|發表於|\d+\s*楼|#\d+$|沙发|板凳")
POST_STAMP = re.compile(
    starting_with(
        r"\d发發#沙板",
        r"\d+\s*(?:秒|分钟|小时|天|周|个月|月|年)前|\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}|"
        + THREAD_STAMP.pattern,
    )
)

SOURCE_LINE = re.compile(
    r"^[\W_]*(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s*(?:\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?\s*[|｜]?\s*)?"
    r"(?:来源|來源|来自|作者|編輯|编辑|责任编辑|責任編輯|责编|记者|記者|通讯员|撰文|摄影|攝影|"
    r"发布时间|發布時間|发稿时间|发表时间|发表于|发布于|时间|時間|日期|出处|选稿|校对|审核|原标题)\s*[：:]"
)
DATE_LINE = re.compile(
    r"^[\W_]*\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*"
    r"(?:\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?[\W_]*$"
)
FOOTER = re.compile(
    starting_with(
        "版c©I备公违不联关免隐用服网未禁请a",
        r"版权所有|版權所有|copyright|©|ICP|备案|公网安备|违法和不良信息|不良信息举报|联系我们|关于我们|"
        r"免责声明|隐私政策|用户协议|服务条款|网站地图|未经(?:书面)?(?:授权|许可)|不得转载|禁止转载|请勿转载|all rights reserved",
    ),
    re.IGNORECASE,
)


UI = re.compile(
    any_word(
        "登录 登入 登錄 注册 註冊 分享 举报 舉報 评论 評論 回复 回覆 点赞 收藏 关注 關注 转发 打印 "
        "字号 字体 返回 扫一扫 掃一掃 二维码 客户端 下载 下載 上一篇 下一篇 上一页 下一页 阅读原文 "
        "阅读全文 展开 收起 查看更多 加载更多 写留言 留言 纠错 点击 浏览 阅读量 搜索 订阅 复制链接 "
        "微信 微博 QQ 赞 踩 跳转 首页 首頁 菜单 导航 切换 全部 更多 App app APP".split()
    )
    + r"|\d+\s*(?:人|次|条)"
)
RECOMMEND = re.compile(
    starting_with(
        "推相类延猜热熱排也都看为往可还還更",
        r"推荐|推薦|(?:相关|相關)(?:阅读|閱讀|文章|新闻|新聞|链接|问题|内容|视频|资讯|话题|推荐)|类似问题|"
        r"延伸阅读|猜你|热门|熱門|热点|热搜|热文|热榜|排行|(?:也|都)在看|看了又看|为你|往期|"
        r"可能(?:还|還)?(?:想看|喜欢|喜歡|感兴趣|感興趣)|还想看|還想看|更多(?:文章|新闻|资讯|内容|精彩)",
    )
)
ADVERT = re.compile(r"广告|廣告|推广|招聘|诚聘|赞助|商务合作|详情页|立即咨询|免费预约|优惠|抢购|加盟")
# A publishing platform's notice that the text above is a user's post: the article ends there, and
# what follows (often another user's post) does not belong to it.
PLATFORM_NOTE = re.compile(r"仅提供信息存储|系信息发布平台|用户上传并发布")
# A comment section's header; its count (243 条评论) may stand on a line of its own.
COMMENT_HEADER = re.compile(
    r"^\W*(?:(?:\d+\s*)?条(?:评论|回复|留言)|(?:网友|全部|热门|最新|精彩)(?:评论|回复|留言)|评论区|评论\s*[(（]\d+|跟帖)"
)
# The first item of a numbered list.
FIRST_ITEM = re.compile(r"^(?:1[.、)）](?![0-9])|[(（][1一][)）]|[①⑴❶]|一、)")
SYMBOL_BULLET = re.compile(r"^[•·●○◆◇▪▫■□▶►➤\-–*+>]")
HASHTAG_LINE = re.compile(r"^#[^#\s]{1,30}#$")
CAPTION = re.compile(r"摄$|摄）$|图为|图片来源|图源|圖片|配图|（图|\(图|图：|图/")
# A line with several short items separated by spaces or bars: a menu.
MENU = re.compile(r"^(?:\S{1,8}(?:\s+|\s*[|｜/]\s*)){3,}\S{1,8}$")

# Characters that are function words on their own (particles, pronouns, prepositions, copulas,
# conjunctions, negations), Simplified and Traditional, and a few Japanese particles so that
# Japanese prose is recognised as prose too. Their share of a block's CJK characters is the
# stoplist idea of jusText at the character level: running text is full of them, headlines and
# link lists are not. Counting characters needs no tokeniser, so the classifier tokenises nothing
# and only the article's own segments are ever tokenised (for keywords).
_FUNCTION_CHAR = re.compile(
    "[的了是在和也就都而及与这那有着被把让给向从对于以为因由将并但又还更很其之所我你他她它们不没要会能可"
    "吗呢吧啊個們這為與對從還會沒讓給嗎のにはをがでとも]"
)


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


def _describe(segment: Segment) -> _Block:
    text = segment.text
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


def _function_share(segment: Segment, b: _Block) -> float:
    return len(_FUNCTION_CHAR.findall(segment.text)) / max(1, b.cjk)


def _initial(segment: Segment, b: _Block) -> str:
    """The block's kind from its own form, before looking at neighbours."""
    text = segment.text
    if b.n <= SOURCE_MAX_CHARS and (SOURCE_LINE.search(text) or DATE_LINE.match(text)):
        return "source"
    if b.n <= FOOTER_MAX_CHARS and FOOTER.search(text):
        return "footer"
    if COMMENT_HEADER.search(text) or (b.n <= HEADER_MAX_CHARS and HASHTAG_LINE.match(text)):
        return "header"
    if b.n <= FOOTER_MAX_CHARS and PLATFORM_NOTE.search(text):
        return "header"
    if b.ui_hits >= UI_MIN_HITS:
        return "ui"
    if b.bullet and b.n >= TEASER_MIN_CHARS and not b.final and (SYMBOL_BULLET.match(text) or not b.sent):
        return "teaser"
    if b.cjk >= PROSE_MIN_CJK and b.cjk_ratio >= PROSE_MIN_CJK_RATIO and (b.sent or b.clause):
        b.function_share = _function_share(segment, b)
        if b.function_share >= PROSE_MIN_FUNCTION_SHARE:
            return "good"
        return "near"
    if b.n <= HEADER_MAX_CHARS and not b.sent and (RECOMMEND.search(text) or ADVERT.search(text)):
        return "header"
    # One UI word (微信, 登录) does not make a numbered item chrome: numbered items are steps.
    if b.n <= UI_MAX_CHARS and b.ui_hits and not (b.bullet and not SYMBOL_BULLET.match(text)):
        return "ui"
    if not b.sent and not b.clause and MENU.match(text):
        return "menu"
    return "short"


def _numbered_lists(segments: list[Segment], blocks: list[_Block]) -> None:
    """A list or advertising header, itself no list item, followed by a list's first numbered
    item heads a list of the article (门票优惠景点 then 1、…): lists of links carry symbol
    bullets or none, so it opens no zone."""
    for i in range(len(blocks) - 1):
        b, text = blocks[i], segments[i].text
        if b.kind == "header" and not b.bullet and FIRST_ITEM.match(segments[i + 1].text) and _header_zone(text) in ("advertisement", "recommendation"):
            b.kind = "short"


def _is_headline(segment: Segment, b: _Block) -> bool:
    text = segment.text
    return (
        b.kind in ("good", "near", "short", "teaser")
        and b.zone != "comment"
        and HEADLINE_MIN_CJK <= b.cjk
        and b.n <= HEADLINE_MAX_CHARS
        and not _FULL_STOP.search(text)
        and not text.endswith(("：", ":"))
    )


def _listings(segments: list[Segment], blocks: list[_Block]) -> None:
    """Prose-like blocks in a long row of headlines are teasers of a link list, unless prose
    before the row announces it with a colon. Replies under a comment header are short lines
    too, but they are the thread, not links."""
    # Turning prose into teasers leaves a headline a headline: the flags hold for the whole pass.
    headline = [_is_headline(s, b) for s, b in zip(segments, blocks)]
    i, count = 0, len(blocks)
    while i < count:
        if not headline[i]:
            i += 1
            continue
        j, headlines = i, []
        while j < count and (headline[j] or blocks[j].n < LISTING_TINY_CHARS):
            if headline[j]:
                headlines.append(j)
            j += 1
        announced = i > 0 and segments[i - 1].text.endswith(("：", ":"))
        if len(headlines) >= HEADLINE_RUN and not announced:
            for k in headlines:
                if blocks[k].kind in ("good", "near"):
                    blocks[k].kind = "teaser"
        i = j


def _stamps(blocks: list[_Block]) -> list[int]:
    """The short lines that can stamp a post: a poster's time or a floor number."""
    return [i for i, b in enumerate(blocks) if b.stamp]


def _posts(segments: list[Segment], blocks: list[_Block]) -> set[int]:
    """On a thread page, the blocks of each post: the lines after a post stamp that hold words,
    up to the next stamp, UI line, header or line without letters (a counter, a separator).
    A UI line right under a stamp is skipped. Bulleted lines and lines whose shape repeats on
    the page are the entries of a teaser list with dates, not posts; so are posts that mostly
    open with a long headline, unless a stamp is one only a thread has (a floor number, 发表于)."""
    stamps = _stamps(blocks)
    if len(stamps) < THREAD_MIN_POSTS:
        return set()
    shapes = Counter(b.shape for b in blocks)
    stamp_set, out, openers = set(stamps), set(), []
    for i in stamps:
        # A UI line right under the stamp (对 某人 #3 回复) addresses the post; the post follows it.
        j = i + 2 if i + 1 < len(blocks) and blocks[i + 1].kind == "ui" else i + 1
        start = j
        while (
            j < len(blocks)
            and j not in stamp_set
            and blocks[j].kind in ("good", "near", "short")
            and blocks[j].zone in ("", "comment")
            and _LETTER.search(segments[j].text)
            and not blocks[j].bullet
            and shapes[blocks[j].shape] < POST_SHAPE_REPEATS
        ):
            out.add(j)
            j += 1
        if j > start:
            openers.append(start)
    headlines = sum(1 for i in openers if _is_headline(segments[i], blocks[i]) and blocks[i].cjk >= TEASER_HEADLINE_MIN_CJK)
    thread = any(THREAD_STAMP.search(segments[i].text) for i in stamps)
    if not thread and len(openers) >= THREAD_MIN_POSTS and headlines >= TEASER_POST_SHARE * len(openers):
        return set()
    return out


def _longest_list(blocks: list[_Block]) -> set[int]:
    """On a page without prose, the longest run of plain lines: the entries of its table of contents."""
    best, start = range(0), 0
    for i, b in enumerate(blocks + [None]):
        if b is not None and b.kind in ("short", "near", "good", "teaser") and not b.bullet:
            continue
        if i - start > len(best):
            best = range(start, i)
        start = i + 1
    return set(best) if len(best) >= LIST_PAGE_MIN_LINES else set()


def _header_zone(text: str) -> str:
    if ADVERT.search(text):
        return "advertisement"
    if COMMENT_HEADER.search(text):
        return "comment"
    if RECOMMEND.search(text):
        return "recommendation"
    return "unrelated_post"


def _zones(segments: list[Segment], blocks: list[_Block]) -> None:
    """A header gives its class to the blocks after it, up to the next header or byline (a bare
    date does not end it: teaser lists date every entry). A list or advertising header before the
    article's prose is page navigation (热门, 推荐, 招聘 in a menu): its list ends at the first
    prose. A list or advertising header that follows the article's prose damps the prose under
    it, and a platform's notice there closes the article: the rest of the page stays in zones
    and damped, even under a byline (the next item is another user's post). An advertisement's
    close button (×) ends its zone: an ad set into the article holds a line or two, and the
    article goes on after it."""
    zone, damped, closed, after_prose, prose = "", False, False, False, 0
    for segment, b in zip(segments, blocks):
        if b.kind == "header":
            zone = _header_zone(segment.text)
            after_prose = prose >= ZONE_AFTER_PROSE_CJK
            closed = closed or (after_prose and bool(PLATFORM_NOTE.search(segment.text)))
            damped = closed or (after_prose and zone in ("recommendation", "advertisement"))
        elif b.kind == "source" and not closed and SOURCE_LINE.search(segment.text):
            zone, damped = "", False
        elif zone == "advertisement" and not closed and CLOSE_BUTTON.fullmatch(segment.text):
            zone, damped = "", False
        elif b.kind == "good":
            if zone in ("recommendation", "advertisement") and not after_prose:
                zone = ""
            prose += b.cjk
        b.zone, b.damped = zone, damped


def _value(b: _Block) -> float:
    if b.kind in ("source", "header"):
        return -BOUNDARY_COST
    if b.kind == "short":
        return -SHORT_COST
    if b.kind not in ("good", "near"):
        return -(NOISE_COST + NOISE_LENGTH_FACTOR * min(b.n, 80))
    value = float(min(b.cjk, GOOD_VALUE_CAP))
    if b.kind == "near":
        value = NEAR_FACTOR * value - SHORT_COST
    if b.damped:
        value *= ZONE_DAMPING
    return value


def _main_run(blocks: list[_Block]) -> tuple[int, int]:
    """The maximum-sum run of block values (Kadane); (start, end) inclusive, or (0, -1)."""
    best, best_span = 0.0, (0, -1)
    total, start = 0.0, 0
    for i, b in enumerate(blocks):
        if total <= 0:
            total, start = 0.0, i
        total += _value(b)
        if total > best:
            best, best_span = total, (start, i)
    return best_span


def _extend(blocks: list[_Block], run: tuple[int, int]) -> tuple[int, int]:
    """jusText's context rule at the edges: short finished sentences next to the run join it."""
    start, end = run
    while start > 0 and blocks[start - 1].kind in ("short", "near") and blocks[start - 1].final:
        start -= 1
    while end + 1 < len(blocks) and blocks[end + 1].kind in ("short", "near") and blocks[end + 1].final:
        end += 1
    return start, end


def _furniture(segments: list[Segment], blocks: list[_Block], run: tuple[int, int]) -> set[int]:
    """Inside the run, long stretches of small or noisy blocks are page furniture, unless they are
    the items of a list that the prose before them announces with a colon."""
    out: set[int] = set()
    i = run[0]
    while i <= run[1]:
        if blocks[i].kind in ("good", "near"):
            i += 1
            continue
        j = i
        while j <= run[1] and blocks[j].kind not in ("good", "near"):
            j += 1
        gap = range(i, j)
        announced = i > 0 and segments[i - 1].text.endswith(("：", ":"))
        mean_chars = sum(blocks[k].n for k in gap) / len(gap)
        noise = sum(1 for k in gap if blocks[k].kind != "short") / len(gap)
        furniture = mean_chars < FURNITURE_MAX_MEAN_CHARS or noise >= FURNITURE_MIN_NOISE_SHARE
        if len(gap) > MAX_INNER_GAP and furniture and not (announced and all(blocks[k].bullet for k in gap)):
            out.update(gap)
        i = j
    return out


def _noise_label(segment: Segment, b: _Block, before_run: bool) -> str:
    if b.kind == "footer":
        return "footer"
    if b.kind == "ui":
        return "ui_chrome"
    if b.zone:
        return b.zone
    if b.kind == "header":
        return _header_zone(segment.text)
    if b.kind == "teaser":
        return "recommendation"
    if b.kind == "menu" or before_run:
        return "navigation"
    if b.kind in ("good", "near"):
        return "unrelated_post"
    return "ui_chrome"


def _content_label(segment: Segment, b: _Block) -> str:
    text = segment.text
    if b.bullet:
        return "list_item"
    if b.n <= HEADING_MAX_CHARS and CAPTION.search(text):
        return "caption"
    if b.n <= HEADING_MAX_CHARS and not b.final and not b.sent:
        return "heading"
    return "paragraph"


def _is_title_like(segment: Segment, b: _Block) -> bool:
    return (
        TITLE_MIN_CHARS <= b.n <= TITLE_MAX_CHARS
        and b.kind in ("short", "near", "good")
        and b.cjk_ratio >= PROSE_MIN_CJK_RATIO
        and not b.bullet
        and b.sent <= 1
        and not segment.text.endswith(("。", "：", ":"))
    )


def _find_title(segments: list[Segment], blocks: list[_Block], run_start: int) -> int | None:
    """The title: the last title-like block before a byline, else the nearest before the run."""
    first = max(0, run_start - TITLE_LOOKBACK)
    nearest = None
    for i in range(run_start - 1, first - 1, -1):
        if not _is_title_like(segments[i], blocks[i]):
            continue
        if nearest is None:
            nearest = i
        if i + 1 < len(blocks) and blocks[i + 1].kind == "source":
            return i
    return nearest


def _near(i: int, run: tuple[int, int]) -> bool:
    """Bylines sit just before or just after the article run."""
    return run[0] - TITLE_LOOKBACK <= i <= run[1] + 3


def _features(b: _Block, p: float) -> dict[str, float | int | str]:
    features: dict[str, float | int | str] = {"kind": b.kind, "cjk": b.cjk, "p": round(p, 3)}
    if b.function_share >= 0:
        features["stop"] = round(b.function_share, 3)
    if b.zone:
        features["zone"] = b.zone
    return features


# --- the content model ------------------------------------------------------------------------
# Whether a block belongs to the article is decided by a logistic regression over the signals
# below: the block's own form, the rule passes' verdicts (kind, zone, main run, furniture), its
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
        return b.kind in ("good", "near", "short")
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


def signals(segments: list[Segment], blocks: list[_Block], run: tuple[int, int], furniture: set[int]) -> dict[str, list[float]]:
    """Named numeric signals, the content model's input: one column per signal, one value per block."""
    count = len(blocks)
    start, end = run
    texts = [s.text for s in segments]
    kinds = [b.kind for b in blocks]
    prose = [1.0 if kind == "good" else 0.0 for kind in kinds]
    final = [1.0 if b.final else 0.0 for b in blocks]
    inside = [start <= i <= end and i not in furniture for i in range(count)]
    rule = [1.0 if _rule_content(b, flag) else 0.0 for b, flag in zip(blocks, inside)]
    max_cjk = max((b.cjk for b in blocks), default=0) or 1
    run_cjk = sum(b.cjk for b, flag in zip(blocks, inside) if flag and b.kind == "good")
    prose_cjk = sum(b.cjk for b in blocks if b.kind == "good") or 1
    shape_counts = Counter(b.shape for b in blocks)
    since_byline, byline = [], -BYLINE_REACH
    for i, kind in enumerate(kinds):
        since_byline.append(min(i - byline, BYLINE_REACH) / BYLINE_REACH)
        if kind == "source":
            byline = i
    # How far each block is from the run: counting down to its start, zero inside it, up from its end.
    distance = [*range(start, 0, -1), *[0] * (end - start + 1), *range(1, count - end)]
    last = max(1, count - 1)
    columns = {f"kind_{k}": [0.0] * count for k in KINDS}
    for i, kind in enumerate(kinds):
        columns[f"kind_{kind}"][i] = 1.0
    columns.update(
        log_chars=[math.log1p(b.n) for b in blocks],
        log_cjk=[math.log1p(b.cjk) for b in blocks],
        cjk_of_page_max=[b.cjk / max_cjk for b in blocks],
        cjk_ratio=[b.cjk_ratio for b in blocks],
        sentences=[min(b.sent, 5) / 5 for b in blocks],
        clauses=[min(b.clause, 10) / 10 for b in blocks],
        final=final,
        bullet=[1.0 if b.bullet else 0.0 for b in blocks],
        # A symbol bullet is a bullet, a full stop or an exclamation mark a sentence end: only the
        # blocks that have those are looked at again.
        symbol_bullet=[1.0 if b.bullet and SYMBOL_BULLET.match(text) else 0.0 for b, text in zip(blocks, texts)],
        truncated=[1.0 if text.rstrip().endswith(TRUNCATION_MARKS) else 0.0 for text in texts],
        period_end=[1.0 if b.final and text.endswith("。") else 0.0 for b, text in zip(blocks, texts)],
        exclaims=[min(text.count("！") + text.count("!"), 3) / 3 if b.sent else 0.0 for b, text in zip(blocks, texts)],
        latin_ratio=[b.latin / max(1, b.n) for b in blocks],
        repeated_shape=[math.log1p(shape_counts[b.shape] - 1) for b in blocks],
        since_byline=since_byline,
        digit_ratio=[b.digit_ratio for b in blocks],
        stopwords=[max(0.0, b.function_share) for b in blocks],
        ui_words=[min(b.ui_hits, UI_MIN_HITS) / UI_MIN_HITS for b in blocks],
        recommend_words=[1.0 if RECOMMEND.search(text) else 0.0 for text in texts],
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
        """One probability per block: the weighted sum of its signals, taken column by column."""
        count = len(next(iter(columns.values()), []))
        sums = [0.0] * count
        for name, column in columns.items():
            weight = self.weights.get(name, 0.0)
            # Adding zero leaves a sum as it was: a column mostly of zeros adds only where it is not.
            if 2 * column.count(0.0) > count:
                for i in compress(range(count), column):
                    sums[i] += weight * column[i]
            else:
                sums = [total + weight * value for total, value in zip(sums, column)]
        return [1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.bias + total)))) for total in sums]


_MODEL: ContentModel | None = None


def content_model() -> ContentModel:
    global _MODEL
    if _MODEL is None:
        _MODEL = ContentModel.load()
    return _MODEL


def analyse(segments: list[Segment]) -> tuple[list[_Block], tuple[int, int], set[int], int | None]:
    """The rule passes: block kinds and zones, the main run, furniture inside it, the title."""
    blocks = [_describe(s) for s in segments]
    for segment, b in zip(segments, blocks):
        b.kind = _initial(segment, b)
    _numbered_lists(segments, blocks)
    _zones(segments, blocks)
    _listings(segments, blocks)
    run = _main_run(blocks)
    if run[1] < run[0]:
        return blocks, run, set(), None
    run = _extend(blocks, run)
    # On a thread the title heads the first post: a line between later stamps is a reply.
    stamps = _stamps(blocks)
    title_before = min(run[0], stamps[0]) if len(stamps) >= THREAD_MIN_POSTS else run[0]
    return blocks, run, _furniture(segments, blocks, run), _find_title(segments, blocks, title_before)


def classify(segments: list[Segment], model: ContentModel | None = None) -> None:
    """Set label, score (the probability of being content) and features on every segment, in place."""
    model = model or content_model()
    blocks, run, furniture, title = analyse(segments)
    found = run[1] >= run[0]
    columns = signals(segments, blocks, run, furniture)
    # Replies on a thread page, and the entries of a page without prose or written in short lines,
    # are content whatever their form: short lines that the model would drop anywhere else.
    lines = _longest_list(blocks)
    run_cjk = sum(b.cjk for b in blocks[run[0] : run[1] + 1] if b.kind == "good")
    if sum(blocks[i].cjk for i in lines) < LINES_OVER_RUN * run_cjk:
        lines = set()
    kept = _posts(segments, blocks) | lines
    inside, rule = columns["inside_run"], columns["rule_content"]
    probabilities = model.probabilities(columns)
    # Outside the article run, a block under a list or post header stays in that header's zone:
    # the header says what the block is better than the block's own form does.
    for i, (segment, b, p) in enumerate(zip(segments, blocks, probabilities)):
        if i == title:
            label = "title"
        elif b.kind == "source" and found and _near(i, run):
            label = "source"
        elif i in kept:
            label = _content_label(segment, b)
        elif p >= model.threshold and (inside[i] or not b.zone) and (rule[i] or b.kind in ("good", "near")):
            label = _content_label(segment, b)
        else:
            label = _noise_label(segment, b, i < run[0])
        segment.label = label
        segment.score = p
        segment.features = _features(b, p)
