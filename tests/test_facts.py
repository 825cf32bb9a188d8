"""Fact extraction: the reference page, and a table of cases taken from real sentences."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.growth import growth_ratios
from workers.pipeline.facts import extract_facts, reference_year
from workers.pipeline.records import Fact

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "corpus"
SEED = SHARED / "seed"
CASES = Path(__file__).resolve().parent / "data" / "fact_cases.jsonl"
SEED_YEAR = 2020
END_OF_ARTICLE = "来源:"


def _seed_parts() -> tuple[str, str]:
    """(article paragraphs joined by newlines, everything after the article)."""
    lines = (SEED / "page.txt").read_text(encoding="utf-8").split("\n")
    end = next(i for i, line in enumerate(lines) if line.startswith(END_OF_ARTICLE))
    article = "\n".join(line.strip() for line in lines[1:end] if line.strip())
    return article, "\n".join(lines[end + 1:])


def _gold() -> list[dict]:
    return [json.loads(line) for line in (SEED / "facts.gold.jsonl").read_text(encoding="utf-8").splitlines()]


def _longest_common(a: str, b: str) -> int:
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


def _names_same_thing(subject: str, gold: str) -> bool:
    """The subject is inside the gold subject, or the other way round, or they share 4+ characters."""
    return subject in gold or gold in subject or _longest_common(subject, gold) >= 4


seed_required = pytest.mark.skipif(not SEED.exists(), reason="shared corpus not mounted")


@seed_required
def test_seed_page_recall_precision_and_subjects() -> None:
    article, _ = _seed_parts()
    facts = extract_facts(article, SEED_YEAR)
    gold = _gold()
    matched: list[tuple[dict, Fact]] = []
    for g in gold:
        hits = [f for f in facts if f.surface == g["surface"] and f.value == Decimal(str(g["value"]))
                and f.unit == g["unit"] and _names_same_thing(f.subject, g["subject"])]
        if hits:
            matched.append((g, hits[0]))
    assert len(matched) >= 20, [g["surface"] for g in gold if g not in [m[0] for m in matched]]
    extras = len(facts) - len(matched)
    assert len(matched) / len(facts) >= 0.9, f"{extras} extra facts"
    for fact in facts:
        assert article[fact.span[0]:fact.span[1]] == fact.surface
        assert fact.sentence in article and fact.surface in fact.sentence


@seed_required
def test_seed_page_periods_and_changes() -> None:
    article, _ = _seed_parts()
    facts = {f.surface: f for f in extract_facts(article, SEED_YEAR)}
    for g in _gold()[:2]:
        fact = facts[g["surface"]]
        assert fact.period is not None and fact.period.text == g["period"]["text"]
        assert (fact.period.start, fact.period.end) == (g["period"]["start"], g["period"]["end"])
        assert fact.change is not None
        assert (fact.change.kind, fact.change.value, fact.change.unit) == (
            g["change"]["kind"], Decimal(str(g["change"]["value"])), g["change"]["unit"])
    assert facts["49个"].period == facts["2940.8亿元"].period  # the paragraph's period covers all three


@seed_required
def test_seed_page_noise_figures_never_come_from_the_article() -> None:
    """Figures of the recruitment post, the university post and the recommendations are not the article's.

    The pipeline passes the article's paragraphs only; the figures that occur only in the noise
    (16个教学学院, 28个省 …) must not show up, and a figure the two share (49个) must be read
    from the article's own sentence.
    """
    article, noise = _seed_parts()
    noise_surfaces = {f.surface for f in extract_facts(noise, SEED_YEAR)}
    noise_only = {s for s in noise_surfaces if s not in article}
    assert noise_only, "the noise has figures of its own, so this check is not vacuous"
    for fact in extract_facts(article, SEED_YEAR):
        assert fact.surface not in noise_only
        assert article[fact.span[0]:fact.span[1]] == fact.surface
        assert fact.sentence in article and fact.sentence not in noise


@seed_required
def test_seed_page_rejects_names_formulas_and_dates() -> None:
    article, _ = _seed_parts()
    surfaces = [f.surface for f in extract_facts(article, SEED_YEAR)]
    for not_a_fact in ("2020", "第四届", "10月", "6月", "1个", "6个", "24小时", "10亿元", "5000万元", "长春"):
        assert not_a_fact not in surfaces


def test_reference_year_prefers_title_then_dates() -> None:
    assert reference_year("【直击2020中德汽车大会】目标:万亿级产业集群", "2021-03-01", None) == 2020
    assert reference_year("万亿级产业集群", "2021-03-01T08:00:00+08:00", "2022-01-01") == 2021
    assert reference_year(None, None, "2022-01-01T00:00:00Z") == 2022
    assert reference_year("无年份", None, None) is None
    assert reference_year("第12345期", None, None) is None


def _case_id(case: dict) -> str:
    return case["sentence"][:24]


def _load_cases() -> list[dict]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


CASE_TABLE = _load_cases()


def test_a_figure_at_the_start_takes_no_qualifier_from_the_end_of_the_text() -> None:
    fact, = extract_facts("3亿元的产值约")
    assert (fact.value, fact.qualifier) == (Decimal("300000000"), "exact")
    assert extract_facts("产值约3亿元")[0].qualifier == "approx"


def test_a_figure_at_the_start_takes_no_sign_from_the_end_of_the_text() -> None:
    from workers.pipeline.quantities import find_quantities

    first, = find_quantities("30%股权转让-")
    assert (first.start, first.value) == (0, Decimal(30))
    assert find_quantities("增速为-6.1%")[0].value == Decimal("-6.1")
    assert find_quantities("零下5摄氏度")[0].value == Decimal(-5)


def test_case_table_is_large_and_real() -> None:
    assert len(CASE_TABLE) >= 300
    assert sum(1 for c in CASE_TABLE if not c["expected"]) >= 40


def _check(fact: Fact, want: dict, sentence: str) -> None:
    assert fact.value == Decimal(want["value"]), (fact.surface, fact.value)
    assert fact.unit == want["unit"], (fact.surface, fact.unit)
    assert fact.qualifier == want.get("qualifier", "exact"), (fact.surface, fact.qualifier)
    assert sentence[fact.span[0]:fact.span[1]] == fact.surface
    if "subject_contains" in want:
        assert want["subject_contains"] in fact.subject, (fact.surface, fact.subject)
    if "low" in want:
        assert (fact.low, fact.high) == (Decimal(want["low"]), Decimal(want["high"]))
    if "period" in want:
        assert fact.period is not None, fact.surface
        assert [fact.period.text, fact.period.start, fact.period.end] == want["period"]
    if "change" in want:
        assert fact.change is not None, fact.surface
        assert [fact.change.kind, str(fact.change.value), fact.change.unit] == want["change"]
    else:
        assert fact.change is None, (fact.surface, fact.change)


@pytest.mark.parametrize("case", CASE_TABLE, ids=_case_id)
def test_case(case: dict) -> None:
    facts = extract_facts(case["sentence"], case.get("reference_year"))
    surfaces = [f.surface for f in facts]
    for not_wanted in case.get("not", []):
        assert not_wanted not in surfaces, not_wanted
    if case.get("only", True):
        assert surfaces == [w["surface"] for w in case["expected"]]
    unused = list(facts)
    for want in case["expected"]:
        fact = next((f for f in unused if f.surface == want["surface"]), None)
        assert fact is not None, (want["surface"], surfaces)
        unused.remove(fact)
        _check(fact, want, case["sentence"])


def test_extraction_time_grows_linearly_on_real_and_hostile_text() -> None:
    """Real sentences and runs built to make a pattern backtrack: 10x the text may cost at most 15x the time."""
    real = "\n".join(c["sentence"] for c in CASE_TABLE)[:2_000]
    hostile = "1" * 500 + "万" * 300 + "一十百千" * 200 + "1,000" * 200 + "至" * 100
    for small in (real, hostile):
        linear, ratios = growth_ratios(lambda text: extract_facts(text, 2023), small, 10, 15, slack_s=0.02)
        assert linear, f"10x the text cost {', '.join(f'{r:.1f}x' for r in ratios)} the time"


SUITE = Path(__file__).resolve().parent / "data" / "quantity_suite.jsonl"
SUITE_CASES = [json.loads(line) for line in SUITE.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_quantity_suite_is_large_grouped_and_sourced() -> None:
    with_quantities = [c for c in SUITE_CASES if c["expected"]]
    assert len(with_quantities) >= 800
    assert sum(1 for c in SUITE_CASES if not c["expected"]) >= 150
    assert all(c["category"] and ("url" in c["source"] or {"file", "page"} <= set(c["source"])) for c in SUITE_CASES)


@pytest.mark.parametrize("case", SUITE_CASES, ids=_case_id)
def test_quantity_suite(case: dict) -> None:
    from workers.commands.facts import suite_failures

    assert suite_failures(case) == []


def test_rejections_are_named_and_counted() -> None:
    from workers.pipeline.facts import REJECTIONS, read_facts

    reading = read_facts("第四届大会于2020年举行，“24小时”服务热线，一个窗口，投资10亿元以上项目49个。", 2020)
    assert [f.surface for f in reading.facts] == ["49个"]
    assert set(reading.rejected) <= set(REJECTIONS)
    assert reading.rejected["date"] == 1 and reading.rejected["threshold"] == 1
    assert reading.rejected["name"] == 1 and reading.rejected["article"] == 1


def test_a_quantity_without_a_subject_is_kept_and_says_so() -> None:
    fact, = extract_facts("增长了百分之五十。")
    assert (fact.subject, fact.subject_method, fact.value, fact.unit) == (None, "none", Decimal(50), "%")
    rate, = extract_facts("价格是每千瓦时0.375元。")
    assert (rate.value, rate.unit, rate.per) == (Decimal("0.375"), "CNY", "kWh")


def test_a_matched_figure_reads_alone_as_where_it_stood() -> None:
    """Figures are read once per text and cached (quantities.Shape): that holds only if a matched text,
    matched alone, takes the same groups as in its sentence, whatever stands after it (上亿千米面). Every
    numeral form, unit word and character a guard looks for, in turn."""
    from workers.pipeline.quantities import PER_WORDS, QUANTITY_RE, UNIT_GUARDS, UNITS

    numerals = ["3", "一", "两万", "2.5", "三千", "上亿", "几十", "3余", "3千"]
    followers = ["", "X", *sorted({c for guard in UNIT_GUARDS.values() for c in guard if not c.isascii()})]
    for numeral in numerals:
        for word in sorted({*UNITS, *(f"元/{per}" for per in PER_WORDS)}):
            for follower in followers:
                text = numeral + word + follower
                for m in QUANTITY_RE.finditer(text):
                    alone = QUANTITY_RE.match(m.group())
                    assert alone is not None and alone.groupdict() == m.groupdict(), (text, m.group())


def test_quantity_pattern_time_grows_linearly() -> None:
    """Every quantity form at once, repeated: 10x the text may cost at most 15x the time."""
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    from workers.pipeline.quantities import find_quantities

    pieces = ["七八十万", "上亿元", "百分之", "分之", "1年8个月", "1天半", "每千瓦时0.375元", "8500元/平方米",
              "$1", "至", "～", "3万英亩", "数十亿", "十几", "8成", "3倍", "以上", "多", "奖金500万", "１２"]

    @settings(max_examples=20, deadline=None)
    @given(st.lists(st.sampled_from(pieces), min_size=1, max_size=40))
    @example(["至", "上亿元"])  # a range's second figure looks back for a change word: once from the text's start
    def check(parts: list[str]) -> None:
        unit = "".join(parts)
        small = unit * -(-20_000 // len(unit))

        linear, ratios = growth_ratios(find_quantities, small, 10, 15, slack_s=0.02)
        assert linear, f"10x the text cost {', '.join(f'{r:.1f}x' for r in ratios)} the time"

    check()
