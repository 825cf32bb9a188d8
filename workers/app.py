"""The Faust app: configuration, the orjson codec (the app's default serializer), the worker process and
the topics.

Agents live in workers/agents.py; `python -m workers worker` runs them. What the app changes in faust's
Kafka transport is in workers/transport.py, how pages are delivered in workers/delivery.py.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

import faust
import orjson
from faust.serializers import codecs

from .pipeline import load_dictionary
from .settings import Settings, client_options, faust_credentials, get_settings
from .transport import WorkerApp, create_missing_topics, key_partitioner

MAX_MESSAGE_BYTES = 32 * 1024 * 1024  # above the page cap, so an article of a capped page still fits
TOPIC_CONFIGS = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}  # of the topics the worker creates
# Each site's latest state is all the templates topic needs to keep (workers/memory.py).
COMPACTED_CONFIGS = TOPIC_CONFIGS | {"cleanup.policy": "compact"}
# One signature an article, for as long as the reprint index would match it (workers/signatures.py).
WINDOWED_CONFIGS = TOPIC_CONFIGS | {"cleanup.policy": "compact,delete"}
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


def exit_after(seconds: float) -> None:
    """Exit the process with status 1 in `seconds` unless it has ended by then."""
    deadline = threading.Timer(seconds, os._exit, args=(1,))
    deadline.daemon = True
    deadline.start()


class Worker(faust.Worker):
    """faust's worker process, which loads the pipeline's dictionary before it takes pages, exits
    STOP_GRACE_S after it is told to stop whatever its shutdown waits on, and shows no terminal spinner."""

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        # At a level of warn or above faust's spinner spins on every record, and to see them all it sets
        # the root logger to DEBUG: the Kafka client's debug line for each message sent is then built,
        # filtered and thrown away, ~3 % of the worker's CPU. The root logger keeps the level asked for.
        self.spinner = None

    async def on_execute(self) -> None:
        await super().on_execute()
        load_dictionary()  # logging is set up by now, and the app has not started

    async def on_stop(self) -> None:
        exit_after(STOP_GRACE_S)
        await super().on_stop()


def create_app(settings: Settings) -> faust.App:
    return WorkerApp(
        settings.app_id,
        broker=[f"kafka://{host.strip()}" for host in settings.kafka_bootstrap_servers.split(",")],
        broker_credentials=faust_credentials(settings),
        processing_guarantee=settings.processing_guarantee,
        # Under exactly_once a partition's pages commit their offsets in their own transactions (delivery.py);
        # a periodic commit could only commit stale offsets, so it is pushed out of the way. Under at_least_once
        # faust commits every COMMIT_INTERVAL_S, and the delivery asks for a commit every COMMIT_EVERY_PAGES
        # pages (delivery.py): faust's own count is looked at only while its fetcher hands out new messages.
        broker_commit_interval=86400.0 if settings.processing_guarantee == "exactly_once" else settings.commit_interval_s,
        broker_commit_every=2**31,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
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
        producer_request_timeout=settings.delivery_timeout_s,  # then the worker stops (delivery.py)
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
observations = app.topic(settings.topic_observations, value_serializer="raw", key_serializer="raw")


def output_topics(settings: Settings) -> list[str]:
    return [t for t in (settings.topic_articles, settings.topic_metrics, settings.topic_deadletter,
                        settings.topic_segments, settings.topic_observations) if t]


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Each topic the worker creates, with its configs."""
    replicated = {"min.insync.replicas": str(settings.min_insync_replicas)}
    configs = {topic: TOPIC_CONFIGS | replicated for topic in [settings.topic_raw, *output_topics(settings)]}
    configs[settings.topic_templates] = COMPACTED_CONFIGS | replicated
    if settings.topic_reprints:
        configs[settings.topic_reprints] = WINDOWED_CONFIGS | replicated | {
            "retention.ms": str(round(settings.reprint_window_age_s * 1000))}
    return configs


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the worker's topics that are missing; return the names created."""
    by_configs: dict[tuple, list[str]] = {}
    for topic, configs in topic_configs(settings).items():
        by_configs.setdefault(tuple(sorted(configs.items())), []).append(topic)
    created = []
    for configs, topics in by_configs.items():
        created += await create_missing_topics(client_options(settings), topics, settings.topic_partitions,
                                               settings.topic_replication, dict(configs))
    return created
