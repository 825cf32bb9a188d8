"""Quantities of Chinese text: every number with its unit, whatever the sentence around it.

This is the first layer of the fact extractor (facts.py builds facts over what it finds). A quantity
is a numeral and the unit it is written with: 15美元, $15, 3万英亩, 百分之五十, 8成 (80 %), 3倍 (a
multiple), 三分之二, 6到18米, 1年8个月, 1天半, 每千瓦时0.375元 (a rate: 0.375 CNY per kWh) or
8500元/平方米. Numerals may be Arabic (full-width too), Chinese, mixed, or estimates: 七八十万
(700000 to 800000), 上亿 (at least 100000000), 数十亿, 十几, 1万多.

Every unit word is data in the tables below, and the one pattern is built from them. Each part
of the pattern is bounded, so a scan from any position stops within a few dozen characters and the
whole text is read in linear time.
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from .numbers import CN_NUMERAL_CHARS, NUMERAL_FIRST_CHARS, NUMERAL_PATTERN, parse_number, plain
from .patterns import starting_with

# ---------------------------------------------------------------------------------------------
# Units. Each row: (word, unit, quantity, factor, guard). The value is the numeral times the
# factor (15美分 is 0.15 USD, 8成 is 80 %); the guard lists characters that, right after the
# word, make it part of a longer word (元旦, 项目, 倍增), not a unit. Multipliers (万, 亿 …)
# belong to the numeral, so 62万平方米 is 620000 m2. Units are never converted between scales
# otherwise: 斤 stays jin, 英亩 stays acre.
# ---------------------------------------------------------------------------------------------
ONE, CENT, TENTH, TEN = Decimal(1), Decimal("0.01"), Decimal("0.1"), Decimal(10)
LATIN = "A-Za-z"  # a Latin unit (GW, kg) must not run on into a longer word

MONEY_UNITS = (  # ISO 4217 codes
    ("人民币", "CNY"), ("元人民币", "CNY"), ("元", "CNY"), ("块钱", "CNY"), ("美元", "USD"), ("美金", "USD"),
    ("港元", "HKD"), ("港币", "HKD"), ("欧元", "EUR"), ("日元", "JPY"), ("日圆", "JPY"), ("英镑", "GBP"),
    ("韩元", "KRW"), ("卢布", "RUB"), ("澳元", "AUD"), ("澳币", "AUD"), ("加元", "CAD"), ("加币", "CAD"),
    ("新台币", "TWD"), ("台币", "TWD"), ("瑞士法郎", "CHF"), ("新加坡元", "SGD"), ("新元", "SGD"),
    ("澳门元", "MOP"), ("澳门币", "MOP"), ("泰铢", "THB"), ("印度卢比", "INR"), ("卢比", "INR"),
    ("越南盾", "VND"), ("林吉特", "MYR"), ("令吉", "MYR"), ("新西兰元", "NZD"), ("纽元", "NZD"),
    ("瑞典克朗", "SEK"), ("挪威克朗", "NOK"), ("丹麦克朗", "DKK"), ("里拉", "TRY"), ("兰特", "ZAR"),
    ("雷亚尔", "BRL"), ("迪拉姆", "AED"), ("比特币", "BTC"),
)
MONEY_SUBUNITS = (("美分", "USD", CENT), ("毛钱", "CNY", TENTH), ("欧分", "EUR", CENT))
# Symbols written before the numeral ($15, US$3亿).
MONEY_SYMBOLS = {
    "US$": "USD", "HK$": "HKD", "NT$": "TWD", "A$": "AUD", "S$": "SGD", "C$": "CAD", "$": "USD",
    "＄": "USD", "¥": "CNY", "￥": "CNY", "€": "EUR", "£": "GBP", "￡": "GBP",
}
MEASURES = (  # (word, unit, quantity)
    ("个百分点", "percentage_point", "percentage_point"), ("百分点", "percentage_point", "percentage_point"),
    ("个基点", "bp", "basis_point"), ("基点", "bp", "basis_point"),
    ("%", "%", "percent"), ("‰", "‰", "permille"), ("倍", "times", "multiple"),
    ("平方公里", "km2", "area"), ("平方千米", "km2", "area"), ("平方米", "m2", "area"), ("平米", "m2", "area"),
    ("㎡", "m2", "area"), ("公顷", "hectare", "area"), ("亩", "mu", "area"), ("英亩", "acre", "area"),
    ("平方英里", "sq_mile", "area"), ("平方英尺", "sq_ft", "area"), ("平方厘米", "cm2", "area"),
    ("公里", "km", "length"), ("千米", "km", "length"), ("厘米", "cm", "length"), ("公分", "cm", "length"),
    ("毫米", "mm", "length"), ("米", "m", "length"), ("英里", "mile", "length"), ("英尺", "ft", "length"),
    ("英寸", "inch", "length"), ("海里", "nmi", "length"), ("纳米", "nm", "length"), ("微米", "um", "length"),
    ("光年", "light_year", "length"), ("码", "yard", "length"),
    ("吨", "t", "weight"), ("千克", "kg", "weight"), ("公斤", "kg", "weight"), ("克", "g", "weight"),
    ("毫克", "mg", "weight"), ("斤", "jin", "weight"), ("磅", "lb", "weight"), ("盎司", "oz", "weight"),
    ("克拉", "carat", "weight"),
    ("立方米", "m3", "volume"), ("立方", "m3", "volume"), ("升", "L", "volume"), ("毫升", "mL", "volume"),
    ("加仑", "gal", "volume"), ("桶", "barrel", "volume"),
    ("千瓦时", "kWh", "energy"), ("度电", "kWh", "energy"), ("kWh", "kWh", "energy"), ("GWh", "GWh", "energy"),
    ("千卡", "kcal", "energy"), ("卡路里", "kcal", "energy"),
    ("千瓦", "kW", "power"), ("兆瓦", "MW", "power"), ("吉瓦", "GW", "power"), ("瓦", "W", "power"),
    ("kW", "kW", "power"), ("MW", "MW", "power"), ("GW", "GW", "power"), ("马力", "hp", "power"),
    ("摄氏度", "celsius", "temperature"), ("℃", "celsius", "temperature"),
    ("分贝", "dB", "loudness"), ("km", "km", "length"), ("kg", "kg", "weight"),
    ("ZB", "ZB", "data"), ("EB", "EB", "data"), ("PB", "PB", "data"), ("TB", "TB", "data"), ("GB", "GB", "data"),
    ("MB", "MB", "data"), ("KB", "KB", "data"),
    ("个工作日", "day", "duration"), ("天", "day", "duration"),
    ("个小时", "hour", "duration"), ("小时", "hour", "duration"), ("个多小时", "hour", "duration"),
    ("分钟", "minute", "duration"), ("秒钟", "second", "duration"), ("秒", "second", "duration"),
    ("个月", "month", "duration"), ("个多月", "month", "duration"), ("周", "week", "duration"),
    ("星期", "week", "duration"), ("个星期", "week", "duration"), ("年", "year", "duration"),
    ("岁", "year_of_age", "age"), ("周岁", "year_of_age", "age"),
    ("成", "%", "percent"),  # 8成 = 80 %: the factor is below
)
FACTORS = {"成": TEN}
# Measure words of counts; the unit is the word itself.
COUNT_WORDS = (
    "个", "家", "项", "人", "人次", "辆", "所", "座", "名", "台", "套", "户", "件", "次", "位", "种",
    "条", "架", "艘", "只", "头", "株", "棵", "栋", "幢", "间", "处", "支", "款", "场", "篇", "部",
    "张", "份", "例", "批", "枚", "颗", "任", "注", "届", "轮", "本", "块", "层", "双", "对", "组", "片",
    "根", "封", "匹", "首", "粒", "杯", "瓶", "盒", "袋", "箱", "架次", "辆次", "户次", "余人", "口",
    "道", "门", "集", "笔", "单", "帧", "票", "股", "手", "起", "宗", "亿人次", "像素",
)
# Characters after a unit word that make it part of another word (元旦, 项目, 所以 …).
UNIT_GUARDS: dict[str, str] = {
    "元": "旦宵素年月首件器老帅气", "米": "饭粉面粒线兰其", "克": "服隆拉里林斯罗",
    "人": "民们月年天日", "家": "庭长具电属", "台": "湾阶风州上下资河", "所": "有以在得属谓述需长", "项": "目",
    "名": "单称义字列", "位": "于置数列", "户": "籍口外型头", "次": "数要级日年月之", "种": "子植",
    "条": "件例", "架": "构", "只": "有是要能会需", "头": "条部", "间": "隔接", "处": "理于置",
    "支": "持付出援", "款": "项", "场": "所景馆地", "部": "分门署长委队件", "批": "准复示",
    "个": "人体性股税别案基", "亩": "产均", "个月": "亮饼球", "天": "然津下空地半", "小时": "半",
    "任": "务何职命意期性凭由教", "注": "意册重入资射明", "届": "时满",
    "轮": "胎流船廓车", "本": "地市身来着科届次期土月年人木", "块": "钱", "层": "面次级出", "对": "于话比手外",
    "组": "织成建合", "片": "区", "根": "据本", "封": "闭锁面", "匹": "配", "首": "先都次页届创",
    "口": "径号岸罩", "道": "路理德口", "门": "户口槛", "集": "团中体", "笔": "者记",
    "单": "位独", "票": "据", "股": "份权票东市", "手": "机术段", "起": "来步", "宗": "教旨",
    "成": "为了功立本员都果交长就绩熟品型像效", "倍": "增感受加儿", "升": "级值高温至学降格空旗起",
    "码": "头", "磅": "礴", "瓦": "解斯片房", "周": "年边末围到", "秒": "杀", "立方": "米",
    "吨": "位", "桶": "装", "元人民币": "", "人民币": "",
    **{w: LATIN for w in ("kWh", "GWh", "kW", "MW", "GW", "km", "kg", "ZB", "EB", "PB", "TB", "GB", "MB", "KB")},
}
# Words after 每 (or /) that a rate is given per: units and the calendar.
PER_WORDS = {
    **{w: u for w, u, _ in MEASURES if u not in ("%", "times", "percentage_point", "bp", "‰")},
    "年": "year", "月": "month", "个月": "month", "天": "day", "日": "day", "周": "week", "小时": "hour",
    "人": "person", "户": "household", "股": "share", "件": "item", "辆": "vehicle", "次": "time",
    "平": "m2", "方": "m3", "度": "kWh", "台": "set", "套": "set", "张": "sheet", "场": "event", "头": "head",
    "个": "item", "位": "person", "名": "person", "千克": "kg", "亩": "mu", "瓶": "bottle", "箱": "box",
}
# Words before a bare numeral with a multiplier (奖金500万) that say the numeral is money, in CNY.
MONEY_CONTEXT = (
    "奖金", "资金", "投资", "投入", "收入", "工资", "年薪", "月薪", "薪水", "薪酬", "售价", "价格", "房价",
    "罚款", "罚金", "赔偿", "补偿", "补贴", "融资", "募资", "市值", "营收", "利润", "净利", "成交额", "票房",
    "身价", "报价", "捐款", "捐赠", "贷款", "存款", "花费", "花了", "耗资", "造价", "总价", "租金", "预算",
    "估值", "销售额", "营业额", "税收", "人民币", "赚了", "赚", "亏损", "亏了", "赔了", "欠款", "债务",
    "资产", "押金", "奖励", "悬赏", "学费", "彩金", "彩票", "奖池", "保费", "损失", "拨款", "经费", "出资", "标价",
)
MONEY_CONTEXT_LOOKBACK = 8
MULTIPLIER_ENDINGS = ("万亿", "亿", "万")
NUMERAL_CACHE_SIZE = 4096
SHAPE_CACHE_SIZE = 8192  # distinct figures remembered as read (the dev corpus has about 7,400)
INDEX_POINT = "点"

# ---------------------------------------------------------------------------------------------
# Records.
# ---------------------------------------------------------------------------------------------


class UnitInfo(NamedTuple):
    unit: str
    quantity: str
    factor: Decimal


UNITS: dict[str, UnitInfo] = {
    **{w: UnitInfo(u, "money", ONE) for w, u in MONEY_UNITS},
    **{w: UnitInfo(u, "money", f) for w, u, f in MONEY_SUBUNITS},
    **{w: UnitInfo(u, q, FACTORS.get(w, ONE)) for w, u, q in MEASURES},
    **{w: UnitInfo(w, "count", ONE) for w in COUNT_WORDS},
}
UNITS["余人"] = UnitInfo("人", "count", ONE)  # 300余人: the approximation sits inside the unit
UNITS["亿人次"] = UnitInfo("人次", "count", Decimal(10**8))
# Index points (上证综指报3067.15点): only after a decimal, since 3点 and 10点 are clock times.
UNITS[INDEX_POINT] = UnitInfo("point", "index_point", ONE)
BARE = UnitInfo("", "bare", ONE)  # a numeral with a multiplier and no unit
# A unit whose first character can also end the numeral before it (千米: 上亿千 + 米; 余人: 300余 + 人) keeps
# the guard of the unit it ends in. Else, where the guard turns the short unit away (上亿千米面, 米面 a food),
# the long one reads the same characters otherwise than they read alone, and a figure is read by its text.
UNIT_GUARDS |= {word: UNIT_GUARDS[word[1:]] for word in UNITS
                if word[0] in "十百千万亿多余" and word not in UNIT_GUARDS and word[1:] in UNIT_GUARDS}


class Quantity(NamedTuple):
    """A number with its unit as written, before it is judged a fact (a tuple: cheap to make)."""

    start: int
    end: int  # end of the surface
    tail: int  # end of the trailing qualifier (以上, 左右 …)
    value: Decimal
    unit: str
    quantity: str
    qualifier: str  # exact | approx | at_least | at_most | range
    low: Decimal | None
    high: Decimal | None
    unit_word: str
    chinese: bool  # written in Chinese numerals
    per: str | None = None  # a rate's denominator: kWh for 每千瓦时0.375元, m2 for 8500元/平方米


# ---------------------------------------------------------------------------------------------
# The pattern.
# ---------------------------------------------------------------------------------------------


def _alternation(words) -> str:
    """Any of `words`, longest first, each with its guard. The words are grouped by their first
    character (个(?:百分点|月|…)|年|…): re tries a group's words only where that character stands, not
    every one of two hundred words after each numeral."""
    groups: dict[str, list[str]] = {}
    for word in sorted(set(words), key=len, reverse=True):
        guard = UNIT_GUARDS.get(word, "")
        groups.setdefault(word[0], []).append(re.escape(word[1:]) + (f"(?![{guard}])" if guard else ""))
    # A look at the first character turns most numerals that carry no unit away before they try every word.
    return starting_with(re.escape("".join(sorted(groups))),
                         "|".join(f"{re.escape(first)}(?:{'|'.join(rests)})" for first, rests in groups.items()))


_NUM = NUMERAL_PATTERN
_BIG = "[十百千万亿]"
# Estimates: 数十亿, 上亿, 几百, 百万 / 千万 written without a digit, 十几 / 二十几万.
_ESTIMATE = rf"(?:[数几上成](?={_BIG})|[百千](?=[万亿])){_BIG}{{1,3}}"
_NUMERAL = rf"(?:{_ESTIMATE}|{_NUM}(?:几{_BIG}{{0,3}})?)"
_UNIT = _alternation({w: u for w, u in UNITS.items() if w != INDEX_POINT})
_INDEX_POINT = rf"(?<=\.\d){INDEX_POINT}|(?<=\.\d\d){INDEX_POINT}|(?<=\.\d\d\d){INDEX_POINT}"
_PER = _alternation(PER_WORDS)
RANGE_SEPARATORS = "至到-—~～－"
_RANGE_SEP = f"[{re.escape(RANGE_SEPARATORS)}]"
# A range's separator stands at most a unit word after its first numeral (6到18米, 3%-5%): looked for
# first, it spares most figures matching their unit twice, once as the range's and once as their own.
# The run before it is possessive and stops at the first separator or line break: one place is tried.
_RANGE_AHEAD = rf"(?=[^\n{re.escape(RANGE_SEPARATORS)}]{{0,{max(map(len, UNITS))}}}+{_RANGE_SEP})"
_MULT = r"(?:万亿|亿|万|千(?![米克瓦卡])|百(?!分))"
_SYMBOL = "|".join(re.escape(s) for s in sorted(MONEY_SYMBOLS, key=len, reverse=True))
_DURATION_FIRST = r"(?P<d1u>年|天|个?小时|分钟?)(?:零|又)?"
_DURATION_SECOND = r"(?P<d2u>个多月|个月|小时|分钟?|秒钟?)"
_HALF_UNITS = r"(?:天|年|个?小时|个?月|周|个?星期)"
# What every kind of quantity goes on with after its numeral: 分之, a duration's or a half's unit, 个半,
# a unit (a range's first one too), a range separator, 多/余, a multiplier or the space before a unit;
# or nothing, after 万/亿 (a bare numeral). Looked at first, it turns most numerals without a unit away
# before each kind is tried.
_AFTER_NUMERAL = "".join(sorted({word[0] for word in UNITS} | set(f"分年天个小月周星{RANGE_SEPARATORS}多余万亿千百 ")))
_NUMERAL_GOES_ON = rf"(?:(?=[{re.escape(_AFTER_NUMERAL)}])|(?<=[万亿]))"
# Characters that, right before a numeral, make it part of a code, a rate base or another number.
NOT_BEFORE_NUMERAL = "每几数No#+/_.%^=@"
NOW_BEFORE_QIAN = "当目此之日以眼"  # 当前, 目前, 此前 …: words of time that end in 前

_SYMBOL_FIRSTS = re.escape("".join(sorted({s[0] for s in MONEY_SYMBOLS})))
QUANTITY_RE = re.compile(
    starting_with(  # every quantity starts with a numeral, an estimate word or a currency symbol
        f"{NUMERAL_FIRST_CHARS}百数几上成千{_SYMBOL_FIRSTS}",
        rf"(?<![0-9{CN_NUMERAL_CHARS}{re.escape(NOT_BEFORE_NUMERAL)}])(?<!\d:)"  # not 9:45, not 3.5.1
        rf"(?:(?<!前)|(?<=[{NOW_BEFORE_QIAN}]前))"  # 前三季度 is a period, 当前6亿桶 a quantity
        rf"(?:(?<![A-Za-z])|(?=[{CN_NUMERAL_CHARS}数几上成]))(?:"  # A380 is a name; podman两个容器 a count
        + "|".join((
            rf"(?P<sym>{_SYMBOL})\s?(?P<snum>{_NUM})(?P<smult>{_MULT})?"
            rf"(?:{_RANGE_SEP}(?:{_SYMBOL})?(?P<snum2>{_NUM})(?P<smult2>{_MULT})?)?",
            rf"百分之(?P<pct>{_NUMERAL}|百)(?:{_RANGE_SEP}(?:百分之)?(?P<pct2>{_NUM}))?",
            rf"(?P<num>{_NUMERAL}){_NUMERAL_GOES_ON}(?:"  # one numeral, then what follows it decides the kind
            rf"分之(?P<frac>{_NUM})"
            rf"|{_DURATION_FIRST}(?P<d2>{_NUM}){_DURATION_SECOND}"
            rf"|(?P<hu>{_HALF_UNITS})半|个半(?P<h2u>小时|月)"
            rf"|(?:{_RANGE_AHEAD}(?P<low_unit>{_UNIT})?{_RANGE_SEP}(?P<num2>{_NUMERAL}))?"
            rf"(?P<approx>[多余])?(?P<mult>{_MULT})?(?:(?:(?<=\d) )?(?P<unit>{_UNIT}|{_INDEX_POINT})(?P<rmb>人民币)?|(?P<bare>(?<=[万亿]))))",
        ))
        + rf")(?:(?:/|每)(?P<per>{_PER}))?(?P<post>以上|以下|以内|之内|左右|上下|多|余|内|不到)?",
    )
)
POST_QUALIFIERS = {
    "以上": "at_least", "以下": "at_most", "以内": "at_most", "内": "at_most", "左右": "approx",
    "上下": "approx", "多": "approx", "余": "approx", "不到": "at_most", "之内": "at_most",
}
# Qualifiers written before the figure. Characters before 约/近/超 that make them part of another
# word (签约, 最近, 赶超).
NOT_QUALIFIER_AFTER = {"约": "签合节公预契履特制条", "近": "最附邻靠将接", "超": "赶高"}
PRE_QUALIFIERS = (  # longest first, so 不超过 is not read as 超过
    ("不得少于", "at_least"), ("不能少于", "at_least"), ("不得超过", "at_most"), ("不能超过", "at_most"),
    ("不会超过", "at_most"), ("不得低于", "at_least"),
    ("不少于", "at_least"), ("约合", "approx"), ("约为", "approx"), ("大概为", "approx"), ("大约为", "approx"), ("大概", "approx"), ("约达", "approx"), ("约有", "approx"), ("不低于", "at_least"), ("不超过", "at_most"), ("大约", "approx"),
    ("将近", "approx"), ("接近", "approx"), ("超过", "at_least"), ("至少", "at_least"), ("多于", "at_least"),
    ("不到", "at_most"), ("不足", "at_most"), ("最多", "at_most"), ("最高", "at_most"), ("最低", "at_least"), ("少于", "at_most"), ("约", "approx"),
    ("近", "approx"), ("逾", "at_least"), ("超", "at_least"),
)
WORDS_AFTER_QUALIFIER = ("人民币", "了")
# Words after a figure that start with a post-qualifier but are nouns (13份多边协定, 3个余额宝账户).
NOUNS_AFTER_FIGURE = ("多边", "多元", "多种", "多样", "多方", "多功能", "多层", "多维", "多媒体", "多彩", "多式",
                      "余额", "余热", "余量", "内容", "内部", "内地", "内外", "内资", "上下游", "以上述")
# The qualifiers ending on each character, longest first as in PRE_QUALIFIERS: 为 has 约为, 大概为, 大约为.
PRE_QUALIFIERS_BY_END = {end: [(w, q) for w, q in PRE_QUALIFIERS if w[-1] == end]
                         for end in dict.fromkeys(word[-1] for word, _ in PRE_QUALIFIERS)}
QUALIFIER_NEIGHBOURS = PRE_QUALIFIERS_BY_END.keys() | {word[-1] for word in WORDS_AFTER_QUALIFIER}
RATE_RE = re.compile(r"每(?P<per>[^，,；;。、\d]{1,6})$")
RATE_LOOKBACK = 8
PER_RE = re.compile(_PER)
CHANGE_BEFORE_RE = re.compile(r"(?:增加|增长|上涨|上升|下降|下跌|减少|降低|提高|上调|下调|涨|跌|降|增|减)了?$")
# Characters before a figure that CHANGE_BEFORE_RE can need (its longest word, 了, a line end): searched
# from the text's start, the anchored pattern was tried at every position, quadratic in a long text.
CHANGE_BEFORE_LOOKBACK = 4
PAIR_RE = re.compile(r"^(?P<pre>.*?)(?P<a>[一二三四五六七八九两])(?P<b>[二三四五六七八九两])(?P<post>[十百千万亿]*)$")
DURATION_STEPS = {  # (first unit, second unit) → (unit of the sum, how many seconds make one first unit)
    ("年", "个月"): ("month", 12), ("年", "个多月"): ("month", 12), ("天", "小时"): ("hour", 24),
    ("小时", "分钟"): ("minute", 60), ("小时", "分"): ("minute", 60), ("个小时", "分钟"): ("minute", 60),
    ("个小时", "分"): ("minute", 60), ("分钟", "秒"): ("second", 60), ("分", "秒"): ("second", 60),
    ("分钟", "秒钟"): ("second", 60), ("分", "秒钟"): ("second", 60),
}
HALF_UNITS = {"天": "day", "年": "year", "小时": "hour", "个小时": "hour", "月": "month", "个月": "month",
              "周": "week", "星期": "week", "个星期": "week"}
MINUS_SIGNS = ("-", "−", "负")
BELOW_ZERO = ("零下", *MINUS_SIGNS)
SIGNED_QUANTITIES = frozenset({"temperature", "percent", "percentage_point", "basis_point"})
FRACTION_PLACES = Decimal("0.000001")
_DIGIT = re.compile(r"\d")


# ---------------------------------------------------------------------------------------------
# Reading matches.
# ---------------------------------------------------------------------------------------------


def fold_fullwidth(text: str) -> str:
    """Full-width digits and marks as ASCII, one character for one, so offsets stay those of `text`.

    str.replace per pair runs at memchr speed, where str.translate looks every character of a Chinese
    text up in a dict."""
    for wide, narrow in FULLWIDTH:
        if wide in text:
            text = text.replace(wide, narrow)
    return text


FULLWIDTH = tuple(zip("０１２３４５６７８９．，％＋－～：／＄", "0123456789.,%+-~:/$"))


class Shape(NamedTuple):
    """What a match's own characters say of its quantity, with offsets from the match's start.

    A text repeats its figures (一个, 2018年, 10%), and the same characters read the same wherever
    they stand, so shapes are cached by text; only the words around a figure (约, 每年, 零下, 下降了)
    are read at each place it stands (`_place`)."""

    quantity: Quantity | None  # None: not a well-formed figure
    finished: bool  # the words around it still apply (not to the first of two figures, nor to 百分之五到十)
    post: str | None  # the qualifier written after it (以上, 左右 …)
    per_word: str | None  # the unit of /平方米 or 每年 written after it
    per_end: int
    after_change: Shape | None = None  # how it reads after a change (下降了一美分到53美分: two figures)


NOT_A_FIGURE = Shape(None, False, None, None, -1)


def find_quantities(norm: str) -> list[Quantity]:
    """Every quantity of a (full-width folded) text, in text order."""
    out = []
    search, pos = QUANTITY_RE.search, 0
    while m := search(norm, pos):
        q = _place(norm, m.start(), m.end(), _shape(m.group()))
        if q is not None:
            out.append(q)
        # 削减了三成至6654亿元: two figures in one match; the scan goes on after the first.
        pos = q.tail if q is not None and q.tail < m.end() else m.end()
    return out


@lru_cache(maxsize=SHAPE_CACHE_SIZE)
def _shape(text: str) -> Shape:
    """The shape of a matched text. Alone it matches just as where it stood: every look past a match's
    end is a guard against a longer word, which passes at the end of a string."""
    return read_shape(QUANTITY_RE.match(text))


@lru_cache(maxsize=NUMERAL_CACHE_SIZE)  # a text repeats its numerals (一, 两, 2018 …)
def read_numeral(text: str) -> tuple[Decimal, Decimal | None, Decimal | None, str] | None:
    """(value, low, high, qualifier) of a numeral, estimates included; None if it is not one.

    七八十万 → 700000 to 800000; 十几 → 10, approx; 上亿 → 100000000, at least; 数十亿 → 1000000000, approx.
    """
    value = parse_number(text)
    if value is not None:
        return value, None, None, "exact"
    if text[0] in "数几上成":
        base = parse_number(_lead_one(text[1:]))
        return (base, None, None, "at_least" if text[0] in "上成" else "approx") if base else None
    if text[0] in "百千":
        base = parse_number("一" + text)
        return (base, None, None, "approx") if base else None
    if "几" in text:
        base = parse_number(text.replace("几", ""))
        return (base, None, None, "approx") if base else None
    if m := PAIR_RE.match(text):
        low = parse_number(m["pre"] + m["a"] + m["post"])
        high = parse_number(m["pre"] + m["b"] + m["post"])
        if low is not None and high is not None and low < high:
            return low, low, high, "range"
    return None


def _lead_one(text: str) -> str:
    """十亿 stays; 亿 and 万 need a digit in front to be read (上亿 = 一亿)."""
    return text if text[0] in "十百千" else "一" + text


def read_shape(m: re.Match[str]) -> Shape:
    """Read a match into the shape of its quantity."""
    sym, pct, frac, d2, hu, h2u = m.group("sym", "pct", "frac", "d2", "hu", "h2u")
    if sym:
        return _symbol_money(m)
    if pct:
        return _percent_words(m)
    if frac:
        den, num = parse_number(m["num"]), parse_number(m["frac"])
        if not den or num is None or num > den:
            return NOT_A_FIGURE
        value = plain((num / den).quantize(FRACTION_PLACES))
        return _written(m, Quantity(m.start(), m.end("frac"), m.end(), value, "fraction", "fraction", "exact", None,
                                    None, "分之", _chinese(m["num"])))
    if d2:
        return _compound_duration(m)
    if hu or h2u:
        word = hu or h2u
        whole = parse_number(m["num"])
        if whole is None:
            return NOT_A_FIGURE
        end = m.end("hu") + 1 if m["hu"] else m.end("h2u")
        return _written(m, Quantity(m.start(), end, end, whole + Decimal("0.5"), HALF_UNITS[word], "duration",
                                    "exact", None, None, word, _chinese(m["num"])))
    return _plain_quantity(m)


def _written(m: re.Match[str], q: Quantity | None, finished: bool = True) -> Shape:
    return Shape(q, finished, *m.group("post", "per"), m.end("per"))


def _symbol_money(m: re.Match[str]) -> Shape:
    """$15, US$3亿, ￥3,000～￥3,999."""
    value = parse_number(m["snum"] + (m["smult"] or ""))
    if value is None:
        return NOT_A_FIGURE
    low = high = None
    qualifier, end = "exact", m.end("smult") if m["smult"] else m.end("snum")
    if m["snum2"]:
        high = parse_number(m["snum2"] + (m["smult2"] or m["smult"] or ""))
        if high is None or high <= value:
            return NOT_A_FIGURE
        low, qualifier, end = value, "range", m.end("smult2") if m["smult2"] else m.end("snum2")
    return _written(m, Quantity(m.start(), end, end, value, MONEY_SYMBOLS[m["sym"]], "money", qualifier, low, high,
                                m["sym"], False))


def _percent_words(m: re.Match[str]) -> Shape:
    read = read_numeral(m["pct"])
    if read is None:
        return NOT_A_FIGURE
    value, low, high, qualifier = read
    if qualifier != "exact":  # 百分之七八十, 百分之十几
        return _written(m, Quantity(m.start(), m.end("pct"), m.end(), value, "%", "percent", qualifier, low, high, "%",
                                    True))
    if m["pct2"]:
        high = parse_number(m["pct2"])
        if high is None or high <= value:
            return NOT_A_FIGURE
        return _written(m, Quantity(m.start(), m.end("pct2"), m.end(), value, "%", "percent", "range", value, high, "%",
                                    True), finished=False)
    return _written(m, Quantity(m.start(), m.end("pct"), m.end(), value, "%", "percent", "exact", None, None, "%", True))


def _compound_duration(m: re.Match[str]) -> Shape:
    step = DURATION_STEPS.get((m["d1u"], m["d2u"]))
    first, second = parse_number(m["num"]), parse_number(m["d2"])
    if step is None or first is None or second is None or second >= step[1]:
        return NOT_A_FIGURE
    unit, size = step
    qualifier = "approx" if "多" in m["d2u"] else "exact"
    return _written(m, Quantity(m.start(), m.end("d2u"), m.end(), first * size + second, unit, "duration", qualifier,
                                None, None, m["d2u"], _chinese(m["num"])))


def _plain_quantity(m: re.Match[str]) -> Shape:
    word, low_word = m.group("unit", "low_unit")
    info = UNITS[word] if word else BARE  # a bare numeral with a multiplier (奖金500万): money only where the context says so
    read = read_numeral(m["num"] + (m["mult"] or ""))
    if read is None:
        return NOT_A_FIGURE
    if low_word and m["num2"]:
        # 上调了0.6个百分点至1%: two figures, not a range, and so is 下降了一美分到53美分 after a change
        # (which `_place` looks for); the first is read here, and the scan goes on to the second.
        first = _first_of_two(m, low_word)
        if UNITS[low_word][:2] != info[:2]:
            return first
        if m.string[m.end("low_unit")] in "到至":
            return _figure(m, info, read)._replace(after_change=first)
    return _figure(m, info, read)


def _first_of_two(m: re.Match[str], low_word: str) -> Shape:
    info, end = UNITS[low_word], m.end("low_unit")
    first = read_numeral(m["num"])
    if first is None or not info.unit:
        return NOT_A_FIGURE
    return _written(m, Quantity(m.start(), end, end, first[0] * info.factor, info.unit, info.quantity, first[3], None,
                                None, low_word, _chinese(m["num"])), finished=False)


def _figure(m: re.Match[str], info: UnitInfo, read: tuple[Decimal, Decimal | None, Decimal | None, str]) -> Shape:
    """One figure, or a range of two (6到18米, 100亿～120亿)."""
    num, low_word, num2, approx, mult, word, rmb = m.group("num", "low_unit", "num2", "approx", "mult", "unit", "rmb")
    word, mult = word or "", mult or ""
    value, low, high, qualifier = read
    if num2:
        if approx or qualifier != "exact":
            return NOT_A_FIGURE
        suffix = mult or _trailing_multiplier(num2)
        low = parse_number(num + ("" if _trailing_multiplier(num) or low_word else suffix))
        high = parse_number(num2 + mult)
        if low is None or high is None or low >= high:
            return NOT_A_FIGURE
        value, qualifier = low, "range"
    elif approx:
        qualifier = "approx"
    if "多" in word or "余" in word:
        qualifier = "approx"
    if info.factor != ONE:
        value = plain(value * info.factor)
        low = None if low is None else plain(low * info.factor)
        high = None if high is None else plain(high * info.factor)
    if word:
        end = m.end("rmb" if rmb else "unit")
    else:
        end = max(m.end("mult"), m.end("num2"), m.end("num"))  # 奖金500万, 投资100亿～120亿
    return _written(m, Quantity(m.start(), end, m.end(), value, info.unit, info.quantity, qualifier, low, high, word,
                                _chinese(num)))


def _place(norm: str, start: int, end: int, shape: Shape) -> Quantity | None:
    """The quantity of a shape matched from `start` to `end` of `norm`, with the words around it read: the
    change before it, the qualifier written after or before it, the rate it is given per, its sign."""
    if shape.after_change is not None and CHANGE_BEFORE_RE.search(norm, max(0, start - CHANGE_BEFORE_LOOKBACK), start):
        shape = shape.after_change
    written = shape.quantity
    if written is None:
        return None
    q = Quantity._make((start + written.start, start + written.end, start + written.tail) + written[3:])
    if not shape.finished:
        return q
    post, per_word = shape.post, shape.per_word
    qualifier = q.qualifier
    if post and norm.startswith(NOUNS_AFTER_FIGURE, q.end):
        q = q._replace(tail=q.end)  # 13份多边协定: 多 starts the noun a count counts
    elif post:
        q = q._replace(tail=max(q.tail, end))
        if qualifier == "exact":
            qualifier = POST_QUALIFIERS[post]
    if qualifier == "exact":
        qualifier = pre_qualifier(norm, start)
    per = PER_WORDS[per_word] if per_word else _rate_before(norm, start)
    if q.quantity in SIGNED_QUANTITIES and q.low is None and (sign := _below_zero(norm, q.start, q.quantity)):
        q = q._replace(start=q.start - sign, value=-q.value)  # -22.2℃, 零下5摄氏度, 增速为-6.1%
    if per or qualifier != q.qualifier or post:
        q_end = q.end
        if per_word and start + shape.per_end > q.end:
            q_end = start + shape.per_end  # 8500元/平方米: the rate's unit belongs to the surface
        return q._replace(qualifier=qualifier, per=per, end=q_end, tail=max(q.tail, q_end))
    return q


def _below_zero(norm: str, start: int, quantity: str) -> int:
    """Length of the minus sign (or 零下, for a temperature) before a figure, 0 if none. A minus after a
    digit is a range's dash (5-6%), not a sign."""
    for word in BELOW_ZERO if quantity == "temperature" else MINUS_SIGNS:
        sign_start = start - len(word)  # (a negative start would make startswith look at the text's end)
        if sign_start >= 0 and norm.startswith(word, sign_start) and not norm[sign_start - 1:sign_start].isdigit():
            return len(word)
    return 0


def _rate_before(norm: str, start: int) -> str | None:
    """The unit of 每X written just before a figure (每千瓦时0.375元, 每个月只发给他200元)."""
    if norm.find("每", max(0, start - RATE_LOOKBACK), start) < 0:
        return None
    m = RATE_RE.search(norm, max(0, start - RATE_LOOKBACK), start)
    if m is None:
        return None
    words = m["per"]
    if unit := PER_RE.match(words):
        return PER_WORDS[unit.group()]
    if words[0] in CN_NUMERAL_CHARS:
        return None  # 每十万人: a rate base, read by the figure it belongs to
    return words[:2]


def pre_qualifier(norm: str, start: int) -> str:
    """约/近/超过/不到 … written just before the figure (or before 人民币 and the figure)."""
    if norm[start - 1:start] not in QUALIFIER_NEIGHBOURS:
        return "exact"  # most figures: neither a qualifier word nor 人民币 ends on the character before
    for word in WORDS_AFTER_QUALIFIER:  # 约合人民币3亿元, 超过了20%
        if norm.startswith(word, start - len(word)):
            start -= len(word)
            break
    if start == 0 or norm[start - 1] not in PRE_QUALIFIERS_BY_END:
        return "exact"  # most figures: no qualifier word ends on the character before
    for word, qualifier in PRE_QUALIFIERS_BY_END[norm[start - 1]]:
        if norm.startswith(word, start - len(word)):
            before = norm[start - len(word) - 1:start - len(word)] if start > len(word) else ""
            if before and before in NOT_QUALIFIER_AFTER.get(word, ""):
                continue
            return qualifier
    return "exact"


def money_context(norm: str, start: int, clause_start: int) -> bool:
    """A money word (奖金, 投资, 人民币 …) shortly before a bare numeral in its clause."""
    window = norm[max(clause_start, start - MONEY_CONTEXT_LOOKBACK):start]
    return any(word in window for word in MONEY_CONTEXT)


def _trailing_multiplier(numeral: str) -> str:
    return next((w for w in MULTIPLIER_ENDINGS if numeral.endswith(w)), "")


@lru_cache(maxsize=NUMERAL_CACHE_SIZE)  # asked of every figure; a text repeats its numerals
def _chinese(numeral: str) -> bool:
    return _DIGIT.search(numeral) is None
