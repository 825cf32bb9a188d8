"""A worker's life: a huge page does not starve heartbeats; faust's folder is where DATA_DIR says; SIGTERM
commits only what was published; a worker whose broker is gone stops by itself instead of retrying for ever,
and when told to stop."""
from __future__ import annotations

import asyncio
import signal
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from workers.app import STOP_GRACE_S, ensure_topics
from workers.localkafka import Broker, free_port
from workers.settings import client_options

from .conftest import consume_until, isolated_settings, metric_value, produce, wait_until_ready
from .test_delivery import every_key_answered, small_pages

pytestmark = pytest.mark.kafka
ONE_MIB = 1024 * 1024


def generations_joined(log_text: str) -> int:
    return log_text.count("Joined group")


async def test_one_mib_page_keeps_the_group_stable(topics_for, start_worker, dev_pages, tmp_path):
    settings = await topics_for()
    port = free_port()
    start_worker(settings, web_port=str(port))
    await wait_until_ready(port)

    texts, size = [], 0
    while size < ONE_MIB:  # real page texts glued into one 1 MiB page
        text = dev_pages[len(texts) % len(dev_pages)]["text"]
        texts.append(text)
        size += len(text.encode())
    huge = {"url": "https://huge.example.cn/", "text": "\n\n".join(texts)}
    small = small_pages(20, "after-huge")
    await produce(settings, [(huge["url"].encode(), orjson.dumps(huge)), *small])
    keys = {huge["url"].encode()} | {key for key, _ in small}
    seen = await consume_until(settings, [settings.topic_articles, settings.topic_deadletter],
                               every_key_answered(settings, keys), timeout=180)

    assert not seen[settings.topic_deadletter]
    stall = await metric_value(port, "worker_event_loop_stall_max_seconds")
    print(f"longest event-loop stall with a 1 MiB page: {stall * 1000:.0f} ms")
    assert generations_joined((tmp_path / "worker0.log").read_text()) == 1  # no rebalance
    # spawn_worker sets DATA_DIR beside the log: nothing of the run is left in the shared temporary folder
    assert (tmp_path / "worker0.data").is_dir()
    assert not (Path(tempfile.gettempdir()) / f"{settings.app_id}-data").exists()


async def committed_offsets(settings) -> dict[int, int]:
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.app_id)
        return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == settings.topic_raw}
    finally:
        await admin.close()


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
async def test_sigterm_commits_only_what_was_published(topics_for, start_worker, guarantee):
    settings = await topics_for(processing_guarantee=guarantee)
    isolation = "read_committed" if guarantee == "exactly_once" else "read_uncommitted"
    messages = small_pages(1500, f"sigterm-{guarantee}")
    keys = {key for key, _ in messages}
    first = start_worker(settings)
    await produce(settings, messages)
    await consume_until(settings, [settings.topic_articles], lambda s: len(s[settings.topic_articles]) >= 200,
                        timeout=180, isolation_level=isolation)

    first.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(first.wait, 60) == 0
    committed = await committed_offsets(settings)
    published = {r.key for r in await read_to_end(settings, settings.topic_articles, isolation)}
    assert published and len(published) < len(messages)  # it stopped mid-stream
    for r in await read_to_end(settings, settings.topic_raw, isolation):
        if r.offset < committed.get(r.partition, 0):
            assert r.key in published, f"offset {r.offset} of partition {r.partition} committed, never published"

    start_worker(settings)  # the next worker picks up exactly where the first one committed
    await consume_until(settings, [settings.topic_articles, settings.topic_deadletter],
                        every_key_answered(settings, keys), timeout=300, isolation_level=isolation)


async def read_to_end(settings, topic: str, isolation: str) -> list:
    """Every record of `topic` up to its current end."""
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=None, isolation_level=isolation)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            batch = await consumer.getmany(timeout_ms=1000)
            records += [r for rs in batch.values() for r in rs]
        return records
    finally:
        await consumer.stop()


@asynccontextmanager
async def worker_whose_broker_goes(start_worker, tmp_path, label: str, **overrides):
    """A ready worker on a broker of its own; the broker stops (cleanly: the partitions are left without
    a leader) when the block ends. Yields the worker's settings and process."""
    broker = Broker(data_dir=tmp_path / "own-broker", port=free_port())
    await asyncio.to_thread(broker.start)  # it waits with asyncio.run of its own
    try:
        settings = isolated_settings(broker.bootstrap, label=label, **overrides)
        await ensure_topics(settings)
        port = free_port()
        worker = start_worker(settings, web_port=str(port))
        await wait_until_ready(port)
        yield settings, worker
    finally:
        await asyncio.to_thread(broker.stop)


async def test_a_worker_whose_broker_is_gone_stops_by_itself(start_worker, tmp_path):
    async with worker_whose_broker_goes(start_worker, tmp_path, "gone", delivery_timeout_s=10.0) as (settings, worker):
        await produce(settings, small_pages(3000, "gone"))
        await asyncio.sleep(2)  # the worker is still working through them when the broker stops

    exit_code = await asyncio.to_thread(worker.wait, settings.delivery_timeout_s + STOP_GRACE_S + 60)
    log_text = (tmp_path / "worker0.log").read_text()
    assert exit_code != 0 and "delivery_failed" in log_text
    # Every page in delivery fails alike; the worker crashes once, and no error goes unread.
    assert log_text.count("Crashed reason") == 1 and "exception was never retrieved" not in log_text
    # The client's repeated connection errors meanwhile are held back to one line a second.
    assert len(log_text.encode()) < 2_000_000


async def test_a_worker_told_to_stop_while_its_broker_is_gone_exits_within_the_grace(start_worker, tmp_path):
    async with worker_whose_broker_goes(start_worker, tmp_path, "stop-gone") as (_, worker):
        pass

    # faust's shutdown waits on the broker for ever; the worker ends itself STOP_GRACE_S after SIGTERM.
    worker.send_signal(signal.SIGTERM)
    started = time.monotonic()
    await asyncio.to_thread(worker.wait, STOP_GRACE_S + 30)
    assert time.monotonic() - started < STOP_GRACE_S + 10
