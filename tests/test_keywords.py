"""Keywords: only the article is tokenised, once, and a long article only in a bounded sample; the
dictionary is loaded up front and kept out of the garbage collector's way."""
from __future__ import annotations

import gc

import jieba

from workers.pipeline import keywords, process_page
from workers.pipeline.keywords import SAMPLE_CHARS, article_keywords, keyword_text, load_dictionary, top_keywords
from workers.pipeline.records import RawPage


def test_only_the_article_is_tokenised_and_only_once(seed_text: str, monkeypatch) -> None:
    tokenised: list[str] = []
    lcut = jieba.lcut

    def spy(text: str, HMM: bool = True) -> list[str]:
        tokenised.append(text)
        return lcut(text, HMM=HMM)

    monkeypatch.setattr(keywords.jieba, "lcut", spy)
    result = process_page(RawPage(url="", text=seed_text))
    assert tokenised == ["\n".join(result.article.paragraphs)]
    dropped = [s.text for s in result.segments if s.label not in ("title", "heading", "paragraph", "list_item", "caption")]
    assert len(dropped) > 40 and not any(text in tokenised[0] for text in dropped if len(text) > 12)
    assert {"汽车城", "长春", "一汽"} <= set(result.article.keywords)


def test_a_short_article_is_counted_whole() -> None:
    paragraphs = ["长春汽车产业加快发展。", "一汽集团新项目投产。"]
    assert keyword_text(paragraphs) == "\n".join(paragraphs)


def test_a_long_article_is_sampled_evenly_and_within_the_budget() -> None:
    paragraphs = [f"第{n}段：新能源汽车产业园区建设稳步推进，" + "项目投资持续增长。" * 40 for n in range(400)]
    text = keyword_text(paragraphs)
    assert len(text) <= SAMPLE_CHARS < sum(map(len, paragraphs)) / 10
    kept = [p for p in paragraphs if p in text]
    assert paragraphs[0] in kept and len(kept) >= 5
    assert int(kept[-1][1:kept[-1].index("段")]) > 300  # the sample reaches the end, not just the lead


def test_one_huge_paragraph_is_cut_to_the_budget() -> None:
    assert len(keyword_text(["汽车" * 500_000])) == SAMPLE_CHARS


def test_a_long_article_keeps_the_keywords_of_its_whole_text() -> None:
    fillers = ["园区道路改造完成。", "企业招工人数增加。", "装备制造订单饱满。", "技术人员开展培训。", "运输车辆陆续进场。"]
    paragraphs = [f"第{n}期：氢能项目在园区落地，氢能重卡示范运营，" + fillers[n % 5] * 3 for n in range(600)]
    whole = top_keywords(jieba.lcut("\n".join(paragraphs), HMM=False))
    assert len(keyword_text(paragraphs)) <= SAMPLE_CHARS
    assert article_keywords(paragraphs)[:3] == whole[:3] and whole[0] == "氢能"


def test_the_dictionary_is_loaded_up_front_and_left_out_of_full_collections() -> None:
    try:
        load_dictionary()
        assert jieba.dt.initialized
        # Frozen objects are in the collector's permanent generation: no collection walks them.
        assert gc.get_freeze_count() > 0
        assert not any(obj is jieba.dt.FREQ for obj in gc.get_objects())
    finally:
        gc.unfreeze()
