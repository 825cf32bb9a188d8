"""Operating the worker: health, readiness and Prometheus metrics on its web server; JSON logs; secrets
kept out of both. A real worker process on the real broker."""
from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from workers.app import create_app
from workers.localkafka import free_port
from workers.settings import Settings
from workers.transport import FETCH_MAX_WAIT_MS

from .conftest import ROOT, consume_until, produce, wait_until_ready, web_get

pytestmark = pytest.mark.kafka
PASSWORD = "s3cret-never-shown-7f1c"
BAD_MESSAGE = (b"https://example.cn/broken", b"{not json")


def samples(exposition: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value, from Prometheus text."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(exposition) for s in family.samples}


def labelled(values: dict, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: v for (n, labels), v in values.items() if n == name}


async def feed_pages_and_one_bad(settings, pages: list[dict]) -> dict[str, list]:
    await produce(settings, [(p["url"].encode(), orjson.dumps(p)) for p in pages] + [BAD_MESSAGE])

    def done(seen):
        articles = seen[settings.topic_articles]
        return (len(articles) == len(pages) and len(seen[settings.topic_deadletter]) == 1
                and len(seen[settings.topic_metrics]) >= sum(v["fact_count"] for _, v in articles))
    return await consume_until(settings, [settings.topic_articles, settings.topic_metrics, settings.topic_deadletter],
                               done)


async def log_text(path: Path, until: Callable[[str], bool], timeout: float = 10.0) -> str:
    """The worker's log once `until` holds for it (log lines follow a page's outputs by a moment)."""
    deadline = time.monotonic() + timeout
    while not until(text := path.read_text(encoding="utf-8")) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return text


def summed_up(log: str) -> list[int]:
    """Pages processed, pages dead-lettered and facts, over the plain summary lines of a worker's log."""
    summaries = re.findall(r"\[INFO\] workers\.pages: pages in the last \d+ s: (\d+) processed \([\d.]+/s\), "
                           r"(\d+) dead-lettered, (\d+) facts\n", log)
    return [sum(int(s[i]) for s in summaries) for i in range(3)]


async def log_records(path: Path, until: set[str], timeout: float = 10.0) -> list[dict]:
    """The worker's log as JSON records (every line must be one), once it has an entry for each `until` event."""
    def records(text: str) -> list[dict]:
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    return records(await log_text(path, lambda text: until <= {r.get("event") for r in records(text)}, timeout))


async def test_health_readiness_and_metrics(topics_for, start_worker, seed_text, dev_pages, tmp_path):
    settings = await topics_for()
    port = free_port()
    start_worker(settings, web_port=str(port), sasl_password=PASSWORD, log_summary_s="1")
    ready = await wait_until_ready(port)
    # the input partitions, and nothing else (the group's leader also holds faust's internal assignor partition)
    assert sorted(ready["partitions"]) == sorted(f"{settings.topic_raw}/{p}" for p in range(settings.topic_partitions))
    status, body = await web_get(port, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"

    pages = [{"url": "https://example.cn/news/seed", "text": seed_text}]
    pages += [{"url": p["url"], "text": p["text"]} for p in dev_pages[:3]]
    seen = await feed_pages_and_one_bad(settings, pages)
    status, exposition = await web_get(port, "/metrics")
    assert status == 200
    values = samples(exposition)

    facts = len(seen[settings.topic_metrics])
    assert values[("worker_pages_in_total", ())] == len(pages) + 1
    assert values[("worker_articles_out_total", ())] == len(pages)
    assert values[("worker_facts_out_total", ())] == facts > 0
    assert labelled(values, "worker_dead_letters_total", "reason") == {"not_json": 1}
    stage_counts = labelled(values, "worker_stage_seconds_count", "stage")
    assert set(stage_counts) >= {"split", "classify", "assemble", "facts"}
    assert all(count == len(pages) for count in stage_counts.values())
    segments = labelled(values, "worker_segments_total", "label")
    assert segments["title"] >= 1 and segments["paragraph"] >= 1 and segments["recommendation"] >= 1
    lag = {(dict(l)["topic"], dict(l)["partition"]): v for (n, l), v in values.items() if n == "worker_consumer_lag"}
    assert {(settings.topic_raw, str(p)) for p in range(settings.topic_partitions)} <= set(lag)
    assert all(v >= 0 for v in lag.values())

    # Plain lines from the worker's own formatter (it names the logger, faust's does not): one for the
    # dead letter, and lines that sum up the pages processed, none for each of them.
    expected = [len(pages), 1, facts]
    log = await log_text(tmp_path / "worker0.log", until=lambda text: summed_up(text) == expected)
    assert summed_up(log) == expected
    assert re.search(rf"\[INFO\] workers\.pages: page dead_lettered: {re.escape(BAD_MESSAGE[0].decode())} "
                     rf"\({re.escape(settings.topic_raw)}\[\d\]@\d+\) reason=not_json\n", log)
    assert "page processed" not in log

    # The password is set but never shown: not on any page of the web server, not in the log.
    for path in ("/healthz", "/readyz", "/metrics", "/inspect", "/inspect/recent"):
        assert PASSWORD not in (await web_get(port, path))[1]
    assert PASSWORD not in (tmp_path / "worker0.log").read_text(encoding="utf-8", errors="replace")


async def test_json_logs_name_each_page(topics_for, start_worker, seed_text, tmp_path):
    settings = await topics_for()
    port = free_port()
    start_worker(settings, web_port=str(port), log_json="true", log_pages="true")
    await wait_until_ready(port)
    page = {"url": "https://example.cn/news/seed", "text": seed_text}
    seen = await feed_pages_and_one_bad(settings, [page])
    (_, article), = seen[settings.topic_articles]

    records = await log_records(tmp_path / "worker0.log", until={"processed", "dead_lettered"})
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    by_event = {r["event"]: r for r in records if "event" in r}
    processed, dead = by_event["processed"], by_event["dead_lettered"]
    assert processed["url"] == page["url"] and processed["facts"] == article["fact_count"]
    assert dead["url"] == BAD_MESSAGE[0].decode() and dead["reason"] == "not_json"
    for record in (processed, dead):
        assert record["topic"] == settings.topic_raw
        assert 0 <= record["partition"] < settings.topic_partitions and record["offset"] >= 0


async def test_the_consumer_asks_the_broker_not_to_hold_fetches_long() -> None:
    # faust's own consumer would ask for 1.5 s: pages that come after a quiet spell would wait that long.
    app = create_app(Settings(kafka_bootstrap_servers="127.0.0.1:9"))
    async def ignore(*_) -> None: ...

    consumer = app.transport.create_consumer(callback=ignore, on_partitions_revoked=ignore, on_partitions_assigned=ignore)
    kafka_consumer = consumer._thread._create_worker_consumer(app.transport)
    assert kafka_consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS <= 100
    await kafka_consumer.stop()


def test_every_setting_is_in_the_readme_configuration_table():
    table = (ROOT / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert [name for name in Settings.model_fields if f"`{name.upper()}`" not in table] == []
