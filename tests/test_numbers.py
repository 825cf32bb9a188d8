"""Exact numeral parsing."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from workers.pipeline.numbers import NUMERAL_PATTERN, parse_number, parse_percent

NUMBERS = [
    ("1,100万", "11000000"),
    ("1,100.9亿", "110090000000"),
    ("2940.8亿", "294080000000"),
    ("104.6亿", "10460000000"),
    ("48.93亿", "4893000000"),
    ("62万", "620000"),
    ("13万2", "132000"),
    ("三万五", "35000"),
    ("一百五", "150"),
    ("十亿3000万", "1030000000"),
    ("三千二百万", "32000000"),
    ("叁仟贰佰万", "32000000"),
    ("壹佰零伍", "105"),
    ("一千零五", "1005"),
    ("一百零一", "101"),
    ("两千", "2000"),
    ("两万", "20000"),
    ("十", "10"),
    ("十五", "15"),
    ("二十", "20"),
    ("三十", "30"),
    ("九十九", "99"),
    ("一万零二百", "10200"),
    ("十四点三", "14.3"),
    ("三点五亿", "350000000"),
    ("1.5万亿", "1500000000000"),
    ("13.81万亿", "13810000000000"),
    ("一亿", "100000000"),
    ("3万2000", "32000"),
    ("二〇二〇", "2020"),
    ("一九九八", "1998"),
    ("负3", "-3"),
    ("-3", "-3"),
    ("-3.5", "-3.5"),
    ("3.50", "3.5"),
    ("0.29", "0.29"),
    ("93,708,580", "93708580"),
    ("零", "0"),
    ("〇", "0"),
    ("五千万", "50000000"),
    ("拾", "10"),
]

NOT_NUMBERS = ["四五", "十三五", "万", "亿", "三四十", "", "abc", "一汽", "十十"]


@pytest.mark.parametrize(("text", "value"), NUMBERS)
def test_parse_number(text: str, value: str) -> None:
    parsed = parse_number(text)
    assert parsed == Decimal(value)
    assert isinstance(parsed, Decimal)
    assert "E" not in str(parsed)


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_not_a_number(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("百分之十四点三", "14.3"), ("14.3%", "14.3"), ("14.3％", "14.3"), ("百分之五十", "50"), ("百分之百", "100")],
)
def test_parse_percent(text: str, value: str | None) -> None:
    assert parse_percent(text) == (Decimal(value) if value else None)


@pytest.mark.parametrize(
    ("text", "numeral"),
    [("2940.8亿元", "2940.8亿"), ("13万2人", "13万2"), ("5千米", "5"), ("3个百分点", "3"), ("一汽", "一"),
     ("1,100万元", "1,100万"), ("10,同比", "10"), ("十亿3000万元", "十亿3000万"), ("百分点", None)],
)
def test_numeral_pattern_stops_at_unit_words(text: str, numeral: str | None) -> None:
    m = re.match(NUMERAL_PATTERN, text)
    assert (m.group() if m else None) == numeral


def test_numeral_pattern_is_linear() -> None:
    import time

    hostile = "1万" * 20000 + "x"
    start = time.perf_counter()
    re.findall(NUMERAL_PATTERN + "元", hostile)
    assert time.perf_counter() - start < 0.5
