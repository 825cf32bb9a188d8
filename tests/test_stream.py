"""End to end on the real broker: a worker process, pages in with aiokafka, outputs read back."""
from __future__ import annotations

import struct
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from workers.settings import client_options

from .conftest import consume_until, produce

pytestmark = pytest.mark.kafka
SEED_URL = "https://example.cn/news/changchun-auto-city"


def short_page(url: str) -> dict:
    return {"url": url, "text": "标题\n\n第一段正文，内容充实。\n\n第二段正文也很充实。"}


def articles_and_metrics_done(settings, expected_articles: int):
    """All articles are in, with every metric record (and every audit segment, when read) they count."""
    def done(seen):
        articles = [value for _, value in seen[settings.topic_articles]]
        facts = sum(a["fact_count"] for a in articles)
        segments = sum(sum(a["kept"].values()) + sum(a["dropped"].values()) for a in articles)
        return (len(articles) >= expected_articles and len(seen[settings.topic_metrics]) >= facts
                and len(seen.get(settings.topic_segments, ())) >= (segments if settings.topic_segments in seen else 0))
    return done


async def test_reference_and_dev_pages_end_to_end(topics_for, start_worker, seed_text, dev_pages, validators):
    settings = await topics_for(audit=True)
    start_worker(settings)
    pages = [{"url": SEED_URL, "text": seed_text, "page_id": "seed", "fetched_at": "2020-10-20T08:00:00Z"}]
    pages += [{"url": p["url"], "text": p["text"], "page_id": p["id"]} for p in dev_pages[:20]]
    await produce(settings, [(p["url"].encode(), orjson.dumps(p)) for p in pages])

    seen = await consume_until(settings, [settings.topic_articles, settings.topic_metrics, settings.topic_deadletter,
                                          settings.topic_segments],
                               articles_and_metrics_done(settings, len(pages)), timeout=180)

    assert seen[settings.topic_deadletter] == []
    articles = {key.decode(): value for key, value in seen[settings.topic_articles]}
    assert set(articles) == {p["url"] for p in pages}
    for value in articles.values():
        assert not list(validators["article"].iter_errors(value))
    for key, value in seen[settings.topic_metrics]:
        assert not list(validators["metric"].iter_errors(value))
        assert value["url"] == key.decode()

    audit = [value for key, value in seen[settings.topic_segments] if key.decode() == SEED_URL]
    for value in audit:
        assert not list(validators["segment"].iter_errors(value))
    assert {s["label"] for s in audit} >= {"title", "heading", "paragraph", "source", "recommendation"}

    seed = articles[SEED_URL]
    assert "长春国际汽车城建设纪实" in seed["title"]
    assert seed["source"] == "吉林日报"
    assert seed["page_id"] == "seed"
    assert "10月的北国长春" in seed["body"] and "绘出更新更美的明天" in seed["body"]
    for noise in ("CFW招聘", "湖南科技学院", "举报", "热门推荐", "来源:吉林日报"):
        assert noise not in seed["body"]
    seed_metrics = [v for k, v in seen[settings.topic_metrics] if k.decode() == SEED_URL]
    money = {(Decimal(m["value"]), m["unit"]) for m in seed_metrics}
    assert {(Decimal("294080000000"), "CNY"), (Decimal("10460000000"), "CNY")} <= money
    output = next(m for m in seed_metrics if Decimal(m["value"]) == Decimal("294080000000"))
    assert output["period"]["start"] == "2020-01" and output["period"]["end"] == "2020-08"
    assert output["change"] == {"kind": "yoy", "value": "14.3", "unit": "%"}


async def test_same_page_twice_gives_identical_ids(topics_for, start_worker, seed_text):
    settings = await topics_for()
    start_worker(settings)
    page = orjson.dumps({"url": SEED_URL, "text": seed_text})
    await produce(settings, [(SEED_URL.encode(), page), (SEED_URL.encode(), page)])

    seen = await consume_until(settings, [settings.topic_articles, settings.topic_metrics],
                               articles_and_metrics_done(settings, 2))
    first, second = (value for _, value in seen[settings.topic_articles])
    assert first["id"] == second["id"] and first["content_hash"] == second["content_hash"]
    assert first["body"] == second["body"]
    metric_ids = [value["id"] for _, value in seen[settings.topic_metrics]]
    assert len(metric_ids) == 2 * first["fact_count"] > 0
    assert sorted(metric_ids[: first["fact_count"]]) == sorted(metric_ids[first["fact_count"]:])


async def test_bad_message_goes_to_dead_letters_and_worker_continues(topics_for, start_worker, validators):
    settings = await topics_for()
    start_worker(settings)
    good = {"url": "https://example.cn/a", "text": "第一段正文，内容充实。\n\n第二段正文也很充实，说明了很多事情。"}
    await produce(settings, [(b"bad", b"{not json"), (b"https://example.cn/a", orjson.dumps(good))])

    seen = await consume_until(settings, [settings.topic_articles, settings.topic_deadletter],
                               lambda s: s[settings.topic_articles] and s[settings.topic_deadletter])
    (key, dead), = seen[settings.topic_deadletter]
    assert key == b"bad" and dead["reason"] == "not_json"
    assert not list(validators["deadletter"].iter_errors(dead))


async def test_pages_compressed_with_every_kafka_codec_are_read(topics_for, start_worker):
    settings = await topics_for()
    start_worker(settings)
    codecs = ("gzip", "snappy", "lz4", "zstd")
    for codec in codecs:
        page = short_page(f"https://example.cn/{codec}")
        await produce(settings, [(page["url"].encode(), orjson.dumps(page))], compression_type=codec)

    seen = await consume_until(settings, [settings.topic_articles, settings.topic_deadletter],
                               lambda s: len(s[settings.topic_articles]) + len(s[settings.topic_deadletter]) >= len(codecs))
    assert seen[settings.topic_deadletter] == []
    assert {key.decode() for key, _ in seen[settings.topic_articles]} == {f"https://example.cn/{c}" for c in codecs}


def batch_codecs(log_dir: Path, topic: str) -> set[int]:
    """The compression codec of every record batch in a topic's log segments on a local broker's disk
    (the low three bits of a v2 batch's attributes, 21 bytes into its header; 4 is zstd)."""
    codecs = set()
    for segment in log_dir.glob(f"{topic}-*/*.log"):
        data, at = segment.read_bytes(), 0
        while at + 23 <= len(data):
            batch_length, = struct.unpack_from(">i", data, at + 8)
            attributes, = struct.unpack_from(">h", data, at + 21)
            codecs.add(attributes & 0x7)
            at += 12 + batch_length
    return codecs


async def test_outputs_compressed_when_asked(topics_for, start_worker, local_broker, seed_text, validators):
    settings = await topics_for()
    start_worker(settings, output_compression="zstd")
    await produce(settings, [(SEED_URL.encode(), orjson.dumps({"url": SEED_URL, "text": seed_text}))])

    seen = await consume_until(settings, [settings.topic_articles, settings.topic_metrics],
                               articles_and_metrics_done(settings, 1))
    (_, article), = seen[settings.topic_articles]
    assert not list(validators["article"].iter_errors(article)) and article["fact_count"] > 0
    if local_broker is not None:  # a cluster's disks are not ours to read
        log_dir = local_broker.data_dir / "data"
        assert batch_codecs(log_dir, settings.topic_articles) == batch_codecs(log_dir, settings.topic_metrics) == {4}
        assert batch_codecs(log_dir, settings.topic_raw) == {0}


async def test_pages_of_an_aborted_transaction_are_never_read(topics_for, start_worker):
    """A scraper that writes pages in transactions may abort one: those pages were never sent."""
    settings = await topics_for()
    start_worker(settings)
    pages = {outcome: short_page(f"https://example.cn/{outcome}") for outcome in ("aborted", "committed")}
    scraper = AIOKafkaProducer(**client_options(settings), transactional_id=f"{settings.app_id}-scraper")
    await scraper.start()
    try:
        for outcome, page in pages.items():
            await scraper.begin_transaction()
            await scraper.send_and_wait(settings.topic_raw, orjson.dumps(page), key=page["url"].encode())
            if outcome == "aborted":
                await scraper.abort_transaction()
            else:
                await scraper.commit_transaction()
    finally:
        await scraper.stop()
    await produce(settings, [(b"https://example.cn/last", orjson.dumps(short_page("https://example.cn/last")))])

    seen = await consume_until(settings, [settings.topic_articles, settings.topic_deadletter],
                               lambda s: any(key == b"https://example.cn/last" for key, _ in s[settings.topic_articles]))
    assert sorted(key.decode() for key, _ in seen[settings.topic_articles]) == [
        "https://example.cn/committed", "https://example.cn/last"]
    assert seen[settings.topic_deadletter] == []
