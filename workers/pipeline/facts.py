"""Quantitative facts of a Chinese article body.

A fact is a number with a unit a reader would quote: 产值实现2940.8亿元, 总面积达471平方公里,
用时112天. The extractor works on the body only (the noise of the page is gone by then) and favours
precision: a number with no unit, a date, a time, an ordinal, a code, a year or a number inside a
name is never a fact.

Passes, each a short function below:
1. find quantities: one linear-time regex for numeral + unit (+ range, qualifiers), on a copy of
   the text with full-width digits folded to ASCII so offsets stay those of the original;
2. reject the quantities that are not facts (ordinals, quoted names, class thresholds such as
   "10亿元以上项目", counts spelling out a "1+6+6" formula, calendar years);
3. attach a following change (同比增长14.3%) to the figure it qualifies;
4. find periods (1至8月, 上半年, 2020年) at the head of a clause and resolve them with the
   reference year; a period leading a paragraph covers the paragraph;
5. name the subject from the words around the figure, carrying a sentence's topic and its
   leading entity (长春汽开区) to clauses that only name an attribute.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple

from .numbers import CN_NUMERAL_CHARS, NUMERAL_FIRST_CHARS, NUMERAL_PATTERN, parse_number
from .patterns import starting_with
from .records import Change, Fact, Period

# ---------------------------------------------------------------------------------------------
# Units: (word, unit, quantity, negative lookahead that marks a longer word, not a unit).
# Multipliers (万, 亿 …) belong to the numeral, so 62万平方米 is 620000 m2 and 2940.8亿元 is
# 294080000000 CNY. Units are canonical names, never converted between scales: 斤 stays jin,
# 公斤 and 千克 are both kg.
# ---------------------------------------------------------------------------------------------
MONEY = (
    ("人民币", "CNY"), ("元人民币", "CNY"), ("元", "CNY"), ("美元", "USD"), ("美金", "USD"),
    ("港元", "HKD"), ("港币", "HKD"), ("欧元", "EUR"), ("日元", "JPY"), ("英镑", "GBP"),
    ("韩元", "KRW"), ("卢布", "RUB"), ("澳元", "AUD"), ("加元", "CAD"), ("新台币", "TWD"),
    ("瑞士法郎", "CHF"), ("新加坡元", "SGD"),
)
MEASURES = (
    ("个百分点", "percentage_point", "percentage_point"), ("百分点", "percentage_point", "percentage_point"),
    ("%", "%", "percent"),
    ("平方公里", "km2", "area"), ("平方千米", "km2", "area"), ("平方米", "m2", "area"),
    ("平米", "m2", "area"), ("㎡", "m2", "area"), ("公顷", "hectare", "area"), ("亩", "mu", "area"),
    ("公里", "km", "length"), ("千米", "km", "length"), ("厘米", "cm", "length"),
    ("公分", "cm", "length"), ("毫米", "mm", "length"), ("米", "m", "length"),
    ("吨", "t", "weight"), ("千克", "kg", "weight"), ("公斤", "kg", "weight"), ("克", "g", "weight"),
    ("斤", "jin", "weight"),
    ("个工作日", "day", "duration"), ("天", "day", "duration"), ("个小时", "hour", "duration"),
    ("小时", "hour", "duration"), ("个多小时", "hour", "duration"), ("个月", "month", "duration"),
    ("个多月", "month", "duration"), ("年", "year", "duration"),
)
# Measure words of counts; the unit is the word itself.
COUNT_WORDS = (
    "个", "家", "项", "人", "人次", "辆", "所", "座", "名", "台", "套", "户", "件", "次", "位", "种",
    "条", "架", "艘", "只", "头", "株", "棵", "栋", "幢", "间", "处", "支", "款", "场", "篇", "部",
    "张", "份", "例", "批", "枚", "颗",
)
# Characters after a unit word that make it part of another word (元旦, 项目, 所以 …).
NOT_UNIT_BEFORE: dict[str, str] = {
    "元": "旦宵素年月首件器老帅气", "米": "饭粉面粒线兰其", "克": "服隆拉里林斯罗",
    "人": "民们月年天日", "家": "庭长具电属", "台": "湾阶风州上下资", "所": "有以在得属谓述需长", "项": "目",
    "名": "单称义字列", "位": "于置数列", "户": "籍口外型头", "次": "数要级日年月之", "种": "子植",
    "条": "件例", "架": "构", "只": "有是要能会需", "头": "条部", "间": "隔接", "处": "理于置",
    "支": "持付出援", "款": "项", "场": "所景馆地", "部": "分门署长委队件", "批": "准复示",
    "个": "人体性股税别案基", "亩": "产均", "个月": "亮饼球", "天": "然津下空地半", "小时": "半",
}
# Measure words that are not followed by the noun they count (3000人参加, 先后5次赴…).
NOUNLESS_COUNTS = frozenset({"人", "人次", "名", "位", "户", "次", "例"})
# How nouns of people end: 32名本科毕业生, 3名航天员, 300名同学.
PERSON_NOUN_ENDINGS = tuple("生员者人师工民客手士兵官长部表众童孩学友")
# Counts in Chinese numerals below this are rhetoric (两个关键词, 三个板块, 五家渠), not statistics.
MIN_CHINESE_COUNT = 10

# Qualifiers written before and after the figure.
# Characters before 约/近/超 that make them part of another word (签约, 最近, 赶超).
NOT_QUALIFIER_AFTER = {"约": "签合节公预契履特制条", "近": "最附邻靠将接", "超": "赶高"}
PRE_QUALIFIERS = (  # longest first, so 不超过 is not read as 超过
    ("不少于", "at_least"), ("不低于", "at_least"), ("不超过", "at_most"), ("大约", "approx"),
    ("将近", "approx"), ("接近", "approx"), ("超过", "at_least"), ("至少", "at_least"), ("多于", "at_least"),
    ("不到", "at_most"), ("不足", "at_most"), ("最多", "at_most"), ("少于", "at_most"), ("约", "approx"),
    ("近", "approx"), ("逾", "at_least"), ("超", "at_least"),
)
PRE_QUALIFIER_ENDS = frozenset(word[-1] for word, _ in PRE_QUALIFIERS)
POST_QUALIFIERS = {
    "以上": "at_least", "以下": "at_most", "以内": "at_most", "内": "at_most", "左右": "approx",
    "上下": "approx", "多": "approx", "余": "approx",
}
# Characters that, right before a numeral, make it part of a code, an ordinal or a rate base.
NOT_BEFORE_NUMERAL = "第每前几数No#+/_.%^="
# A year counts as a duration only in these contexts (3年来, 用时2年); otherwise it is a date.
YEAR_DURATION_AFTER = ("以来", "来", "间", "内", "里", "多", "时间", "之久", "有余")
DURATION_VERBS = ("用时", "用了", "仅用", "历时", "耗时", "花了", "长达", "整整", "连续", "经过", "已有")
MAX_DURATION_YEARS = 200
# Scope durations (3年来) measure a span; the rest measure how long something took.
SCOPE_DURATION_AFTER = ("以来", "来", "间", "里")
DONE_AFTER = ("就", "便", "即", "全部", "完成", "建成", "办结", "办完", "走完")
TOOK_RE = re.compile(r"(?:用时|用了|仅用|只用|历时|耗时|花了|花费|用)$")
# "24小时全天候服务" names a service's hours, not a measured duration.
SERVICE_HOURS_AFTER = ("全天候", "不间断", "服务", "值班", "营业", "在线", "监测", "开放", "热线", "待命", "运行",
                       "运转", "通关", "接诊", "畅通")
QUOTE_OPEN, QUOTE_CLOSE = tuple("“‘「『\"《"), "”’」』\"》"
MAX_QUOTED_NAME = 6  # chars between a quoted figure and its closing quote

RATE_RE = re.compile(r"每[^，,；;。、\d]{0,6}$")
RATE_LOOKBACK = 8

YEAR_FRAGMENT_RE = re.compile(
    r"(?:从|由|到|至|增长到|增加到|提高到|提升到|上升到|增至|降至|下降到|减少到)?(?:19|20)\d{2}年(?:底|末|初)?的?"
)
SUBJECT_STRIP = "“”\"'‘’「」《》()（）【】[]的—-－·•:：、 "

MIN_SUBJECT = 2
MAX_SUBJECT = 24
MAX_TOPIC = 16
MAX_NAME = 20  # a project name before its head noun
MAX_NOUN_PHRASE = 14

# (full width, ASCII) pairs folded before matching. str.replace per pair runs at memchr speed, where
# str.translate looks every character of a Chinese text up in a dict.
FULLWIDTH = tuple(zip("０１２３４５６７８９．，％＋－～：", "0123456789.,%+-~:"))

# ---------------------------------------------------------------------------------------------
# Patterns.
# ---------------------------------------------------------------------------------------------


def _unit_alternation() -> str:
    words = [w for w, _ in MONEY] + [w for w, _, _ in MEASURES] + list(COUNT_WORDS)
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        guard = NOT_UNIT_BEFORE.get(word, "")
        parts.append(re.escape(word) + (f"(?![{guard}])" if guard else ""))
    # A look at the first character turns most numerals that carry no unit away before they try every word.
    return starting_with(re.escape("".join(sorted({word[0] for word in words}))), "|".join(parts))


UNIT_INFO: dict[str, tuple[str, str]] = {
    **{w: (u, "money") for w, u in MONEY},
    **{w: (u, q) for w, u, q in MEASURES},
    **{w: (w, "count") for w in COUNT_WORDS},
}
_NUM = NUMERAL_PATTERN
_UNIT = _unit_alternation()
_RANGE_SEP = r"(?:至|到|-|—|~|～)"
_MULT = r"(?:万亿|亿|万|千(?![米克瓦])|百(?!分))"
QUANTITY_RE = re.compile(starting_with(  # every figure starts with a numeral or 百(分之)
    f"{NUMERAL_FIRST_CHARS}百",
    rf"(?<![0-9A-Za-z{CN_NUMERAL_CHARS}{re.escape(NOT_BEFORE_NUMERAL)}])(?<!\d:)"  # not 9:45, not 第二十次
    rf"(?:百分之(?P<pct>{_NUM})"
    rf"|(?P<num>{_NUM})(?:(?P<low_unit>{_UNIT})?{_RANGE_SEP}(?P<num2>{_NUM}))?"
    rf"(?P<approx>[多余])?(?P<mult>{_MULT})?(?P<unit>{_UNIT})(?P<rmb>人民币)?)"
    rf"(?P<post>以上|以下|以内|左右|上下|多|余|内)?",
))
CHANGE_KINDS = (
    ("环比", "mom"), ("比上月", "mom"), ("较上月", "mom"), ("同比", "yoy"), ("比上年同期", "yoy"),
    ("较上年同期", "yoy"), ("比去年同期", "yoy"), ("较去年同期", "yoy"), ("比上年", "yoy"),
    ("较上年", "yoy"), ("比去年", "yoy"), ("较去年", "yoy"), ("较同期", "yoy"),
)
RISE = ("增长", "增加", "上升", "提高", "提升", "上涨", "加快", "扩大", "增", "涨", "升")
FALL = ("下降", "减少", "下滑", "回落", "降低", "下跌", "放缓", "收窄", "萎缩", "降", "减", "跌")
CHANGE_TAIL_RE = re.compile(
    "(?P<kind>" + "|".join(k for k, _ in CHANGE_KINDS) + ")?"
    "(?P<dir>" + "|".join(sorted(RISE + FALL, key=len, reverse=True)) + ")了?$"
)
CHANGE_GAP_RE = re.compile(r"[,，、]?\s*$")
LIST_JOINERS = frozenset({"、", "和", "与", "及", ",", "，"})
CHANGE_LOOKBACK = 12

SENTENCE_END_RE = re.compile(r"[。！？!?…]+[”’」』\"]*")  # inside a paragraph, which a line break ends
# Commas and colons end a clause, except a thousands separator (1,100万) or a clock time (9:45).
CLAUSE_SEP_RE = re.compile(starting_with("，；;:：,", r"[，；;]|(?<!\d)[:：]|[:：](?!\d)|(?<!\d),|,(?!\d{3}(?!\d))"))
SEGMENT_SEP = "；;"
FORMULA_RE = re.compile(r"(?<![\d.])\d+(?:\+\d+)+(?![\d.])")

_CN_MONTH = "(?:十[一二]?|[一二三四五六七八九])"
_MONTH = rf"(?:1[0-2]|0?[1-9]|{_CN_MONTH})"
_YEAR_WORD = r"(?P<year>(?:19|20)\d{2}年度?|今年|去年|上年|明年|前年|本年)?"
PERIOD_RE = re.compile(starting_with(
    "0-9一二三四五六七八九十今去上下明前本全第年",  # what every alternative starts with
    _YEAR_WORD
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
YEAR_OFFSETS = {"今年": 0, "本年": 0, "去年": -1, "上年": -1, "前年": -2, "明年": 1}
QUARTER_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4}

# Subject trimming. Leading connectives and adverbs, trailing predicates.
LEADING_WORDS_RE = re.compile(
    r"^(?:其中|同时|此外|另外|另|截至目前|截至当前|目前|当前|眼下|如今|现已|全年|今年以来|年初以来|期间|"
    r"据统计|据了解|据悉|数据显示|统计显示|总体来看|而且|而|并且|并|且|还|也|均|则|已经|已|仅仅|仅|短短|"
    r"只|就|才|又|再|都|共|约|大约|该|这|和|与|及|以及|、|[（(][^）)]{0,8}[）)]|\s)+"
)
TRAILING_WORDS_RE = re.compile(
    r"(?:实现了?|完成了?|达到了?|达|为|是|约为|(?<![签合节公条预制契履特])约|将近|接近|(?<![附最邻靠])近|超过|"
    r"(?<![赶高])超|逾|突破|共计|合计|总计|共有|共|(?<![拥具含持占所])有|稳定在|保持在|维持在|控制在|"
    r"增至|增加到|增长到|提高到|提升到|降至|下降到|下滑至|减少到|减至|锐减到|跃升至|仅用了?|只用了?|用了|用时|"
    r"历时|耗时|花了|仅仅|已经|只有|不到|不足|多达|高达|至少|最多|不超过|不少于|长达|整整|连续|经过|"
    r"大约|累计达|分别|先后|报|仅|只|\s)+$"
)
PREPOSITIONS = (
    "作为", "为了", "为", "在", "随着", "按照", "根据", "通过", "围绕", "以", "对", "从", "经过", "由于",
    "面对", "针对", "伴随", "自", "截至", "如果", "虽然", "但", "因为", "如", "像",
)
TOPIC_TAIL_RE = re.compile(
    r"(?:(?:正式)?(?:启动|开工|实施|开展|建设|成立|运营|开通|获批|投用|投产|开始))?以来$|(?:正式)?(?:启动|开工)$"
)
# Words a noun phrase after the figure stops at (a verb or a function word starts there).
NOUN_STOP_RE = re.compile(
    r"[，。；;：:、！？!?,\s\d]|的|等|参加|参与|入驻|落户|落地|落位|开工|投产|建成|完成|实现|获得|"
    r"进入|加入|受益|参观|出席|签约|开展|实施|启动|提供|得到|共同|积极|正在|已经|将|被|和|与|及|是|有|了|着|"
    r"在|为|中|内|以上|以下|左右|入选|获评|获批|通过|达到|成为|列入|纳入|发布|运营|投运|就|则|也|都|还|均|"
    r"比较|相当|状态|前来|旁听|参展|踊跃|生活|涵盖|[多余]"
)
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
GENERIC_NOUNS = frozenset({"范围", "时间", "期间", "左右", "以上", "以下", "之间", "规模", "水平", "目标"})
REPORTING_RE = re.compile(r"(?:说|表示|介绍|指出|认为|称|强调|告诉记者|显示|获悉|了解到)$")
ENTITY_RE = re.compile(r"^.{1,9}(?:区|市|省|县|州|镇|乡|村|公司|集团)")
NOT_ENTITIES = ("地区", "社区", "园区", "小区", "市场", "城市")


class _Quantity(NamedTuple):
    """A matched numeral + unit, before it is judged a fact (a tuple: cheaper to make than a frozen dataclass)."""

    start: int
    end: int  # end of the surface
    tail: int  # end of the trailing qualifier
    value: Decimal
    unit: str
    quantity: str
    qualifier: str
    low: Decimal | None
    high: Decimal | None
    unit_word: str
    chinese: bool  # written in Chinese numerals


# ---------------------------------------------------------------------------------------------
# Public API.
# ---------------------------------------------------------------------------------------------


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
    norm = _fold_fullwidth(text)
    quantities = [q for m in QUANTITY_RE.finditer(norm) if (q := _quantity(m)) is not None]
    starts = [q.start for q in quantities]
    facts: list[Fact] = []
    first = 0
    while first < len(quantities):
        # Only the paragraphs with a figure are read; neither a figure nor a period crosses a line break.
        para_start, para_end = _paragraph(norm, starts[first])
        last = bisect_left(starts, para_end, first)
        formula_numbers = _formula_numbers(norm[para_start:para_end])
        periods = _periods(norm, para_start, para_end, reference_year)
        lead_period = periods[0][2] if periods and periods[0][0] == para_start else None
        for s_start, s_end in _sentences(norm, para_start, para_end):
            inside = quantities[bisect_left(starts, s_start, first, last):bisect_left(starts, s_end, first, last)]
            if inside:
                facts.extend(
                    _sentence_facts(text, norm, s_start, s_end, inside, periods, lead_period, formula_numbers)
                )
        first = last
    return facts


def _fold_fullwidth(text: str) -> str:
    """Full-width digits and marks as ASCII, one character for one, so offsets stay those of `text`."""
    for wide, narrow in FULLWIDTH:
        text = text.replace(wide, narrow)
    return text


# ---------------------------------------------------------------------------------------------
# Pass 1-2: quantities and the ones that are not facts.
# ---------------------------------------------------------------------------------------------


def _quantity(m: re.Match[str]) -> _Quantity | None:
    """Read a regex match into a quantity; None for what is not a well-formed figure."""
    pct, num, low_word, num2, approx, mult, word, rmb, post = m.group(
        "pct", "num", "low_unit", "num2", "approx", "mult", "unit", "rmb", "post"
    )
    if pct:
        value = parse_number(pct)
        if value is None:
            return None
        return _Quantity(m.start(), m.end("pct"), m.end(), value, "%", "percent", "exact", None, None, "%", True)
    unit, quantity = UNIT_INFO[word]
    mult = mult or ""
    value = parse_number(num + mult)
    if value is None:
        return None
    chinese = not any(map(str.isdigit, num))
    qualifier, low, high = "exact", None, None
    if num2 and low_word and UNIT_INFO[low_word] != (unit, quantity):
        # 上调了0.6个百分点至1%: two figures, not a range; the first is read here.
        unit, quantity = UNIT_INFO[low_word]
        end, value = m.end("low_unit"), parse_number(num)
        if value is None:
            return None
        return _Quantity(m.start(), end, end, value, unit, quantity, "exact", None, None, low_word, chinese)
    if num2:
        if approx:
            return None
        suffix = mult or _trailing_multiplier(num2)
        low = parse_number(num + ("" if _trailing_multiplier(num) or low_word else suffix))
        high = parse_number(num2 + mult)
        if low is None or high is None or low >= high:
            return None
        value, qualifier = low, "range"
    elif approx or post in ("多", "余"):
        qualifier = "approx"
    elif post:
        qualifier = POST_QUALIFIERS[post]
    if "多" in word:
        qualifier = "approx"
    if qualifier == "exact":
        qualifier = _pre_qualifier(m.string, m.start())
    end = m.end("rmb") if rmb else m.end("unit")
    return _Quantity(m.start(), end, m.end(), value, unit, quantity, qualifier, low, high, word, chinese)


def _pre_qualifier(norm: str, start: int) -> str:
    """约/近/超过/不到 … written just before the figure."""
    if start == 0 or norm[start - 1] not in PRE_QUALIFIER_ENDS:
        return "exact"  # most figures: no qualifier word ends on the character before
    for word, qualifier in PRE_QUALIFIERS:
        if norm.startswith(word, start - len(word)):
            before = norm[start - len(word) - 1:start - len(word)] if start > len(word) else ""
            if before and before in NOT_QUALIFIER_AFTER.get(word, ""):
                continue
            return qualifier
    return "exact"


def _trailing_multiplier(numeral: str) -> str:
    m = re.search(r"(?:万亿|亿|万)$", numeral)
    return m.group() if m else ""


def _not_a_fact(norm: str, q: _Quantity, clause_end: int, formula_numbers: frozenset[Decimal]) -> bool:
    """Quantities that look like facts but are names, dates, thresholds or spelled-out formulas."""
    before, after = norm[max(0, q.start - 3):q.start], norm[q.tail:q.tail + 4]
    if before.endswith(QUOTE_OPEN) and any(c in QUOTE_CLOSE for c in norm[q.end:q.end + MAX_QUOTED_NAME]):
        return True  # “24小时”服务, “六个回归”: part of a name
    if after.startswith("/") or after.startswith("每"):
        return True  # a rate: 3000元/吨
    if q.chinese and q.value == 1 and q.qualifier == "exact":
        if not (q.quantity == "duration" and after.startswith(YEAR_DURATION_AFTER)):
            return True  # 一个, 一次, 最后一公里: an article or an idiom, not a measurement
    if q.value == 0 or (q.quantity == "count" and q.value != q.value.to_integral_value()):
        return True
    if q.quantity == "count" and q.chinese and q.value < MIN_CHINESE_COUNT:
        return True
    if RATE_RE.search(norm, max(0, q.start - RATE_LOOKBACK), q.start):
        return True  # 每天亏损近25万元, 每人每年600元: a rate, not an amount
    if q.quantity == "duration" and (after[:1].isdigit() or (q.unit == "hour" and after.startswith(SERVICE_HOURS_AFTER))):
        return True  # 24小时30元封顶, 24小时全天候服务
    if q.unit == "year" and not _is_year_duration(norm, q):
        return True
    if q.qualifier in ("at_least", "at_most") and _modifies_noun(norm, q, clause_end):
        return True  # 投资10亿元以上项目49个: a class boundary inside a subject
    if q.quantity == "count" and q.value in formula_numbers:
        return True  # "1+6+6"机制 … 1个领导小组, 6个推进组: the formula spelled out
    return False



def _is_year_duration(norm: str, q: _Quantity) -> bool:
    if q.value > MAX_DURATION_YEARS:
        return False
    after = norm[q.tail:q.tail + 2]
    before = norm[max(0, q.start - 3):q.start]
    return after.startswith(YEAR_DURATION_AFTER) or q.tail > q.end or before.endswith(DURATION_VERBS)


def _modifies_noun(norm: str, q: _Quantity, clause_end: int) -> bool:
    """True when a bounded figure is followed, in its clause, by a noun and then another figure."""
    rest = norm[q.tail:clause_end]
    return bool(rest) and rest[0] not in "，,。；;" and QUANTITY_RE.search(rest) is not None


def _formula_numbers(paragraph: str) -> frozenset[Decimal]:
    """Numbers of an "a+b+c" formula in the paragraph (1+6+6 → {1, 6})."""
    if "+" not in paragraph:
        return frozenset()  # the usual case, settled without a scan
    numbers: set[Decimal] = set()
    for m in FORMULA_RE.finditer(paragraph):
        numbers.update(Decimal(n) for n in m.group().split("+"))
    return frozenset(numbers)


# ---------------------------------------------------------------------------------------------
# Text layout.
# ---------------------------------------------------------------------------------------------


def _paragraph(norm: str, pos: int) -> tuple[int, int]:
    """Start and end of the line holding `pos`."""
    end = norm.find("\n", pos)
    return norm.rfind("\n", 0, pos) + 1, end if end >= 0 else len(norm)


def _sentences(norm: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside a paragraph, ends included, surrounding spaces trimmed."""
    spans, pos = [], start
    for m in SENTENCE_END_RE.finditer(norm, start, end):
        spans.append((pos, m.end()))
        pos = m.end()
    spans.append((pos, end))
    trimmed = []
    for s, e in spans:
        while s < e and norm[s].isspace():
            s += 1
        while e > s and norm[e - 1].isspace():
            e -= 1
        if s < e:
            trimmed.append((s, e))
    return trimmed


def _clauses(norm: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """(start, end, segment number) of each clause; segments are separated by semicolons."""
    out, pos, segment = [], start, 0
    for m in CLAUSE_SEP_RE.finditer(norm, start, end):
        out.append((pos, m.start(), segment))
        if m.group() in SEGMENT_SEP:
            segment += 1
        pos = m.end()
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
    quantities: list[_Quantity],
    periods: list[tuple[int, int, Period]],
    lead_period: Period | None,
    formula_numbers: frozenset[Decimal],
) -> list[Fact]:
    clauses = _clauses(norm, s_start, s_end)
    homes = [_clause_index(clauses, q.start) for q in quantities]
    sentence = text[s_start:s_end]
    topics: dict[int, str] | None = None  # worked out when a figure first needs one; most never do
    facts: list[Fact] = []
    entity = ""
    named: tuple[int, str] = (-1, "")  # (segment, name) of the last 投资X的<name> in the sentence
    boundary = s_start  # end of the last figure used, so subjects never reach across it
    for q, home in zip(quantities, homes):
        c_start, c_end, segment = clauses[home]
        if _not_a_fact(norm, q, c_end, formula_numbers):
            continue
        left_start = max(c_start, boundary)
        previous = facts[-1] if facts else None
        same_segment = previous is not None and clauses[_clause_index(clauses, previous.span[0])][2] == segment
        fact_change: Change | None = None
        if q.quantity in ("percent", "percentage_point") and (found := _change_prefix(norm, left_start, q)):
            kind, sign, phrase_start = found
            fact_change = Change(kind, sign * q.value, q.unit)
            if previous and previous.change is None and _only_gap(norm, previous.span[1], phrase_start):
                facts[-1] = _with(previous, change=fact_change)  # 2940.8亿元，同比增长14.3%
                boundary = q.tail
                continue
            subject = _clean(norm[left_start:phrase_start])
        elif previous and previous.change and previous.unit == q.unit and _is_list_gap(norm[left_start:q.start]):
            # 分别增长11.7%、7.7%: each item of the list is a change of the same kind.
            sign = Decimal(-1) if previous.change.value < 0 else Decimal(1)
            fact_change = Change(previous.change.kind, sign * q.value, q.unit)
            subject = previous.subject
        else:
            if named[0] == segment:
                topic = named[1]
            else:
                if topics is None:
                    topics = _segment_topics(norm, clauses, set(homes))
                topic = topics.get(segment, "")
            subject, name = _subject(norm, q, left_start, c_end, topic)
            if name:
                named = (segment, name)
            if not subject and same_segment and previous is not None:
                subject = previous.subject  # 跌0.06%，报6.559元: the same thing, another figure
        if fact_change is not None:
            q = _signed(q, fact_change.value)
        if not entity and not facts and (m := ENTITY_RE.match(subject)) and m.group() not in NOT_ENTITIES:
            if len(subject) - m.end() >= 2:
                entity = m.group()  # 长春汽开区规上工业产值 → 长春汽开区
        elif entity and subject and fact_change is None and not ENTITY_RE.match(subject):
            if not subject.startswith(entity) and not norm.startswith("的", q.tail):
                subject = entity + subject  # ；固定资产投资完成104.6亿元 → 长春汽开区固定资产投资
        boundary = q.tail + _scope_length(norm, q)
        if len(subject) < MIN_SUBJECT:
            continue
        facts.append(
            Fact(
                subject=subject[-MAX_SUBJECT:],
                value=q.value,
                unit=q.unit,
                qualifier=q.qualifier,
                surface=text[q.start:q.end],
                sentence=sentence,
                span=(q.start, q.end),
                quantity=q.quantity,
                low=q.low,
                high=q.high,
                change=fact_change,
                period=_period_for(periods, s_start, q.start) or lead_period,
            )
        )
    return facts


def _clause_index(clauses: list[tuple[int, int, int]], pos: int) -> int:
    """The clause holding a figure that starts at `pos`: the last one starting at or before it (clauses
    only leave out their one-character separators, and no figure starts on one)."""
    return bisect_right(clauses, pos, key=itemgetter(0)) - 1


def _signed(q: _Quantity, value: Decimal) -> _Quantity:
    return _Quantity(q.start, q.end, q.tail, value, q.unit, q.quantity, q.qualifier, q.low, q.high, q.unit_word,
                     q.chinese)


def _with(fact: Fact, change: Change) -> Fact:
    return Fact(fact.subject, fact.value, fact.unit, fact.qualifier, fact.surface, fact.sentence, fact.span,
                fact.quantity, fact.low, fact.high, change, fact.period)


def _scope_length(norm: str, q: _Quantity) -> int:
    """Length of 以来/来/间 after a scope duration (3年来), which belongs to the figure."""
    if q.quantity != "duration":
        return 0
    return next((len(w) for w in SCOPE_DURATION_AFTER if norm.startswith(w, q.tail)), 0)


def _change_prefix(norm: str, left_start: int, q: _Quantity) -> tuple[str, Decimal, int] | None:
    """(kind, sign, phrase start) when the percent is introduced by 同比增长 or the like."""
    window_start = max(left_start, q.start - CHANGE_LOOKBACK)
    m = CHANGE_TAIL_RE.search(norm, window_start, q.start)
    if m is None:
        return None
    kind = dict(CHANGE_KINDS).get(m.group("kind") or "", "change")
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


def _subject(norm: str, q: _Quantity, left_start: int, clause_end: int, topic: str) -> tuple[str, str]:
    """(subject, name) of a figure: the words it measures, and the name it introduces, if any."""
    left = norm[left_start:q.start]
    after = norm[q.tail:clause_end]
    if after.startswith("的"):
        # 投资80亿元的旭阳智能中法工业园项目: the figure modifies the noun phrase that follows.
        noun = _head_noun_phrase(after[1:])
        attribute = ATTRIBUTE_RE.search(TRAILING_WORDS_RE.sub("", left))
        if noun:
            return noun + (attribute.group() if attribute else ""), noun
    if q.quantity not in ("percent", "percentage_point", "duration", "money") and (noun := _noun_phrase(after)):
        if q.unit_word not in NOUNLESS_COUNTS or noun.endswith(PERSON_NOUN_ENDINGS):
            return noun, ""  # 41个老旧小区改造工程, 建成501公里标准化堤防, 32名本科毕业生
    own = _clean(left)
    if q.quantity == "duration" and not after.startswith(SCOPE_DURATION_AFTER):
        took = TOOK_RE.search(left) is not None or after.startswith(DONE_AFTER)
        if took:
            return topic + own + "用时", ""  # 吉林玲珑轮胎项目 + 从接洽到签约 + 用时
    if not own or ATTRIBUTE_RE.fullmatch(own):
        own = topic + own  # 总面积达471平方公里 → 长春国际汽车城总面积
    return own, ""


def _clean(left: str) -> str:
    """Trim the words before a figure down to the thing it measures."""
    if "了" in left[:-1]:
        left = left[left.rindex("了") + 1:]  # 完成了主街路 → 主街路
    left = YEAR_FRAGMENT_RE.sub("", left)  # 由2012年的324.7万人 → the figure of a named year
    if (periods := list(PERIOD_RE.finditer(left))) and _is_composite(periods[-1]):
        left = left[periods[-1].end():]  # 披露2005年第一季度实现净利润 → 实现净利润
    previous = None
    while previous != left:
        previous = left
        left = LEADING_WORDS_RE.sub("", left)
        if m := PERIOD_RE.match(left):
            left = left[m.end():]
        left = TRAILING_WORDS_RE.sub("", left)
    return left.strip(SUBJECT_STRIP)


def _noun_phrase(after: str) -> str:
    m = NOUN_STOP_RE.search(after)
    noun = after[: m.start()] if m else after
    if noun in GENERIC_NOUNS or len(noun) < 2:
        return ""
    return noun if len(noun) <= MAX_NOUN_PHRASE else ""


def _head_noun_phrase(after: str) -> str:
    """A name up to its first run of head nouns (旭阳智能中法工业园项目落位… → …工业园项目)."""
    stop = re.search(r"[，。；;：:！？!?,]", after)
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
        if words.startswith(PREPOSITIONS) or REPORTING_RE.search(words) or re.search(r"\d", words):
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


def _periods(norm: str, start: int, end: int, year: int | None) -> list[tuple[int, int, Period]]:
    """Periods of a paragraph standing at the head of a clause, resolved against the reference year."""
    out = []
    for m in PERIOD_RE.finditer(norm, start, end):
        if not _is_composite(m) and not _at_clause_head(norm, m.start()):
            continue
        after = norm[m.end():m.end() + 1]
        if after.isdigit() or (m.group() == m.group("year") and after and after in "来间内底末初"):
            continue  # 2020年12月… is a date; 今年来, 年底 are not periods of a figure
        period = _resolve(m, year, norm)
        if period is not None:
            out.append((m.start(), m.end(), period))
    return out


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
    clause_rest = re.match(r"[，,]?[^，,；;。！？!?\n]*", norm[m.end():m.end() + MAX_TOPIC * 2])
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


def _period_for(periods: list[tuple[int, int, Period]], s_start: int, pos: int) -> Period | None:
    """The last period stated in the sentence before the figure."""
    i = bisect_left(periods, pos, key=itemgetter(0)) - 1
    return periods[i][2] if i >= 0 and periods[i][0] >= s_start else None

