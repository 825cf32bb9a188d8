"""Hostile text: the pipeline never raises, and its cost grows linearly with the input."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.growth import growth_ratios
from workers.messages import article_message, metric_messages, segment_message, utc_now
from workers.pipeline import process_page
from workers.pipeline.records import RawPage

GROWTH = 10
ALLOWED_TIME_RATIO = 15.0  # 10x the input may cost at most 15x the time

# Text drawn from everything Unicode has, with a bias towards what breaks text code: CJK, digits
# and number words, brackets, line breaks, control and zero-width characters.
hostile_alphabet = st.one_of(
    st.characters(),
    st.sampled_from(list("长春亿万元年月日至同比增长%．。，！？：:（）()【】《》“”#•①\n\n\r\t\x00\x0b\u200b\u3000\ufeff")),
    st.sampled_from(list("0123456789一二三四五六七八九十百千万亿两零")),
)


def check_result(text: str, validators=None) -> None:
    result = process_page(RawPage(url="https://hostile.example.cn/", text=text))
    messages = [article_message(result, utc_now()), *metric_messages(result),
                *(segment_message(result, s) for s in result.segments)]
    if validators:
        assert not list(validators["article"].iter_errors(messages[0]))
        for record in metric_messages(result):
            assert not list(validators["metric"].iter_errors(record))
    for fact in result.facts:
        assert result.article.body[fact.span[0]:fact.span[1]] == fact.surface


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=hostile_alphabet, max_size=3000))
def test_arbitrary_text_never_raises(text):
    check_result(text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.text(alphabet=hostile_alphabet, min_size=1, max_size=200), min_size=1, max_size=60))
def test_arbitrary_lines_give_schema_valid_messages(lines, validators):
    check_result("\n".join(lines), validators)


EXTREMES = {
    "one long han line": "长" * 100_000,
    "repeated digits": "1" * 100_000,
    "digits and units": "3亿元" * 30_000,
    "deep brackets": "(" * 50_000 + "正文" + ")" * 50_000,
    "deep full-width brackets": "（【《" * 30_000,
    "control characters": "".join(chr(c) for c in range(32)) * 3000,
    "blank lines": "\n" * 100_000,
    "one char per line": "字\n" * 50_000,
    "punctuation only": "。，！？" * 25_000,
    "mixed scripts": "English 中文 繁體 123 ① #话题# 👍 " * 5000,
    "lone surrogates": "正文\ud800内容\udfff。第二句话。\n" * 3000,
}


@pytest.mark.parametrize("name", EXTREMES)
def test_extreme_inputs_never_raise(name, validators):
    check_result(EXTREMES[name], validators)


SMALL_CHARS = 40_000  # large enough that fixed costs and timer noise don't decide the ratio

GROWTH_UNITS = {
    "real page": None,  # filled from the reference page
    "long han run": "长春汽车产业集群加速集聚" * 200,
    "numbers and units": "产值2940.8亿元，同比增长14.3%；投资5000万元以上项目165个。" * 40,
    "brackets": "(" * 1000 + "）】" * 500,
    "short lines": "发布\n👍 0\n举报\n写留言\n" * 200,
}


@pytest.mark.parametrize("name", GROWTH_UNITS)
def test_time_grows_linearly(name, seed_text):
    unit = GROWTH_UNITS[name] or seed_text
    small = unit * -(-SMALL_CHARS // len(unit))
    linear, ratios = growth_ratios(lambda text: process_page(RawPage(url="u", text=text)), small, GROWTH, ALLOWED_TIME_RATIO)
    assert linear, f"{name}: {GROWTH}x the input took {', '.join(f'{r:.1f}x' for r in ratios)} the CPU time"
