"""Quantitative facts of a Chinese article body.

A fact is a quantity a reader would quote (产值实现2940.8亿元, 总面积达471平方公里, 用时112天) with
what it measures, its period and its change. The extractor works on the body only (the noise of the
page is gone by then). Every quantity quantities.py recognises is a candidate; a candidate that is a
date, an ordinal, a name, a code, a phone number, a class threshold or an idiom is rejected with a
named reason (`REJECTIONS`, counted per page), and every other one is a fact, with its subject when
one is found and `subject_method` saying how it was attached ("none": subject null).

Passes, each a short function below:
1. find quantities (quantities.py) on a copy of the text with full-width digits folded to ASCII,
   so offsets stay those of the original;
2. reject the candidates that are not facts, each with its reason;
3. attach a following change (同比增长14.3%) to the figure it qualifies;
4. find periods (1至8月, 上半年, 2020年) at the head of a clause and resolve them with the
   reference year; a period leading a paragraph covers the paragraph;
5. name the subject from the words around the figure, carrying a sentence's topic and its
   leading entity (长春汽开区) to clauses that only name an attribute.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache, partial
from operator import itemgetter
from typing import NamedTuple

from .numbers import parse_number
from .patterns import any_word, starting_with
from .quantities import (
    POST_QUALIFIERS, QUANTITY_RE, Quantity, find_quantities, fold_fullwidth, money_context,
)
from .records import Change, Fact, Period

# Measure words that are not followed by the noun they count (3000人参加, 先后5次赴…).
NOUNLESS_COUNTS = frozenset({"人", "人次", "名", "位", "户", "次", "例"})
# How nouns of people end: 32名本科毕业生, 3名航天员, 300名同学.
PERSON_NOUN_ENDINGS = tuple("生员者人师工民客手士兵官长部表众童孩学友")

# Why a candidate is not a fact. Each reason is counted per page (PageResult.fact_rejections).
REJECTIONS = {
    "name": "part of a name: a quoted figure (“24小时”服务) or a named formula (两个维护)",
    "date": "a calendar year or date (2020年), not a duration",
    "ordinal": "an ordinal (第四届)",
    "phone": "a telephone number",
    "code": "a code or an identifier (代码600519, 编号2020001)",
    "article": "一 as an article or in an idiom (一个, 一次), not a measurement",
    "threshold": "a class boundary inside a subject (10亿元以上项目)",
    "formula": "a count spelling out a formula (1+6+6 … 1个领导小组)",
    "service_hours": "a service's hours (24小时全天候服务), not a measured duration",
    "no_unit": "a numeral with a multiplier but no unit, outside a money context",
    "malformed": "zero, or a count with a fraction outside an average (场均8.8个篮板 is one)",
}
# Named formulas, slogans, idioms and terms (三双: a basketball line): numerals in them are names, not statistics.
NAMED_FORMULAS = (
    "一成不变", "九年义务教育", "十天半月", "十天半个月", "一年半载", "一五一十", "三五成群", "十全十美", "三番五次", "一石二鸟", "一举两得", "九牛一毛", "一年四季",
    "三双", "两双", "两个维护", "四个意识", "四个自信", "四个全面", "两个确立", "三个代表", "五位一体", "两个一百年",
    "三个务必", "四个伟大", "两个大局", "四个面向", "四个最严", "六个回归", "三个转变",
)
FORMULA_HEADS = frozenset(word[0] for word in NAMED_FORMULAS)
CODE_BEFORE = ("代码", "编号", "型号", "账号", "批号", "证号", "邮编", "车牌", "工号", "学号", "编码")
PHONE_BEFORE = ("电话", "热线", "拨打", "致电", "手机", "联系方式", "传真", "咨询")
CODE_BEFORE_RE, PHONE_BEFORE_RE = re.compile("|".join(CODE_BEFORE)), re.compile("|".join(PHONE_BEFORE))
NUMBER_LABEL_RE = re.compile(any_word(PHONE_BEFORE + CODE_BEFORE))  # either kind, looked for once: most figures have none
ORDINAL_LIST_RE = re.compile(r"第[^第、，。]{1,3}、$")  # 第三、四位
SESSION_RE = re.compile(r"[一二三四五六七八九]中全会|全国人大|人大|政协|党代会|中央")
CODE_RE = re.compile(r"[0-9A-Za-z]{4,}")
PHONE_RE = re.compile(r"(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})")
CONTEXT_LOOKBACK = 6
THRESHOLD_WORDS = ("以上", "以下")
NOT_NOUN_START = "是为有在将已均占达的和或及至到降升增减涨跌"
CHANGE_VERBS = ("到", "至", "达", "增", "降", "减")
# Quantities in which 一 is an amount (一美元, 一成, 一倍), never an article.
AMOUNT_QUANTITIES = frozenset({"money", "percent", "multiple", "fraction"})
# A year counts as a duration only in these contexts (3年来, 用时2年); otherwise it is a date.
YEAR_DURATION_AFTER = ("以来", "来", "间", "内", "里", "多", "时间", "之久", "有余", "后", "前")
DURATION_VERBS = ("用时", "用了", "仅用", "历时", "耗时", "花了", "长达", "整整", "连续", "经过", "已有", "未来", "过去", "最近")
MAX_DURATION_YEARS = 200
AVERAGE = "均"  # 场均, 人均, 平均, 日均: an average count may have a fraction
AVERAGE_REACH = 60  # characters back to look for it, within the sentence
SENTENCE_MARKS = "。！？!?…"
SENTENCE_ENDS = SENTENCE_MARKS + "\n"
MIN_CALENDAR_YEAR = 10  # two-digit years (98年) are written; one-digit ones are not
NOT_DURATION_AFTER = ("级", "期", "代")  # 5年级, 3年期, 7年代
# Scope durations (3年来) measure a span; the rest measure how long something took.
SCOPE_DURATION_AFTER = ("以来", "来", "间", "里")
DONE_AFTER = ("就", "便", "即", "全部", "完成", "建成", "办结", "办完", "走完")
TOOK_BEFORE = ("用时", "用了", "仅用", "只用", "历时", "耗时", "花了", "花费", "用")
# "24小时全天候服务" names a service's hours, not a measured duration.
SERVICE_HOURS_AFTER = ("全天候", "不间断", "服务", "值班", "营业", "在线", "监测", "开放", "热线", "待命", "运行",
                       "运转", "通关", "接诊", "畅通")
QUOTE_OPEN, QUOTE_CLOSE = tuple("“‘「『\"《"), "”’」』\"》"
MAX_QUOTED_NAME = 6  # chars between a quoted figure and its closing quote


YEAR_FRAGMENT_RE = re.compile(
    r"(?:从|由|到|至|增长到|增加到|提高到|提升到|上升到|增至|降至|下降到|减少到)?(?:19|20)\d{2}年(?:底|末|初)?的?"
)
SUBJECT_STRIP = "“”\"'‘’「」《》()（）【】[]的—-－·•:：、 "

MIN_SUBJECT = 2
MAX_SUBJECT = 24
MAX_TOPIC = 16
MAX_NAME = 20  # a project name before its head noun
MAX_NOUN_PHRASE = 14
SUBJECT_CACHE_SIZE = 4096  # distinct words before a figure that _clean remembers

# ---------------------------------------------------------------------------------------------
# Patterns.
# ---------------------------------------------------------------------------------------------

_RANGE_SEP = r"(?:至|到|-|—|~|～)"
CHANGE_KINDS = (
    ("环比", "mom"), ("比上月", "mom"), ("较上月", "mom"), ("同比", "yoy"), ("比上年同期", "yoy"),
    ("较上年同期", "yoy"), ("比去年同期", "yoy"), ("较去年同期", "yoy"), ("比上年", "yoy"),
    ("较上年", "yoy"), ("比去年", "yoy"), ("较去年", "yoy"), ("较同期", "yoy"),
)
RISE = ("增长", "增加", "上升", "提高", "提升", "上涨", "加快", "扩大", "增", "涨", "升")
FALL = ("下降", "减少", "下滑", "回落", "降低", "下跌", "放缓", "收窄", "萎缩", "降", "减", "跌", "贬")
CHANGE_KIND_OF = dict(CHANGE_KINDS)
CHANGE_TAIL_RE = re.compile(
    "(?P<kind>" + "|".join(k for k, _ in CHANGE_KINDS) + ")?"
    "(?P<dir>" + "|".join(sorted(RISE + FALL, key=len, reverse=True)) + ")了?$"
)
CHANGE_GAP_RE = re.compile(r"[,，、]?\s*$")
LIST_JOINERS = frozenset({"、", "和", "与", "及", ",", "，"})
CHANGE_LOOKBACK = 12

# A sentence of a paragraph (which a line break ends): up to its run of end marks and closing quotes,
# or to the paragraph's end; it starts and ends on no space. (The run before the marks is possessive:
# given back, it would leave no mark next, so a sentence without one is not tried at every length.)
SENTENCE_RE = re.compile(rf"(?=\S)(?:[^{SENTENCE_MARKS}]*+[{SENTENCE_MARKS}]+[”’」』\"]*|[^{SENTENCE_MARKS}]*\S)")
# Commas and colons end a clause, except a thousands separator (1,100万) or a clock time (9:45): the
# separator, then what stands before it (no digit) and after it (for a colon no digit, for a comma no
# group of three digits). The pattern opens on one plain character class, which re skips to at C speed;
# a lookahead in its place is tried at every position in turn.
CLAUSE_SEP_RE = re.compile(r"[，；;:：,](?:(?<![:：,])|(?<!\d.)|(?<=[:：])(?!\d)|(?<=,)(?!\d{3}(?!\d)))")
SEGMENT_SEP = "；;"
FORMULA_RE = re.compile(r"(?<![\d.])\d+(?:\+\d+)+(?![\d.])")

_CN_MONTH = "(?:十[一二]?|[一二三四五六七八九])"
_MONTH = rf"(?:1[0-2]|0?[1-9]|{_CN_MONTH})"
_YEAR_WORD = r"(?P<year>(?:19|20)\d{2}年度?|今年|去年|上年|明年|前年|本年)?"
PERIOD_WORDS = "年月季"  # every period names one
PERIOD_WORD_RE = re.compile(f"[{PERIOD_WORDS}]")
PERIOD_WORD_REACH = 5  # characters at most before a period's first 年, 月 or 季 (10至12月, 2020年)
# A period word within reach, looked for first, turns most digits of a figure away before every
# alternative is tried; the run before it is possessive and stops at the first one or a line break.
_PERIOD_WORD_AHEAD = rf"(?=[^\n{PERIOD_WORDS}]{{0,{PERIOD_WORD_REACH}}}+[{PERIOD_WORDS}])"
PERIOD_RE = re.compile(starting_with(
    "0-9一二三四五六七八九十今去上下明前本全第年",  # what every alternative starts with
    _PERIOD_WORD_AHEAD
    + _YEAR_WORD
    + r"(?:"
    + rf"(?P<m1>{_MONTH})(?:月份?)?{_RANGE_SEP}(?P<m2>{_MONTH})月(?:份)?"
    + r"|前(?P<q_upto>[一二三四1-4])(?:个)?季度"
    + r"|第?(?P<q>[一二三四1-4])季度"
    + r"|(?P<half>上半年|下半年)"
    + r"|(?P<whole>全年)"
    + rf"|前(?P<first_n>{_MONTH})(?:个)?月"
    + rf"|(?P<month>{_MONTH})月(?![0-9一二三四五六七八九十]|[日号底末初中])(?:份)?"
    + r"|(?P<since>年初)以来"
    + r"|(?(year)|(?!))"  # a year alone; an empty match is no period
    + r")",
))
CLAUSE_REST_RE = re.compile(r"[，,]?[^，,；;。！？!?\n]*")  # what follows a period in its clause
YEAR_OFFSETS = {"今年": 0, "本年": 0, "去年": -1, "上年": -1, "前年": -2, "明年": 1}
QUARTER_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4}

# Subject trimming. Leading connectives and adverbs, trailing predicates.
LEADING_WORDS_RE = re.compile(
    r"^(?:其中|同时|此外|另外|另|截至目前|截至当前|目前|当前|眼下|如今|现已|全年|今年以来|年初以来|期间|"
    r"据统计|据了解|据悉|数据显示|统计显示|总体来看|而且|而|并且|并|且|还|也|均|则|已经|已|仅仅|仅|短短|"
    r"只|就|才|又|再|都|共|约|大约|该|这|和|与|及|以及|、|[（(][^）)]{0,8}[）)]|\s)+"
)
# Predicates and adverbs between a subject and its figure (实现了, 约为, 共计 …), and the characters
# before a word that make it the end of another word (签约, 最近, 赶超, 拥有).
TRAILING_WORDS = (
    "实现了", "实现", "完成了", "完成", "达到了", "达到", "达", "为", "是", "约为", "约", "将近", "接近", "近", "超过",
    "超", "逾", "突破", "共计", "合计", "总计", "共有", "共", "有", "稳定在", "保持在", "维持在", "控制在",
    "增至", "增加到", "增长到", "提高到", "提升到", "降至", "下降到", "下滑至", "减少到", "减至", "锐减到", "跃升至",
    "仅用了", "仅用", "只用了", "只用", "用了", "用时", "历时", "耗时", "花了", "仅仅", "已经", "只有", "不到", "不足",
    "多达", "高达", "至少", "最多", "不超过", "不少于", "长达", "整整", "连续", "经过", "大约", "累计达", "分别", "先后",
    "报", "仅", "只",
)
NOT_TRAILING_AFTER = {"约": "签合节公条预制契履特", "近": "附最邻靠", "超": "赶高", "有": "拥具含持占所"}
# The words' first characters, looked at first: re tries the pattern at every position of the text.
TRAILING_WORDS_RE = re.compile(
    "(?:" + starting_with(
        re.escape("".join(sorted({word[0] for word in TRAILING_WORDS}))) + r"\s",
        "|".join((f"(?<![{NOT_TRAILING_AFTER[w]}])" if w in NOT_TRAILING_AFTER else "") + re.escape(w)
                 for w in TRAILING_WORDS) + r"|\s",
    ) + ")+$"
)
PREPOSITIONS = (
    "作为", "为了", "为", "在", "随着", "按照", "根据", "通过", "围绕", "以", "对", "从", "经过", "由于",
    "面对", "针对", "伴随", "自", "截至", "如果", "虽然", "但", "因为", "如", "像",
)
TOPIC_TAIL_RE = re.compile(
    r"(?:(?:正式)?(?:启动|开工|实施|开展|建设|成立|运营|开通|获批|投用|投产|开始))?以来$|(?:正式)?(?:启动|开工)$"
)
# Words a noun phrase after the figure stops at (a verb or a function word starts there).
NOUN_STOP_WORDS = (
    "的", "等", "参加", "参与", "入驻", "落户", "落地", "落位", "开工", "投产", "建成", "完成", "实现", "获得", "进入", "加入",
    "受益", "参观", "出席", "签约", "开展", "实施", "启动", "提供", "得到", "共同", "积极", "正在", "已经", "将", "被", "和",
    "与", "及", "是", "有", "了", "着", "在", "为", "中", "内", "以上", "以下", "左右", "入选", "获评", "获批", "通过", "达到",
    "成为", "列入", "纳入", "发布", "运营", "投运", "就", "则", "也", "都", "还", "均", "比较", "相当", "状态", "前来", "旁听",
    "参展", "踊跃", "生活", "涵盖",
)
NOUN_STOP_RE = re.compile(r"[，。；;：:、！？!?,\s\d多余]|" + any_word(NOUN_STOP_WORDS))
# A project or facility named after 投资80亿元的: the name ends at its first head noun(s).
HEAD_NOUN_RE = re.compile(
    r"(?:项目|工程|基地|产业园|工业园|科技园|园区|中心|工厂|公司|集团|企业|医院|学校|大学|学院|小区|"
    r"大厦|广场|机场|码头|电站|综合体|平台|生产线|基金|计划|园)+"
)
# Attribute words a pre-modifying figure measures (投资80亿元的…, 占地300亩的…).
ATTRIBUTE_RE = re.compile(
    r"(?:总投资|计划投资|投资总额|投资|占地面积|建筑面积|总面积|面积|占地|全长|总长|长度|规模|总额|"
    r"金额|产值|营收|年产|产能|容量|总价|价值)$"
)
NAME_STOP_RE = re.compile(r"[，。；;：:！？!?,]")  # a name before its head noun ends at a clause mark
GENERIC_NOUNS = frozenset({"范围", "时间", "期间", "左右", "以上", "以下", "之间", "规模", "水平", "目标"})
DIGIT_RE = re.compile(r"\d")
REPORTING_RE = re.compile(r"(?:说|表示|介绍|指出|认为|称|强调|告诉记者|显示|获悉|了解到)$")
ENTITY_RE = re.compile(r"^.{1,9}(?:区|市|省|县|州|镇|乡|村|公司|集团)")
NOT_ENTITIES = ("地区", "社区", "园区", "小区", "市场", "城市")

# ---------------------------------------------------------------------------------------------
# Public API.
# ---------------------------------------------------------------------------------------------


class FactReading(NamedTuple):
    facts: list[Fact]
    rejected: Counter[str]  # candidates turned away, by reason (REJECTIONS)


def reference_year(title: str | None, published: str | None, fetched_at: str | None) -> int | None:
    """The year an article speaks from: a year in its title, else its date, else the fetch date."""
    if title and (m := re.search(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", title)):
        return int(m.group(1))
    for stamp in (published, fetched_at):
        if stamp and (m := re.match(r"\s*(\d{4})(?!\d)", stamp)):
            return int(m.group(1))
    return None


def extract_facts(text: str, reference_year: int | None = None) -> list[Fact]:
    """All facts of an article body, in text order."""
    return read_facts(text, reference_year).facts


def read_facts(text: str, reference_year: int | None = None) -> FactReading:
    """All facts of an article body, in text order, and the candidates rejected, counted by reason."""
    norm = fold_fullwidth(text)
    rejected: Counter[str] = Counter()
    # Most candidates (dates, articles, ordinals) are turned away on the words around them alone, before
    # a paragraph is cut into sentences and clauses; a bare numeral needs its clause (奖金500万).
    quantities = []
    for q in find_quantities(norm):
        reason = None if q.quantity == "bare" else _rejection(norm, q)
        if reason:
            rejected[reason] += 1
        else:
            quantities.append(q)
    starts = [q.start for q in quantities]
    facts: list[Fact] = []
    first = 0
    while first < len(quantities):
        # Only the paragraphs with a figure are read; neither a figure nor a period crosses a line break.
        para_start, para_end = _paragraph(norm, starts[first])
        last = bisect_left(starts, para_end, first)
        formula_numbers = _formula_numbers(norm, para_start, para_end)
        lead_period = _lead_period(norm, para_start, para_end, reference_year)
        # Sentences cover every character but the spaces between them, where no figure starts, so the
        # figures of a sentence are those up to its end; the sentences after the last figure are not read.
        for sentence in SENTENCE_RE.finditer(norm, para_start, para_end):
            s_start, s_end = sentence.span()
            upto = bisect_left(starts, s_end, first, last)
            if upto == first:
                continue
            clauses = _clauses(norm, s_start, s_end)
            candidates = _accepted(norm, quantities[first:upto], clauses, formula_numbers, rejected)
            if candidates:
                # Periods only of the sentences with a fact (a period never crosses a sentence end).
                periods = _periods(norm, s_start, s_end, reference_year, candidates[-1][0].start)
                facts.extend(_sentence_facts(text, norm, s_start, s_end, clauses, candidates, periods, lead_period))
            first = upto
            if first == last:
                break
        first = last
    return FactReading(facts, rejected)


# ---------------------------------------------------------------------------------------------
# Pass 2: the candidates that are not facts, each with its reason.
# ---------------------------------------------------------------------------------------------


def _accepted(
    norm: str, quantities: list[Quantity], clauses: list[tuple[int, int, int]], formula_numbers: frozenset[Decimal],
    rejected: Counter[str],
) -> list[tuple[Quantity, int]]:
    """(quantity, clause index) of the candidates that are facts; the others counted by reason. Every
    candidate but a bare numeral has passed `_rejection` already."""
    out = []
    for q in quantities:
        home = _clause_index(clauses, q.start)
        c_start, c_end, _ = clauses[home]
        reason = None
        if q.quantity == "bare":
            if not money_context(norm, q.start, c_start):
                rejected["no_unit"] += 1
                continue
            q = q._replace(unit="CNY", quantity="money")  # 奖金500万
            reason = _rejection(norm, q)
        reason = reason or _clause_rejection(norm, q, c_end, formula_numbers)
        if reason:
            rejected[reason] += 1
        else:
            out.append((q, home))
    return out


def _rejection(norm: str, q: Quantity) -> str | None:
    """Why a candidate that looks like a fact is not one, on the words around it: a name, a date, an
    ordinal, a code …"""
    start = q.start
    previous, after = norm[start - 1] if start else "", norm[q.tail:q.tail + 4]
    lookback = max(0, start - CONTEXT_LOOKBACK)
    if previous == "第" or (previous == "、" and ORDINAL_LIST_RE.search(norm, lookback, start)) \
            or _ordinal_count(norm, q, after):
        return "ordinal"  # 第四届, 第三、四位, 十八届三中全会, 二次加工
    if previous in QUOTE_OPEN and any(c in QUOTE_CLOSE for c in norm[q.end:q.end + MAX_QUOTED_NAME]):
        return "name"  # “24小时”服务, “六个回归”
    if q.chinese:
        if norm[start] in FORMULA_HEADS and norm.startswith(NAMED_FORMULAS, start):
            return "name"
    elif NUMBER_LABEL_RE.search(norm, lookback, start):  # (phone numbers and codes are written in Arabic digits)
        if PHONE_BEFORE_RE.search(norm, lookback, start) and PHONE_RE.match(norm, start):  # (the rarer test first)
            return "phone"
        if CODE_BEFORE_RE.search(norm, lookback, start) and CODE_RE.match(norm, start):
            return "code"
    if q.value == 0 and q.qualifier != "range":
        return "malformed"  # (0—6岁 is a range)
    if q.quantity == "count" and q.value != q.value.to_integral_value() and not _in_average(norm, q.start):
        return "malformed"
    if q.chinese and q.value == 1 and q.qualifier == "exact" and q.quantity not in AMOUNT_QUANTITIES:
        if not (q.quantity == "duration" and after.startswith(YEAR_DURATION_AFTER)):
            return "article"  # 一个, 一次, 最后一公里
    if q.quantity == "duration" and (after[:1].isdigit() or (q.unit == "hour" and after.startswith(SERVICE_HOURS_AFTER))):
        return "service_hours"  # 24小时30元封顶, 24小时全天候服务
    if q.unit == "year" and not _is_year_duration(norm, q):
        return "date"
    return None


def _clause_rejection(norm: str, q: Quantity, clause_end: int, formula_numbers: frozenset[Decimal]) -> str | None:
    """Why a candidate is not a fact, on its clause and paragraph: a class boundary, a formula's count."""
    if q.qualifier in ("at_least", "at_most") and _modifies_noun(norm, q, clause_end):
        return "threshold"  # 投资10亿元以上项目49个, 1.2米以下儿童
    if q.quantity == "count" and q.value in formula_numbers:
        return "formula"  # "1+6+6"机制 … 1个领导小组, 6个推进组
    return None


def _in_average(norm: str, start: int) -> bool:
    """均 earlier in the figure's sentence (场均出战43分钟，拿到28分、8.8个篮板)."""
    before = norm[max(0, start - AVERAGE_REACH):start]
    return AVERAGE in before[max(before.rfind(mark) for mark in SENTENCE_ENDS) + 1:]


def _ordinal_count(norm: str, q: Quantity, after: str) -> bool:
    """Counts that are ordinals without 第: 二次加工 (secondary: a count of two is 两), 十八届三中全会."""
    if q.quantity != "count":
        return False
    return (norm.startswith("二", q.start) and q.end - q.start == 2) or (q.unit == "届" and SESSION_RE.match(after) is not None)


def _is_year_duration(norm: str, q: Quantity) -> bool:
    if q.value > MAX_DURATION_YEARS:
        return False
    if q.chinese or q.qualifier != "exact" or q.value != q.value.to_integral_value():
        return True  # 十几年, 六七年, 三年, 2~3年, 3年半: a date in Chinese numerals is written digit by digit (二〇一八年)
    after = norm[q.tail:q.tail + 2]
    if q.value < MIN_CALENDAR_YEAR and not after.startswith(NOT_DURATION_AFTER):
        return True  # 求学6年: no calendar year is written with one digit (5年级 is a grade)
    before = norm[max(0, q.start - 3):q.start]
    return after.startswith(YEAR_DURATION_AFTER) or q.tail > q.end or before.endswith(DURATION_VERBS)


def _modifies_noun(norm: str, q: Quantity, clause_end: int) -> bool:
    """True when a bounded figure qualifies the noun after it: 以上/以下 right before a noun (1.2米以下儿童),
    or a noun and then another figure with no verb of change between (三成以上的消费者占…超过20%,
    超过1亿元的项目5个)."""
    rest = norm[q.tail:clause_end]
    if not rest or rest[0] in "，,。；;、（(":
        return False
    post = norm.startswith(THRESHOLD_WORDS, q.end)
    if post and q.quantity != "count" and "\u4e00" <= rest[0] <= "\u9fff" and rest[0] not in NOT_NOUN_START:
        return True  # (a count before its noun counts it: 6项以上知名品牌)
    if not post and (rest[0] != "的" or q.quantity in ("percent", "fraction")):
        return False  # 超6成受访商家…, 超5成的司机: a share of a group, not a class boundary
    m = QUANTITY_RE.search(rest)
    return m is not None and not any(word in rest[:m.start()] for word in CHANGE_VERBS)


def _formula_numbers(norm: str, start: int, end: int) -> frozenset[Decimal]:
    """Numbers of an "a+b+c" formula in the paragraph from `start` to `end` (1+6+6 → {1, 6})."""
    if norm.find("+", start, end) < 0:
        return frozenset()  # the usual case, settled without a scan
    numbers: set[Decimal] = set()
    for m in FORMULA_RE.finditer(norm, start, end):
        numbers.update(Decimal(n) for n in m.group().split("+"))
    return frozenset(numbers)


# ---------------------------------------------------------------------------------------------
# Text layout.
# ---------------------------------------------------------------------------------------------


def _paragraph(norm: str, pos: int) -> tuple[int, int]:
    """Start and end of the line holding `pos`."""
    end = norm.find("\n", pos)
    return norm.rfind("\n", 0, pos) + 1, end if end >= 0 else len(norm)


def _clauses(norm: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """(start, end, segment number) of each clause; segments are separated by semicolons."""
    out, pos, segment = [], start, 0
    for m in CLAUSE_SEP_RE.finditer(norm, start, end):
        separator = m.start()  # (every separator is one character)
        out.append((pos, separator, segment))
        if norm[separator] in SEGMENT_SEP:
            segment += 1
        pos = separator + 1
    out.append((pos, end, segment))
    return out


# ---------------------------------------------------------------------------------------------
# Pass 3-5 for one sentence.
# ---------------------------------------------------------------------------------------------


def _sentence_facts(
    text: str,
    norm: str,
    s_start: int,
    s_end: int,
    clauses: list[tuple[int, int, int]],
    candidates: list[tuple[Quantity, int]],
    periods: list[tuple[int, int, Period]],
    lead_period: Period | None,
) -> list[Fact]:
    """Facts of the accepted candidates of one sentence: changes attached, subjects named."""
    sentence = text[s_start:s_end]
    topics: dict[int, str] | None = None  # worked out when a figure first needs one; most never do
    facts: list[Fact] = []

    def topic_of(segment: int) -> str:
        nonlocal topics
        if named[0] == segment:
            return named[1]
        if topics is None:
            topics = _segment_topics(norm, clauses, {home for _, home in candidates})
        return topics.get(segment, "")

    entity = ""
    last_segment = -1  # segment of the last fact
    named: tuple[int, str] = (-1, "")  # (segment, name) of the last 投资X的<name> in the sentence
    boundary = s_start  # end of the last figure used, so subjects never reach across it
    for q, home in candidates:
        c_start, c_end, segment = clauses[home]
        left_start = max(c_start, boundary)
        previous = facts[-1] if facts else None
        same_segment = previous is not None and last_segment == segment
        fact_change: Change | None = None
        if q.quantity in ("percent", "percentage_point", "basis_point") and (found := _change_prefix(norm, left_start, q)):
            kind, sign, phrase_start = found
            fact_change = Change(kind, sign * q.value, q.unit)
            if previous and previous.change is None and _only_gap(norm, previous.span[1], phrase_start):
                facts[-1] = previous._replace(change=fact_change)  # 2940.8亿元，同比增长14.3%
                boundary = q.tail
                continue
            subject, method = _clean(norm[left_start:phrase_start]), "change"
        elif previous and previous.change and previous.unit == q.unit and _is_list_gap(norm[left_start:q.start]):
            # 分别增长11.7%、7.7%: each item of the list is a change of the same kind.
            sign = Decimal(-1) if previous.change.value < 0 else Decimal(1)
            fact_change = Change(previous.change.kind, sign * q.value, q.unit)
            subject, method = previous.subject or "", "list"
        else:
            subject, name, method = _subject(norm, q, left_start, c_end, partial(topic_of, segment))
            if name:
                named = (segment, name)
            if not subject and same_segment and previous is not None and previous.subject:
                subject, method = previous.subject, "previous"  # 跌0.06%，报6.559元: the same thing, another figure
        if not entity and not facts and (m := ENTITY_RE.match(subject)) and m.group() not in NOT_ENTITIES:
            if len(subject) - m.end() >= 2:
                entity = m.group()  # 长春汽开区规上工业产值 → 长春汽开区
        elif entity and subject and fact_change is None and not ENTITY_RE.match(subject):
            if not subject.startswith(entity) and not norm.startswith("的", q.tail):
                subject, method = entity + subject, "entity"  # ；固定资产投资完成104.6亿元 → 长春汽开区固定资产投资
        boundary = q.tail + _scope_length(norm, q)
        if len(subject) < MIN_SUBJECT:
            subject, method = "", "none"
        last_segment = segment
        facts.append(
            Fact(
                subject=subject[-MAX_SUBJECT:] or None,
                value=q.value if fact_change is None else fact_change.value,
                unit=q.unit,
                qualifier=q.qualifier,
                surface=text[q.start:q.end],
                sentence=sentence,
                span=(q.start, q.end),
                quantity=q.quantity,
                low=q.low,
                high=q.high,
                change=fact_change,
                period=_period_for(periods, q.start) or lead_period,
                subject_method=method,
                per=q.per,
            )
        )
    return facts


def _clause_index(clauses: list[tuple[int, int, int]], pos: int) -> int:
    """The clause holding a figure that starts at `pos`: the last one starting at or before it (clauses
    only leave out their one-character separators, and no figure starts on one)."""
    return bisect_right(clauses, pos, key=itemgetter(0)) - 1


def _scope_length(norm: str, q: Quantity) -> int:
    """Length of 以来/来/间 after a scope duration (3年来), which belongs to the figure."""
    if q.quantity != "duration":
        return 0
    return next((len(w) for w in SCOPE_DURATION_AFTER if norm.startswith(w, q.tail)), 0)


def _change_prefix(norm: str, left_start: int, q: Quantity) -> tuple[str, Decimal, int] | None:
    """(kind, sign, phrase start) when the percent is introduced by 同比增长 or the like."""
    window_start = max(left_start, q.start - CHANGE_LOOKBACK)
    m = CHANGE_TAIL_RE.search(norm, window_start, q.start)
    if m is None:
        return None
    kind = CHANGE_KIND_OF.get(m.group("kind") or "", "change")
    sign = Decimal(-1) if m.group("dir") in FALL else Decimal(1)
    return kind, sign, m.start()


def _only_gap(norm: str, prev_end: int, phrase_start: int) -> bool:
    """The change phrase follows the previous figure with nothing but a comma and a qualifier."""
    gap = norm[prev_end:phrase_start]
    for word in POST_QUALIFIERS:
        if gap.startswith(word):
            gap = gap[len(word):]
            break
    return CHANGE_GAP_RE.fullmatch(gap) is not None


def _is_list_gap(gap: str) -> bool:
    return gap in LIST_JOINERS


# ---------------------------------------------------------------------------------------------
# Subjects.
# ---------------------------------------------------------------------------------------------


def _subject(
    norm: str, q: Quantity, left_start: int, clause_end: int, topic_of: Callable[[], str],
) -> tuple[str, str, str]:
    """(subject, name, method) of a figure: the words it measures, the name it introduces, if any, and
    how the subject was found (a value of `subject_method`). `topic_of` gives the topic of the figure's
    segment, asked for only when the figure's own words do not name what it measures."""
    left = norm[left_start:q.start]
    after = norm[q.tail:clause_end]
    if after.startswith("的"):
        # 投资80亿元的旭阳智能中法工业园项目: the figure modifies the noun phrase that follows.
        noun = _head_noun_phrase(after[1:])
        attribute = ATTRIBUTE_RE.search(TRAILING_WORDS_RE.sub("", left))
        if noun:
            return noun + (attribute.group() if attribute else ""), noun, "modified"
    if q.quantity not in ("percent", "percentage_point", "duration", "money") and (noun := _noun_phrase(after)):
        if q.unit_word not in NOUNLESS_COUNTS or noun.endswith(PERSON_NOUN_ENDINGS):
            return noun, "", "noun"  # 41个老旧小区改造工程, 建成501公里标准化堤防, 32名本科毕业生
    own = _clean(left)
    if q.quantity == "duration" and not after.startswith(SCOPE_DURATION_AFTER):
        if left.endswith(TOOK_BEFORE) or after.startswith(DONE_AFTER):
            topic = topic_of()
            return topic + own + "用时", "", "topic" if topic else "clause"  # 吉林玲珑轮胎项目 + 从接洽到签约 + 用时
    if (not own or ATTRIBUTE_RE.fullmatch(own)) and (topic := topic_of()):
        return topic + own, "", "topic"  # 总面积达471平方公里 → 长春国际汽车城总面积
    return own, "", "clause"


@lru_cache(maxsize=SUBJECT_CACHE_SIZE)  # the same words stand before many figures (其中, 同比, 收入)
def _clean(left: str) -> str:
    """Trim the words before a figure down to the thing it measures."""
    if "了" in left[:-1]:
        left = left[left.rindex("了") + 1:]  # 完成了主街路 → 主街路
    if "年" in left:  # (every year fragment and every composite period holds one)
        left = YEAR_FRAGMENT_RE.sub("", left)  # 由2012年的324.7万人 → the figure of a named year
        if (periods := list(PERIOD_RE.finditer(left))) and _is_composite(periods[-1]):
            left = left[periods[-1].end():]  # 披露2005年第一季度实现净利润 → 实现净利润
    while True:  # until a period or a predicate word no longer uncovers a connective
        left = LEADING_WORDS_RE.sub("", left)  # (the pattern takes every leading word at once)
        words = left
        if m := PERIOD_RE.match(left):
            left = left[m.end():]
        left = TRAILING_WORDS_RE.sub("", left)
        if left == words:
            return left.strip(SUBJECT_STRIP)


def _noun_phrase(after: str) -> str:
    m = NOUN_STOP_RE.search(after)
    noun = after[: m.start()] if m else after
    if noun in GENERIC_NOUNS or len(noun) < 2:
        return ""
    return noun if len(noun) <= MAX_NOUN_PHRASE else ""


def _head_noun_phrase(after: str) -> str:
    """A name up to its first run of head nouns (旭阳智能中法工业园项目落位… → …工业园项目)."""
    stop = NAME_STOP_RE.search(after)
    span = after[: stop.start()] if stop else after
    if (m := HEAD_NOUN_RE.search(span)) and m.end() <= MAX_NAME:
        return span[: m.end()]
    return _noun_phrase(span)


def _segment_topics(norm: str, clauses: list[tuple[int, int, int]], holding: set[int]) -> dict[int, str]:
    """The noun phrase each semicolon segment opens with, when its first plain clause is one.

    规划中的长春国际汽车城，…，总面积达471平方公里 → 长春国际汽车城. `holding`: the clauses with a figure.
    """
    topics: dict[int, str] = {}
    decided: set[int] = set()
    for index, (c_start, c_end, segment) in enumerate(clauses):
        if segment in decided:
            continue
        if index in holding:
            decided.add(segment)
            continue
        words = _clean(norm[c_start:c_end])
        if not words:
            continue  # a period or a connective only
        decided.add(segment)
        if words.startswith(PREPOSITIONS) or REPORTING_RE.search(words) or DIGIT_RE.search(words):
            continue
        if "的" in words:
            words = words[words.rindex("的") + 1:]
        words = TOPIC_TAIL_RE.sub("", words)
        if 2 <= len(words) <= MAX_TOPIC:
            topics[segment] = words
    return topics


# ---------------------------------------------------------------------------------------------
# Periods.
# ---------------------------------------------------------------------------------------------


def _is_composite(m: re.Match[str]) -> bool:
    """A period with both a year and a part of it (2005年第一季度): unambiguous anywhere in a clause."""
    return bool(m.group("year")) and m.group() != m.group("year")


def _periods(norm: str, start: int, end: int, year: int | None, last_figure: int) -> list[tuple[int, int, Period]]:
    """Periods of a sentence standing at the head of a clause, resolved against the reference year; only
    those starting before `last_figure`, the start of its last figure, can be a figure's."""
    if PERIOD_WORD_RE.search(norm, start, end) is None:
        return []  # most sentences: no period without one of these words
    out = []
    for m in PERIOD_RE.finditer(norm, start, end):
        if m.start() >= last_figure:
            break
        if (period := _period(norm, m, year)) is not None:
            out.append((m.start(), m.end(), period))
    return out


def _lead_period(norm: str, start: int, end: int, year: int | None) -> Period | None:
    """The period a paragraph opens with, which covers the paragraph."""
    m = PERIOD_RE.match(norm, start, end)
    return _period(norm, m, year) if m else None


def _period(norm: str, m: re.Match[str], year: int | None) -> Period | None:
    """The period a match names, if it stands at the head of a clause and is no date."""
    if not _is_composite(m) and not _at_clause_head(norm, m.start()):
        return None
    after = norm[m.end():m.end() + 1]
    if after.isdigit() or (m.group() == m.group("year") and after and after in "来间内底末初"):
        return None  # 2020年12月… is a date; 今年来, 年底 are not periods of a figure
    return _resolve(m, year, norm)


def _at_clause_head(norm: str, pos: int) -> bool:
    head = norm[max(0, pos - 4):pos]
    return pos == 0 or head[-1:] in "\n。！？!?，,；;：:“ " or head.endswith(("其中", "截至", "今年", "全年"))


def _resolve(m: re.Match[str], ref: int | None, norm: str) -> Period | None:
    year_word = m.group("year") or ""
    if year_word[:4].isdigit():
        year: int | None = int(year_word[:4])
    elif year_word:
        year = None if ref is None else ref + YEAR_OFFSETS[year_word]
    else:
        year = ref
    text = m.group()
    clause_rest = CLAUSE_REST_RE.match(norm[m.end():m.end() + MAX_TOPIC * 2])
    since = (bool(m.group("since")) or norm.startswith(("至今", "以来"), m.end())
             or clause_rest is not None and clause_rest.group().endswith("以来"))
    if m.group("m1"):
        first, last = _month(m.group("m1")), _month(m.group("m2"))
    elif m.group("q_upto"):
        first, last = 1, 3 * _quarter(m.group("q_upto"))
    elif m.group("q"):
        first, last = 3 * _quarter(m.group("q")) - 2, 3 * _quarter(m.group("q"))
    elif m.group("half"):
        first, last = (1, 6) if m.group("half") == "上半年" else (7, 12)
    elif m.group("first_n"):
        first, last = 1, _month(m.group("first_n"))
    elif m.group("month"):
        first = last = _month(m.group("month"))
    else:
        first, last = 1, 12  # a year, 全年, 年初以来
    if first is None or last is None or not 1 <= first <= last <= 12:
        return None
    if year is None:
        return Period(text, None, None)
    start = f"{year}-{first:02d}"
    return Period(text, start, None if since else f"{year}-{last:02d}")


def _month(word: str) -> int | None:
    value = parse_number(word)
    return int(value) if value is not None else None


def _quarter(word: str) -> int:
    return QUARTER_WORDS.get(word) or int(word)


def _period_for(periods: list[tuple[int, int, Period]], pos: int) -> Period | None:
    """The last period stated in the sentence before the figure."""
    i = bisect_left(periods, pos, key=itemgetter(0)) - 1
    return periods[i][2] if i >= 0 else None

