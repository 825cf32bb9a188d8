"""Reprints: signatures, the index (lookup, fold, window), the pipeline's marks, their messages and the
offline commands."""
from __future__ import annotations

import json
import numpy as np
import pytest

from workers.commands.process import OfflineMemory, result_line
from workers.commands.reprints import chrome_around_body, reprint_stream, site_of
from workers.messages import article_message, metric_messages, utc_now
from workers.pipeline import NO_MEMORY, Memory, process_page
from workers.pipeline.records import RawPage
from workers.pipeline.reprints import (
    MIN_SHINGLES,
    NUM_PERM,
    SIMILARITY_THRESHOLD,
    ReprintIndex,
    alike,
    body_signature,
    fetch_time,
    fold,
    index_entry,
)
from workers.renderings import hard_wrap, one_node_per_line

from .conftest import DEV, read_jsonl


@pytest.fixture(scope="module")
def finance_pages() -> list[dict]:
    return read_jsonl(DEV / "xmu-finance-news.jsonl")


def similarity(a: str, b: str) -> float:
    return np.count_nonzero(body_signature(a).minhash == body_signature(b).minhash) / NUM_PERM


def page(url: str, text: str, fetched_at: str | None = None) -> RawPage:
    return RawPage(url=url, text=text, fetched_at=fetched_at)


def run(index: ReprintIndex, raw: RawPage):
    """One page through the pipeline with the index, then folded into it, as `process` does."""
    result = process_page(raw, Memory(reprints=index))
    fold(index, index_entry(result, raw.fetched_at))
    return result


def test_a_body_keeps_its_signature_in_every_rendering(finance_pages):
    body = finance_pages[0]["gold"]["body"]
    assert similarity(body, one_node_per_line(body)) == 1.0
    assert similarity(body, hard_wrap(body)) == 1.0
    assert similarity(body, finance_pages[1]["gold"]["body"]) < 0.2


def test_a_body_too_short_to_tell_gets_no_signature():
    assert body_signature("本站郑重声明") is None
    assert body_signature("一" * (MIN_SHINGLES + 4)) is not None


def test_a_reprint_in_another_sites_chrome_is_marked_with_its_original(finance_pages):
    original, chrome_page = finance_pages[0], next(p for p in finance_pages if site_of(p) != site_of(finance_pages[0])
                                                   and chrome_around_body(p) is not None)
    before, after = chrome_around_body(chrome_page)
    index = ReprintIndex()
    first = run(index, page(original["url"], original["text"]))
    reprint = run(index, page("https://copy.example/1", "\n".join([*before, original["gold"]["body"], *after])))
    assert first.article.duplicate_of is None
    assert reprint.article.duplicate_of == first.article.id
    assert 0.7 <= reprint.article.similarity <= 1.0
    assert reprint.observations.signature is not None


def test_distinct_articles_of_one_site_are_not_marked(finance_pages):
    index = ReprintIndex()
    same_site = [p for p in finance_pages if site_of(p) == site_of(finance_pages[0])][:20]
    results = [run(index, page(p["url"], p["text"])) for p in same_site]
    assert len(index) >= 15  # most have a signature
    assert [r.article.duplicate_of for r in results] == [None] * len(results)


def test_the_same_url_fetched_again_is_no_reprint(finance_pages):
    index = ReprintIndex()
    text = finance_pages[0]["text"]
    run(index, page("https://example.cn/a", text))
    changed = run(index, page("https://example.cn/a", text.replace("。", "。\n", 3)))
    assert changed.article.duplicate_of is None


def test_a_replayed_page_gets_its_first_mark_and_is_folded_once(finance_pages):
    index = ReprintIndex()
    text = finance_pages[0]["text"]
    original = run(index, page("https://example.cn/a", text))
    copy = run(index, page("https://copy.example/a", text))
    folded = index.folded
    # Replayed after its copy: the original is not a reprint of its own copy; the copy keeps its mark.
    assert run(index, page("https://example.cn/a", text)).article.duplicate_of is None
    again = run(index, page("https://copy.example/a", text))
    assert (again.article.duplicate_of, again.article.similarity) == (original.article.id, copy.article.similarity)
    assert index.folded == folded


def test_a_copy_of_a_copy_names_the_copy_it_is_most_alike(finance_pages):
    index = ReprintIndex()
    body = finance_pages[0]["gold"]["body"]
    paragraphs = body.splitlines()
    original = run(index, page("https://example.cn/a", "\n".join(paragraphs[:-1])))  # its last paragraph lost
    copy = run(index, page("https://copy.example/b", body))
    third = run(index, page("https://copy.example/c", one_node_per_line(body)))
    assert copy.article.duplicate_of == original.article.id and copy.article.similarity < 1.0
    assert (third.article.duplicate_of, third.article.similarity) == (copy.article.id, 1.0)


def test_equally_alike_copies_give_the_smallest_id_whatever_the_order(finance_pages):
    text = finance_pages[0]["text"]
    copies = [process_page(page(f"https://copy.example/{n}", text)) for n in range(3)]
    smallest = min(copy.article.id for copy in copies)
    for order in (copies, copies[::-1]):
        index = ReprintIndex()
        for copy in order:
            fold(index, index_entry(copy, None))
        assert run(index, page("https://copy.example/late", text)).article.duplicate_of == smallest


def test_an_original_fetched_longer_ago_than_the_window_is_not_matched(finance_pages):
    text = finance_pages[0]["text"]
    index = ReprintIndex(max_age_s=86_400)
    run(index, page("https://example.cn/a", text, "2024-05-01T08:00:00Z"))
    assert run(index, page("https://copy.example/a", text, "2024-05-03T08:00:00Z")).article.duplicate_of is None
    index = ReprintIndex(max_age_s=86_400)
    original = run(index, page("https://example.cn/a", text, "2024-05-01T08:00:00Z"))
    late = run(index, page("https://copy.example/a", text, "2024-05-01T20:00:00+00:00"))
    assert late.article.duplicate_of == original.article.id


def test_fetch_times_that_do_not_place_a_page_are_none():
    assert fetch_time(None) is None
    assert fetch_time("yesterday") is None
    assert fetch_time("2024-05-01T08:00:00") is None  # no zone: not comparable across scrapers
    assert fetch_time("2024-05-01T08:00:00Z") == fetch_time("2024-05-01T16:00:00+08:00")


def test_the_ring_evicts_the_oldest_and_merges_keep_lookups_right(finance_pages):
    index = ReprintIndex(capacity=8)
    index.MERGE_EVERY = 3  # merges happen among the folds and after the ring wraps
    bodies = [p["gold"]["body"] for p in finance_pages if site_of(p) == site_of(finance_pages[0])
              and body_signature(p["gold"]["body"]) is not None][:12]
    for n, body in enumerate(bodies):
        result = process_page(page(f"https://example.cn/{n}", body))
        assert result.observations.signature is not None
        fold(index, index_entry(result, None))
    assert len(index) == 8 and index.folded == 12
    found = [index.match(body_signature(body), "0" * 32, f"https://copy.example/{n}", None) for n, body in enumerate(bodies)]
    assert [f is None for f in found] == [True] * 4 + [False] * 8


def test_without_memory_nothing_is_marked_but_the_signature_is_returned(finance_pages):
    result = process_page(page("https://example.cn/a", finance_pages[0]["text"]), NO_MEMORY)
    assert result.article.duplicate_of is None and result.article.similarity is None
    assert result.observations.signature is not None
    assert "reprints" in result.timings


def test_marks_are_published_on_the_article_and_its_facts(finance_pages, validators):
    index = ReprintIndex()
    text = next(p["text"] for p in finance_pages if process_page(page("u", p["text"])).facts)
    original = run(index, page("https://example.cn/a", text))
    copy = run(index, page("https://copy.example/a", text))
    for result, mark in ((original, None), (copy, original.article.id)):
        article = article_message(result, utc_now())
        assert article["duplicate_of"] == mark
        assert not list(validators["article"].iter_errors(article))
        metrics = metric_messages(result)
        assert metrics and {m["duplicate_of"] for m in metrics} == {mark}
        for record in metrics:
            assert not list(validators["metric"].iter_errors(record))


def test_process_marks_in_input_order_and_drops_when_told(finance_pages):
    text = finance_pages[0]["text"]
    lines = [json.dumps({"url": url, "text": text}, ensure_ascii=False).encode() for url in
             ("https://example.cn/a", "https://copy.example/a")]
    index = ReprintIndex()
    first, second = (result_line(line, 1 << 21, OfflineMemory(index)) for line in lines)
    assert first["article"]["duplicate_of"] is None
    assert second["article"]["duplicate_of"] == first["article"]["id"]
    index = ReprintIndex()
    first, second = (result_line(line, 1 << 21, OfflineMemory(index), drop_reprints=True) for line in lines)
    assert "article" in first
    assert "article" not in second and "metrics" not in second
    assert second["dropped"]["duplicate_of"] == first["article"]["id"]


def test_the_reprint_set_puts_each_body_in_another_sites_chrome_after_its_original(finance_pages):
    corpus = [("xmu-finance-news.jsonl", p) for p in finance_pages[::15]]  # pages of every site
    stream, too_short = reprint_stream(corpus)
    assert stream == reprint_stream(corpus)[0]  # seeded: the same set every run
    originals = {p.story: (n, p) for n, p in enumerate(stream) if p.rendering is None}
    reprints = [(n, p) for n, p in enumerate(stream) if p.rendering is not None]
    assert len(reprints) == 3 * (len(corpus) - too_short)
    assert {p.rendering for _, p in reprints} == {"as_is", "one_node_per_line", "hard_wrap_38"}
    for n, reprint in reprints:
        at, original = originals[reprint.story]
        assert at < n and reprint.raw.url != original.raw.url and reprint.site != original.site
        gold = finance_pages[[p["url"] for p in finance_pages].index(original.raw.url)]["gold"]["body"]
        assert "".join(gold.split()) in "".join(reprint.raw.text.split())


def test_chrome_leaves_out_every_line_of_the_lenders_own_body(finance_pages):
    lender = next(p for p in finance_pages if chrome_around_body(p) is not None)
    before, after = chrome_around_body(lender)
    gold = "".join(lender["gold"]["body"].split())
    assert before or after
    assert not [line for line in before + after if "".join(line.split()) and "".join(line.split()) in gold]


def test_a_body_nearly_all_inside_a_longer_one_is_the_same_story(finance_pages):
    bodies = sorted((p["gold"]["body"] for p in finance_pages if site_of(p) == site_of(finance_pages[0])), key=len)
    story, other = bodies[-1], next(b for b in bodies if 0.4 * len(bodies[-1]) < len(b) < 0.6 * len(bodies[-1]))
    index = ReprintIndex()
    original = process_page(page("https://example.cn/a", story))
    fold(index, index_entry(original, None))
    longer = body_signature(story + "\n" + other)  # the story with another article's text after it
    assert similarity(story, story + "\n" + other) < SIMILARITY_THRESHOLD
    assert index.match(longer, "0" * 32, "https://copy.example/a", None).duplicate_of == original.article.id
    half = body_signature(story[:len(story) // 2] + "\n" + other)  # half of the story is not the story
    assert index.match(half, "0" * 32, "https://copy.example/b", None) is None


def test_a_story_inside_a_page_two_and_a_half_times_its_size_is_found(finance_pages):
    # at a similarity the 4-row bands reach one time in three
    bodies = sorted((p["gold"]["body"] for p in finance_pages if site_of(p) == site_of(finance_pages[0])), key=len)
    story = bodies[len(bodies) // 2]
    others = "\n".join(b for b in bodies if b != story)[:len(story) * 3 // 2]
    index = ReprintIndex()
    original = process_page(page("https://example.cn/a", story))
    fold(index, index_entry(original, None))
    assert 0.25 <= similarity(story, story + "\n" + others) < 0.45
    found = index.match(body_signature(story + "\n" + others), "0" * 32, "https://copy.example/a", None)
    assert found is not None and found.duplicate_of == original.article.id


def test_alike_is_similar_enough_or_nearly_all_inside():
    assert alike(0.7, 1000, 1000) and not alike(0.69, 1000, 1000)
    assert alike(0.5, 1000, 2000)  # the smaller's 1000 shingles all in the larger's
    assert not alike(0.5, 1000, 1000)  # a third of each outside the other
    assert alike(0.25, 1000, 4000)  # all inside a larger body four times its size
    assert not alike(0.2, 1000, 5000)  # all inside, but too small a part of the larger to tell
    assert list(alike(np.array([0.5, 0.5]), np.array([1000, 2000]), 2000)) == [True, False]  # as arrays, as the index asks
