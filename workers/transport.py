"""What the worker changes in faust's Kafka transport, and the administration of its topics.

- the consumer answers a burst after a quiet spell at once (FETCH_MAX_WAIT_MS), reads committed pages
  only, and hands each fetched message to the streams without a task of its own where it can;
- the partitioner remembers the hash of each key (every output of a page shares the page's URL key);
- missing topics are created with the configs they are given, and waited for until they have leaders.
"""
from __future__ import annotations

import asyncio
import time
import types
from collections.abc import Coroutine, Generator, Mapping
from functools import lru_cache, partial

import faust
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner, murmur2
from faust.transport.drivers import aiokafka as aiokafka_driver
from mode.services import WaitResults

# How long the broker may hold a fetch that finds nothing new. faust fixes it at 1.5 s; a fetch sent
# while the worker had caught up then kept pages that arrived after a quiet spell waiting that long
# (the worker sat idle for 1.5 s at the start of every burst, bench/RESULTS.md). An idle worker
# asks ten times a second instead.
FETCH_MAX_WAIT_MS = 100
LEADER_WAIT_S = 30.0


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

    async def commit(self, topics=None, start_new_transaction: bool = True) -> bool:  # type: ignore[no-untyped-def]
        """Under exactly_once every offset is committed inside its partition's transaction by the delivery
        (delivery.py) before its message is acknowledged; faust's own commit (its stop commits the acknowledged
        offsets again) would commit, and end, transactions the delivery owns, on producers between two of its
        transactions. So it commits nothing then."""
        if self.app.in_transaction:
            return False
        return await super().commit(topics, start_new_transaction=start_new_transaction)

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


class WorkerApp(faust.App):
    """faust's app, with the consumer above in its transport."""

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


async def create_missing_topics(client_options: dict, names: list[str], partitions: int, replication: int,
                                topic_configs: Mapping[str, str]) -> list[str]:
    """Create the topics of `names` that are missing, each with `topic_configs`; return the names created."""
    admin = AIOKafkaAdminClient(**client_options)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if missing:
            await admin.create_topics([NewTopic(name, partitions, replication, topic_configs=dict(topic_configs))
                                       for name in missing])
            await _wait_for_leaders(admin, missing)
        return missing
    finally:
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, topics: list[str], timeout: float = LEADER_WAIT_S) -> None:
    """New topics take a moment to elect partition leaders; producing before that only causes retries."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = await admin.describe_topics(topics)
        if all(t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
               for t in described):
            return
        await asyncio.sleep(0.1)
