"""A three-node cluster (tests/conftest.py, local_cluster) losing a broker under load.

Topics are replicated three times with min.insync.replicas 2, and every producer asks for acks=all, so a
write that was acknowledged is on two brokers at least: with one broker gone (killed, or stopped and
brought back) no page may be lost between the raw topic and the worker's outputs, and under exactly_once
a read_committed consumer sees each page's outputs once. The worker must ride it out, never exit.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from functools import partial

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.structs import TopicPartition
from pydantic import ValidationError

from workers.app import ensure_topics
from workers.localkafka import Cluster
from workers.settings import Settings, client_options

from .conftest import consume_until, isolated_settings, produce
from .test_delivery import FAULT_PAGES, every_key_answered, outputs_by_key, small_pages
from .test_lifecycle import read_to_end

pytestmark = pytest.mark.kafka
# The later half of the pages is sent over this long, from the moment the fault comes.
LATER_HALF_S = 10.0

Fault = Callable[[Cluster, Settings], Awaitable[str]]


async def wait_until_in_sync(cluster: Cluster, timeout: float = 120.0) -> None:
    """Every partition of every topic has a leader and all its replicas in sync."""
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            partitions = [p for t in await admin.describe_topics() for p in t["partitions"]]
            if all(p["leader"] >= 0 and sorted(p["isr"]) == sorted(p["replicas"]) for p in partitions):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"replicas not in sync within {timeout}s")
            await asyncio.sleep(0.5)
    finally:
        await admin.close()


@pytest.fixture
async def cluster(local_cluster: Cluster) -> Cluster:
    """The session's cluster with every node up (a node an earlier test killed is started again) and every
    replica in sync."""
    await asyncio.to_thread(local_cluster.start)
    await wait_until_in_sync(local_cluster)
    return local_cluster


async def replicated_topics(cluster: Cluster, **overrides) -> Settings:
    settings = isolated_settings(cluster.bootstrap, label="cluster", topic_replication=3, **overrides)
    await ensure_topics(settings)
    return settings


async def busiest_partition_leader(settings: Settings) -> int:
    """The node leading the partition of the raw topic that holds the most pages."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=None)
    await admin.start()
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(settings.topic_raw, p)
                                           for p in range(settings.topic_partitions)])
        busiest = max(ends, key=ends.get).partition
        [described] = await admin.describe_topics([settings.topic_raw])
        return next(p["leader"] for p in described["partitions"] if p["partition"] == busiest)
    finally:
        await consumer.stop()
        await admin.close()


async def kill_the_busiest_leader(cluster: Cluster, settings: Settings) -> str:
    node = await busiest_partition_leader(settings)
    await asyncio.to_thread(cluster.node(node).kill)
    return f"leader of the busiest input partition (node {node}) killed"


async def kill_the_active_controller(cluster: Cluster, settings: Settings) -> str:
    node = cluster.active_controller()
    await asyncio.to_thread(cluster.node(node).kill)
    return f"active controller (node {node}) killed"


async def stop_a_broker_and_bring_it_back(cluster: Cluster, settings: Settings) -> str:
    node = await busiest_partition_leader(settings)
    await asyncio.to_thread(cluster.node(node).stop)
    await asyncio.sleep(5)  # pages flow on two brokers meanwhile
    await asyncio.to_thread(cluster.node(node).start)
    return f"broker node {node} stopped and started again"


async def run_with_a_broker_lost(cluster: Cluster, start_worker, guarantee: str, fault: Fault) -> None:
    """Half the pages wait when the worker starts; once a fifth are out the fault comes, and the other half
    are sent meanwhile, so that pages flow in through the cluster's loss as well as out."""
    settings = await replicated_topics(cluster, processing_guarantee=guarantee)
    exactly_once = guarantee == "exactly_once"
    isolation = "read_committed" if exactly_once else "read_uncommitted"
    messages = small_pages(FAULT_PAGES, settings.app_id)
    keys = {key for key, _ in messages}
    # The feed itself must lose nothing: a page counts as sent once every in-sync replica has it.
    feed = partial(produce, settings, acks="all", enable_idempotence=True)
    await feed(messages[:FAULT_PAGES // 2])
    worker = start_worker(settings)
    started = time.monotonic()
    await consume_until(settings, [settings.topic_articles], lambda s: len(s[settings.topic_articles]) >= FAULT_PAGES // 5,
                        timeout=300, isolation_level=isolation)
    fault_at = time.monotonic()
    what, _ = await asyncio.gather(fault(cluster, settings),
                                   feed(messages[FAULT_PAGES // 2:], pages_per_s=FAULT_PAGES / 2 / LATER_HALF_S))
    with suppress(TimeoutError):  # what is missing then is counted as lost below
        await consume_until(settings, [settings.topic_articles, settings.topic_deadletter],
                            every_key_answered(settings, keys), timeout=300, isolation_level=isolation)
    answered_at = time.monotonic()
    topics = [settings.topic_articles, settings.topic_deadletter] + ([settings.topic_metrics] if exactly_once else [])
    seen = {topic: [(r.key, orjson.loads(r.value)) for r in await read_to_end(settings, topic, isolation)]
            for topic in topics}
    articles, dead = outputs_by_key(seen, settings)
    lost = keys - set(articles) - set(dead)
    print(f"cluster, {what}, {guarantee}: pages sent {len(messages)}, articles seen {sum(articles.values())}, "
          f"distinct {len(articles)}, duplicates {sum(articles.values()) - len(articles)}, "
          f"dead letters {len(dead)}, lost {len(lost)} (fault {fault_at - started:.0f} s after the worker started, "
          f"every page answered {answered_at - fault_at:.0f} s after it)")
    assert worker.poll() is None, f"the worker exited with {worker.returncode}"
    assert not lost, sorted(lost)[:3]
    assert not dead
    if exactly_once:
        assert max(articles.values()) == 1, articles.most_common(3)
        metric_ids = Counter(value["id"] for _, value in seen[settings.topic_metrics])
        assert metric_ids and max(metric_ids.values()) == 1, metric_ids.most_common(3)


async def test_the_worker_creates_replicated_topics(cluster: Cluster) -> None:
    settings = await replicated_topics(cluster)
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        described = await admin.describe_topics([settings.topic_raw, settings.topic_articles])
        configs = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, settings.topic_articles)])
    finally:
        await admin.close()
    assert all(len(p["replicas"]) == 3 for t in described for p in t["partitions"])
    [(_, _, _, _, entries)] = configs[0].resources
    assert dict((name, value) for name, value, *_ in entries)["min.insync.replicas"] == "2"


def test_more_insync_replicas_than_copies_is_refused() -> None:
    with pytest.raises(ValidationError, match="exceeds TOPIC_REPLICATION"):
        Settings(topic_replication=2, topic_min_insync_replicas=3)
    assert Settings(topic_replication=3).min_insync_replicas == 2
    assert Settings(topic_replication=1).min_insync_replicas == 1


# Each way of losing a broker under each guarantee: the two delivery paths differ (the at_least_once
# producer is not idempotent, the exactly_once one is transactional), so neither stands in for the other.
SCENARIOS = [
    pytest.param(kill_the_busiest_leader, "at_least_once", id="leader-killed-at_least_once"),
    pytest.param(kill_the_busiest_leader, "exactly_once", id="leader-killed-exactly_once"),
    pytest.param(kill_the_active_controller, "at_least_once", id="controller-killed-at_least_once"),
    pytest.param(kill_the_active_controller, "exactly_once", id="controller-killed-exactly_once"),
    pytest.param(stop_a_broker_and_bring_it_back, "at_least_once", id="broker-restarted-at_least_once"),
    pytest.param(stop_a_broker_and_bring_it_back, "exactly_once", id="broker-restarted-exactly_once"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("fault", "guarantee"), SCENARIOS)
async def test_no_page_lost_with_a_broker_lost_mid_stream(cluster, start_worker, fault, guarantee) -> None:
    await run_with_a_broker_lost(cluster, start_worker, guarantee, fault)
