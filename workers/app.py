"""The Faust app: configuration, the orjson codec (the app's default serializer) and the input topic.

Agents live in workers/agents.py; `python -m workers worker` runs them.
"""
from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import types
from collections.abc import Coroutine, Generator
from functools import lru_cache, partial
from pathlib import Path

import faust
import orjson
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner, murmur2
from faust.serializers import codecs
from faust.transport.drivers import aiokafka as aiokafka_driver
from mode.services import WaitResults

from .pipeline import load_dictionary
from .settings import Settings, client_options, faust_credentials, get_settings

MAX_MESSAGE_BYTES = 32 * 1024 * 1024  # above the page cap, so an article of a capped page still fits
# One page's outputs (an article, its facts and ~170 segments) go out together: one batch per partition.
PRODUCER_BATCH_BYTES = 1024 * 1024
# Under exactly_once a transaction's outputs wait in the producer up to this long, so that they go out in
# one request at its commit (which sends at once): a request a message fell behind at 70 pages/s. Under
# at_least_once outputs leave at the event loop's next turn, which the agent gives often (agents.py), and
# the producer's one request in flight to a broker gathers the outputs that come meanwhile.
TRANSACTION_LINGER_S = 0.01
# What the consumer asks for per partition and fetch: the Kafka client's own default. A larger first
# message still comes whole (the broker returns it past the limit), so pages up to the size cap and beyond
# (dead-lettered) arrive as before. Asking for MAX_MESSAGE_BYTES took a burst's whole backlog in one fetch,
# tens of MB at once, and the pipeline ran ~4 % slower meanwhile (bench/RESULTS.md).
FETCH_PARTITION_BYTES = 1024 * 1024
# How long the broker may hold a fetch that finds nothing new. faust fixes it at 1.5 s; a fetch sent
# while the worker had caught up then kept pages that arrived after a quiet spell waiting that long
# (the worker sat idle for 1.5 s at the start of every burst, bench/RESULTS.md). An idle worker
# asks ten times a second instead.
FETCH_MAX_WAIT_MS = 100
# A worker told to stop (SIGTERM, SIGINT) exits within this long even when faust's shutdown waits on a
# broker that is gone, which it does for ever. Nothing unacknowledged was committed, so the next worker
# reads those pages again. Well inside the 30 s an orchestrator commonly allows before a SIGKILL.
STOP_GRACE_S = 20.0


class OrjsonCodec(codecs.Codec):
    """JSON with orjson: fast, and it keeps non-ASCII text as UTF-8."""

    def _dumps(self, obj: object) -> bytes:
        return orjson.dumps(obj)

    def _loads(self, data: bytes) -> object:
        return orjson.loads(data)


codecs.register("orjson", OrjsonCodec())


class _ConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport):  # type: ignore[no-untyped-def]
        consumer = super()._create_worker_consumer(transport)
        # Both read when the consumer starts its fetcher. faust reads committed messages only under
        # exactly_once; a scraper's aborted transaction holds pages that were never sent, whatever the
        # worker's guarantee. Pages sent without transactions are committed as they are written.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        consumer._isolation_level = "read_committed"
        return consumer


class _Consumer(aiokafka_driver.Consumer):
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def wait_first(self, *coros, timeout=None) -> WaitResults:  # type: ignore[no-untyped-def]
        """faust hands each fetched message to its streams with `wait_first(delivery, suspend_flow.wait())`,
        which runs four tasks a message: 0.2 ms of a busy worker's CPU a page (bench/RESULTS.md). Here the
        delivery runs at once, up to its first wait; nearly every delivery finishes without one. One that
        must wait (its stream's buffer full, a resubscription) goes on as a task in faust's way."""
        delivery, *others = coros
        if not (asyncio.iscoroutine(delivery) and self.flow_active and not self.should_stop):
            return await super().wait_first(*coros, timeout=timeout)
        try:
            waiting_on = delivery.send(None)
        except BaseException as outcome:
            for other in others:
                if asyncio.iscoroutine(other):
                    other.close()  # never started
            if isinstance(outcome, StopIteration):
                return WaitResults([delivery], [outcome.value], False)
            raise
        return await super().wait_first(_resume(delivery, waiting_on), *others, timeout=timeout)


async def _resume(coroutine: Coroutine, waiting_on: object) -> object:
    """The rest of a coroutine that was run by hand up to its first wait, on `waiting_on` (what it
    yielded): each later step is passed to the coroutine, as a task would pass it."""
    return await _steps_after(coroutine, waiting_on)


@types.coroutine
def _steps_after(coroutine: Coroutine, waiting_on: object) -> Generator:
    while True:
        try:
            yield waiting_on
        except BaseException as thrown:  # a cancellation, say: the coroutine's to handle
            step = partial(coroutine.throw, thrown)
        else:
            step = partial(coroutine.send, None)
        try:
            waiting_on = step()
        except StopIteration as finished:
            return finished.value


def exit_after(seconds: float) -> None:
    """Exit the process with status 1 in `seconds` unless it has ended by then."""
    deadline = threading.Timer(seconds, os._exit, args=(1,))
    deadline.daemon = True
    deadline.start()


class Worker(faust.Worker):
    """faust's worker process, which loads the pipeline's dictionary before it takes pages, and exits
    STOP_GRACE_S after it is told to stop whatever its shutdown waits on."""

    async def on_execute(self) -> None:
        await super().on_execute()
        load_dictionary()  # logging is set up by now, and the app has not started

    async def on_stop(self) -> None:
        exit_after(STOP_GRACE_S)
        await super().on_stop()


class WorkerApp(faust.App):
    """faust's app whose Kafka consumer answers a burst after a quiet spell at once (FETCH_MAX_WAIT_MS) and
    reads committed pages only."""

    def _new_transport(self):  # type: ignore[no-untyped-def]
        transport = super()._new_transport()
        transport.Consumer = _Consumer
        return transport


@lru_cache(maxsize=4096)
def _key_hash(key: bytes) -> int:
    return murmur2(key) & 0x7FFFFFFF


def key_partitioner(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """Kafka's default partitioner, with the hash of each key remembered: all outputs of a page share the
    page's URL key, and aiokafka's murmur2 is pure Python (a third of the send cost when hashed per message)."""
    if key is None:
        return DefaultPartitioner()(key, all_partitions, available)
    return all_partitions[_key_hash(key) % len(all_partitions)]


def create_app(settings: Settings) -> faust.App:
    return WorkerApp(
        settings.app_id,
        broker=[f"kafka://{host.strip()}" for host in settings.kafka_bootstrap_servers.split(",")],
        broker_credentials=faust_credentials(settings),
        processing_guarantee=settings.processing_guarantee,
        # Under exactly_once each page commits its own offset with its outputs (agents.py); a periodic
        # commit could only commit stale offsets, so it is pushed out of the way.
        **({"broker_commit_interval": 86400.0, "broker_commit_every": 2**31}
           if settings.processing_guarantee == "exactly_once" else {}),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,  # also faust's own leader topic's
        # Every in-sync replica has an output before it counts as delivered (faust's default, said here because
        # the guarantees rest on it). Under exactly_once faust makes the producers idempotent too. The
        # at_least_once producer is not: aiokafka's idempotent producer retries a batch it sent for ever, and
        # an idempotent worker whose broker had gone failed its deliveries but never exited
        # (tests/test_lifecycle.py). A batch retried after a leader died may be written twice, as a replayed
        # page is, with the same ids.
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",  # a new consumer group starts with every waiting page
        producer_max_request_size=MAX_MESSAGE_BYTES,
        producer_compression_type=None if settings.output_compression == "none" else settings.output_compression,
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        producer_linger=TRANSACTION_LINGER_S if settings.processing_guarantee == "exactly_once" else 0.0,
        producer_request_timeout=settings.delivery_timeout_s,  # then the worker stops (agents.py)
        producer_partitioner=key_partitioner,
        consumer_max_fetch_size=FETCH_PARTITION_BYTES,
        value_serializer="orjson",
        key_serializer="raw",
        web_enabled=True,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        datadir=settings.data_dir or Path(tempfile.gettempdir()) / f"{settings.app_id}-data",
        Worker=Worker,
    )


settings = get_settings()
app = create_app(settings)

# Raw bytes in, so that a message that is not valid JSON or UTF-8 still reaches the dead-letter topic
# as it came. Outputs are serialised once, with orjson, by the agent (agents.py) and sent as bytes.
raw_pages = app.topic(settings.topic_raw, value_serializer="raw", key_serializer="raw")


def output_topics(settings: Settings) -> list[str]:
    return [t for t in (settings.topic_articles, settings.topic_metrics, settings.topic_deadletter,
                        settings.topic_segments) if t]


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the worker's topics that are missing; return the names created."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [settings.topic_raw, *output_topics(settings)]
        missing = [name for name in wanted if name not in existing]
        if missing:
            await admin.create_topics([
                NewTopic(name, settings.topic_partitions, settings.topic_replication,
                         topic_configs={"max.message.bytes": str(MAX_MESSAGE_BYTES),
                                        "min.insync.replicas": str(settings.min_insync_replicas)})
                for name in missing
            ])
            await _wait_for_leaders(admin, missing)
        return missing
    finally:
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, topics: list[str], timeout: float = 30.0) -> None:
    """New topics take a moment to elect partition leaders; producing before that only causes retries."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = await admin.describe_topics(topics)
        if all(t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
               for t in described):
            return
        await asyncio.sleep(0.1)
