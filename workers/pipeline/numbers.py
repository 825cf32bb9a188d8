"""Exact parsing of the numerals found in Chinese text.

Handles Arabic numerals with thousands separators and decimals (1,100.9), Chinese numerals in the
ordinary and the financial script (三千二百万, 叁仟贰佰万, 两, 零, 〇), any mix of the two with the
multipliers 十百千万亿 (2940.8亿, 十亿3000万), the spoken abbreviation of a trailing digit
(13万2 = 132000, 三万五 = 35000, 一百五 = 150), Chinese decimals (十四点三), signs (负3, -3) and
percentages written out (百分之十四点三).

Every result is an exact `decimal.Decimal`; no float is ever involved.
"""
from __future__ import annotations

import re
from decimal import Decimal

DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4,
    "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9,
    "玖": 9,
}
# Multipliers inside a section (below 万) and the two section markers.
SMALL_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
WAN, YI = 10**4, 10**8
BIG_UNITS: dict[str, int] = {"万": WAN, "萬": WAN, "亿": YI, "億": YI}

CN_DIGIT_CHARS = "".join(DIGITS)
CN_NUMERAL_CHARS = CN_DIGIT_CHARS + "".join(SMALL_UNITS) + "".join(BIG_UNITS)
NEGATIVE_SIGNS = ("负", "-", "−", "－")
PERCENT_WORD = "百分之"

# Regex source matching one numeral as it appears in running text; used by the fact extractor.
# One iteration per Chinese character, so the loop cannot split a digit run two ways, and every
# repetition is bounded: a scan from any position stops within a few dozen characters.
# 千 before 米/克/瓦 and 百 before 分 belong to a unit word (千米, 千克, 百分点), not to the number.
MAX_NUMERAL_PARTS = 16  # characters of a Chinese numeral; bounds the scan of any run
# Atomic: a digit run cut short leaves a digit, a point or a comma next, which no unit word or
# separator starts with, so re would try every shorter run after a figure without a unit in vain.
_ARABIC = r"(?>(?:\d{1,3}(?:,\d{3}){1,6}(?!\d)|\d{1,20})(?:\.\d{1,12})?)"
_CN_CHAR = rf"(?:[{CN_DIGIT_CHARS}十拾佰仟万萬亿億]|千(?![米克瓦])|百(?!分))"
_CN_DECIMAL = rf"(?:点[{CN_DIGIT_CHARS}]+)"
# The characters a numeral starts with, for a character class: a pattern can look ahead for one and
# so turn every other position of a text away at once.
_CN_FIRST_CHARS = CN_DIGIT_CHARS + "十拾"
NUMERAL_FIRST_CHARS = r"\d" + _CN_FIRST_CHARS
NUMERAL_PATTERN = (
    rf"(?:{_ARABIC}|[{_CN_FIRST_CHARS}])"
    rf"(?:{_CN_CHAR}(?:\d{{1,20}}(?:\.\d{{1,12}})?)?|{_CN_DECIMAL}){{0,{MAX_NUMERAL_PARTS}}}+"
)

_ARABIC_TOKEN = r"\d+(?:\.\d+)?"
_PLAIN_ARABIC_RE = re.compile(_ARABIC_TOKEN)
_TOKEN_RE = re.compile(
    rf"(?P<arabic>{_ARABIC_TOKEN})|(?P<point>点(?P<frac>[{CN_DIGIT_CHARS}]+))|(?P<char>[{CN_NUMERAL_CHARS}])"
)


def plain(value: Decimal) -> Decimal:
    """The same number without exponent or trailing zeros (294080000000.0 -> 294080000000)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _tokens(text: str) -> list[tuple[str, Decimal | str]] | None:
    """Split a numeral into ('num', Decimal) and ('unit', char) tokens; None if anything else."""
    out: list[tuple[str, Decimal | str]] = []
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        if m.start() != pos:
            return None
        pos = m.end()
        if m.group("arabic"):
            out.append(("num", Decimal(m.group("arabic"))))
        elif m.group("point"):
            out.append(("point", Decimal("0." + "".join(str(DIGITS[c]) for c in m.group("frac")))))
        elif (c := m.group("char")) in DIGITS:
            out.append(("num", Decimal(DIGITS[c])))
            if c in "零〇":
                out[-1] = ("zero", Decimal(0))
        else:
            out.append(("unit", c))
    return out if pos == len(text) and out else None


def _digits_only(text: str) -> Decimal | None:
    """A numeral written digit by digit (二〇二〇, 一九九八): positional, no multipliers.

    Two digits side by side (四五) are an estimate, "four or five", not forty-five.
    """
    if len(text) > 2 and all(c in DIGITS and c != "两" for c in text):
        return Decimal("".join(str(DIGITS[c]) for c in text))
    return None


def parse_number(text: str) -> Decimal | None:
    """Parse a numeral; None when the text is not a well-formed number.

    Sections work the usual way: digits times 十/百/千 add up to a section, 万 and 亿 scale the
    sections before them (万亿 = 10^12). A lone trailing digit after a multiplier of 百 or more
    stands for one order lower (三万五 = 35000), unless a 零 precedes it (一千零五 = 1005).
    """
    text = text.replace(",", "").strip()
    sign = Decimal(1)
    if text.startswith(NEGATIVE_SIGNS):
        sign, text = Decimal(-1), text[1:]  # every sign is one character
    if text.startswith("+"):
        text = text[1:]
    if _PLAIN_ARABIC_RE.fullmatch(text):
        return plain(sign * Decimal(text))  # 2940.8: the common case needs no tokens
    if text in DIGITS:
        return plain(sign * DIGITS[text])  # 一, 两: the other common one
    if (positional := _digits_only(text)) is not None:
        return plain(sign * positional)
    tokens = _tokens(text)
    if tokens is None:
        return None
    high = Decimal(0)  # sum of completed 亿-level parts
    mid = Decimal(0)  # completed 万-level part
    section = Decimal(0)  # below 万
    current: Decimal | None = None
    last_small = 10**5  # small multipliers must descend within a section
    last_unit = 1  # the multiplier just applied, for the trailing-digit abbreviation
    after_zero = False
    prev_kind = ""
    for kind, tok in tokens:
        if kind in ("num", "zero"):
            if current is not None and prev_kind != "zero":
                return None  # two digits side by side: 四五, 十三五
            current = tok if kind == "num" else current
            after_zero = after_zero or kind == "zero"
        elif kind == "point":
            if current is None and prev_kind != "unit":
                return None
            current = section + (current or 0) + tok
            section = Decimal(0)
        else:
            factor = SMALL_UNITS.get(tok)  # type: ignore[arg-type]
            if factor is not None:
                if factor >= last_small or (current is None and prev_kind not in ("", "zero") and section):
                    return None
                section += (current if current is not None else 1) * factor
                last_small = factor
            else:
                factor = BIG_UNITS[tok]  # type: ignore[index]
                part = section + (current or 0)
                if factor == YI:
                    high = (high + mid + part) * YI if part or mid else high * YI
                    if not (high or part or mid):
                        return None
                    mid = Decimal(0)
                else:
                    if part == 0:
                        return None
                    mid = part * WAN
                section, last_small = Decimal(0), 10**5
            current, last_unit, after_zero = None, factor, False
        prev_kind = kind
    if current is not None:
        last = tokens[-1][1]
        abbreviated = prev_kind == "num" and last < 10 and last == last.to_integral_value()
        if abbreviated and last_unit >= 100 and not after_zero and len(tokens) > 1:
            current *= last_unit // 10
        section += current
    return plain(sign * (high + mid + section))


def parse_percent(text: str) -> Decimal | None:
    """Percentage points of '百分之十四点三', '14.3%' or '14.3％' (-> Decimal('14.3'))."""
    text = text.strip()
    if text.startswith(PERCENT_WORD):
        return parse_number(text[len(PERCENT_WORD):])
    if text.endswith(("%", "％")):
        return parse_number(text[:-1])
    return None
