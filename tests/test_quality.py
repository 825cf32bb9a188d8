"""Content quality on the dev corpus, in the original rendering and re-rendered, scored exactly as
`workers eval` scores it."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import SHARED
from workers.evaluate import (
    MAX_RENDERING_GAP, RENDERINGS, TARGETS, bag_of_words_prf, extract_body, macro, seed_report,
)
from workers.renderings import hard_wrap, one_node_per_line

ALL_RENDERINGS: dict[str, Callable[[str], str]] = {"original": lambda text: text, **RENDERINGS}
# Over all dev pages, a rendering's F1 stays this close to the original's.
MAX_OVERALL_RENDERING_GAP = 0.03


@pytest.fixture(scope="module")
def scores(dev_pages: list[dict]) -> dict[str, dict[str, tuple[float, float, float]]]:
    """Macro P/R/F1 per rendering, overall and per origin (each origin here is one corpus file)."""
    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name, render in ALL_RENDERINGS.items():
        rows = [(p["origin"], bag_of_words_prf(extract_body(p["url"], render(p["text"])), p["gold"]["body"])) for p in dev_pages]
        out[name] = {"overall": macro(r for _, r in rows)}
        for origin in {o for o, _ in rows}:
            out[name][origin.rsplit("/", 1)[-1]] = macro(r for o, r in rows if o == origin)
    return out


def test_scoring_is_bag_of_words_overlap() -> None:
    assert bag_of_words_prf("长春国际汽车城", "长春国际汽车城") == (1.0, 1.0, 1.0)
    p, r, f = bag_of_words_prf("长春 汽车 城市 ！！", "长春 汽车")
    assert (p, r) == (2 / 3, 1.0) and abs(f - 0.8) < 1e-9
    assert bag_of_words_prf("", "长春") == (0.0, 0.0, 0.0)
    assert bag_of_words_prf("，。", "") == (1.0, 1.0, 1.0)


def test_cleaning_beats_keeping_the_whole_page(scores, dev_pages: list[dict]) -> None:
    """Dropping noise must pay on every kind of page: higher precision and F1 than the raw text as body.
    (The quality targets themselves are figures of `workers eval`, which prints them.)"""
    for origin in ("article", "forum"):
        pages = [p for p in dev_pages if p["origin"].endswith(origin)]
        whole = macro(bag_of_words_prf(p["text"], p["gold"]["body"]) for p in pages)
        cleaned = scores["original"][origin]
        assert cleaned[0] > whole[0] and cleaned[2] > whole[2], (origin, cleaned, whole)


@pytest.mark.parametrize("target", TARGETS, ids=[t[0] for t in TARGETS])
def test_dev_corpus_meets_the_target(scores, target) -> None:
    name, origin, index, least = target
    assert scores["original"][origin][index] >= least, (name, scores["original"])


@pytest.mark.parametrize("rendering", ["one_node_per_line", "hard_wrap_38"])
def test_other_renderings_score_like_the_original(scores, rendering: str) -> None:
    gap = scores["original"]["overall"][2] - scores[rendering]["overall"][2]
    assert gap <= MAX_OVERALL_RENDERING_GAP, (rendering, scores[rendering]["overall"], scores["original"]["overall"])


@pytest.mark.parametrize("rendering", ["one_node_per_line", "hard_wrap_38"])
def test_other_renderings_score_like_the_original_on_every_file(scores, rendering: str) -> None:
    gaps = {o: scores["original"][o][2] - scores[rendering][o][2] for o in ("article", "forum")}
    assert gaps["article"] <= MAX_RENDERING_GAP, (rendering, gaps)
    assert gaps["forum"] <= MAX_RENDERING_GAP, (rendering, gaps)


def test_renderings_really_change_the_layout(dev_pages: list[dict]) -> None:
    text = dev_pages[0]["text"]
    nodes, wrapped = one_node_per_line(text), hard_wrap(text, 38)
    assert "\n\n" not in nodes and len(nodes.splitlines()) > len(text.splitlines())
    assert max(len(line) for line in wrapped.splitlines()) <= 38
    assert one_node_per_line(text) == nodes and hard_wrap(text, 38) == wrapped


def test_reference_page_lines_in_the_eval_report() -> None:
    labels, sides = seed_report(SHARED)[:2]
    assert float(labels.rsplit("=", 1)[1]) >= 0.95, labels
    assert sides.endswith("= 1.0000"), sides
