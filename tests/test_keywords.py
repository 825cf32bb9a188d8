"""Keywords: only the article is tokenised, once, and a long article only in a bounded sample; the
native tokeniser cuts real text as jieba does; the dictionaries are kept out of the garbage collector's way."""
from __future__ import annotations

import gc
from collections import Counter

import jieba.analyse

from workers.pipeline import keywords, process_page
from workers.pipeline.keywords import (SAMPLE_CHARS, agreeing_tokens, article_keywords, jieba_tokens, keyword_overlap,
                                       keyword_text, load_dictionary, reference_tokens, top_keywords)
from workers.pipeline.records import RawPage


def test_only_the_article_is_tokenised_and_only_once(seed_text: str, monkeypatch) -> None:
    tokenised: list[str] = []

    def spy(text: str) -> list[str]:
        tokenised.append(text)
        return jieba_tokens(text)

    monkeypatch.setattr(keywords, "jieba_tokens", spy)
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
    whole = top_keywords(jieba_tokens("\n".join(paragraphs)))
    assert len(keyword_text(paragraphs)) <= SAMPLE_CHARS
    assert article_keywords(paragraphs)[:3] == whole[:3] and whole[0] == "氢能"


def test_the_idf_table_is_left_out_of_full_collections() -> None:
    try:
        load_dictionary()
        # Frozen objects are in the collector's permanent generation: no collection walks them.
        assert gc.get_freeze_count() > 0
        assert not any(obj is jieba.analyse.default_tfidf.idf_freq for obj in gc.get_objects())
    finally:
        gc.unfreeze()


def test_agreement_counts_tokens_cut_at_the_same_place() -> None:
    assert agreeing_tokens(["长春", "汽车城"], ["长春", "汽车", "城"]) == 1
    assert agreeing_tokens(["长春", "汽车城"], ["长", "春汽车城"]) == 0
    assert agreeing_tokens(["汽车", "汽车"], ["汽车", "汽车"]) == 2  # the same word twice is two tokens
    assert keyword_overlap(["长春", "一汽"], ["长春", "汽车"]) == 1 / 3
    assert keyword_overlap([], []) == 1.0


def test_the_native_tokeniser_cuts_real_pages_as_jieba_does(seed_text: str, dev_pages: list[dict]) -> None:
    """On the seed page and the gold bodies of the magic-html pages: at least 99 % of jieba's tokens cut the
    same, and keyword sets (jieba's IDF table on both sides) that overlap by at least 0.97 on average."""
    texts = [seed_text] + [page["gold"]["body"] for page in dev_pages]
    reference = [reference_tokens(text) for text in texts]
    native = [jieba_tokens(text) for text in texts]
    assert sum(agreeing_tokens(r, n) for r, n in zip(reference, native)) >= 0.99 * sum(map(len, reference)) > 50_000
    overlaps = [keyword_overlap(top_keywords(r), top_keywords(n)) for r, n in zip(reference, native)]
    assert sum(overlaps) / len(overlaps) >= 0.97
    assert top_keywords(native[0]) == top_keywords(reference[0])


def test_the_best_terms_are_those_of_a_full_ranking(dev_pages: list[dict]) -> None:
    """Stopping early among rare tokens never changes the result: count × IDF, best first, ties by token."""
    idf, median = jieba.analyse.default_tfidf.idf_freq, jieba.analyse.default_tfidf.median_idf
    for page in dev_pages[:30]:
        counts = Counter(jieba_tokens(page["gold"]["body"]))
        ranked = sorted((t for t in counts if keywords._WORDLIKE.match(t) and len(t) >= 2),
                        key=lambda t: (-counts[t] * idf.get(t, median), t))
        for count in (1, 8, 40):
            assert top_keywords(counts.elements(), count) == tuple(ranked[:count])
