"""Shared fixtures: paths to the read-only corpora, the JSON Schemas, and the real Kafka broker."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from jsonschema import Draft202012Validator
from prometheus_client.parser import text_string_to_metric_families
from referencing import Registry, Resource

from workers.app import ensure_topics
from workers.localkafka import (Broker, Cluster, free_port, isolated_settings, spawn_worker,  # noqa: F401 (tests import them from here)
                                stop_process, wait_until_ready, web_get, worker_env)
from workers.settings import Settings, client_options

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED = SHARED / "corpus" / "seed"
DEV = SHARED / "corpus" / "dev"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def seed_text() -> str:
    return (SEED / "page.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def dev_pages() -> list[dict]:
    return read_jsonl(DEV / "magic-html-article.jsonl") + read_jsonl(DEV / "magic-html-forum.jsonl")


@pytest.fixture(scope="session")
def validators() -> dict[str, Draft202012Validator]:
    schemas = {p.name.removesuffix(".schema.json"): json.loads(p.read_text()) for p in (ROOT / "schemas").glob("*.schema.json")}
    registry = Registry().with_resources(
        (f"{name}.schema.json", Resource.from_contents(schema)) for name, schema in schemas.items()
    )
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    return {name: Draft202012Validator(schema, registry=registry) for name, schema in schemas.items()}


@pytest.fixture(scope="session")
def local_broker() -> Iterator[Broker | None]:
    """The broker this session started, or None when KAFKA_BOOTSTRAP_SERVERS names a cluster."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield None
        return
    data_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"workers-test-broker-{uuid.uuid4().hex[:8]}"
    broker = Broker(data_dir=data_dir, port=free_port()).start()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[Cluster]:
    """A three-node cluster of the session's own (three processes, each a broker and a controller voter),
    for the tests that kill and restart its brokers; started by the first test that asks for it."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("the cluster tests kill brokers: they run on a cluster the session starts itself")
    data_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"workers-test-cluster-{uuid.uuid4().hex[:8]}"
    cluster = Cluster(data_dir=data_dir, nodes=3, port=0).start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka(local_broker: Broker | None) -> str:
    """Bootstrap address of a real broker: KAFKA_BOOTSTRAP_SERVERS, or the session's local one."""
    return local_broker.bootstrap if local_broker else os.environ["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable]:
    processes = []

    def start(settings: Settings, **env: str):
        """A worker for `settings`; `env` adds settings as variables, e.g. web_port, log_json, sasl_password."""
        process = spawn_worker(settings.kafka_bootstrap_servers, tmp_path / f"worker{len(processes)}.log",
                               **worker_env(settings) | env)
        processes.append(process)
        return process

    yield start
    for process in processes:
        stop_process(process)


async def produce(settings: Settings, messages: list[tuple[bytes | None, bytes | None]],
                  compression_type: str | None = None, pages_per_s: float | None = None, **producer_options) -> None:
    """Send `messages` to the raw topic: all at once, or at about `pages_per_s`; `producer_options` go to
    aiokafka's producer (e.g. acks)."""
    producer = AIOKafkaProducer(**client_options(settings), max_request_size=32 * 1024 * 1024, linger_ms=5,
                                compression_type=compression_type, **producer_options)
    await producer.start()
    try:
        futures, started = [], time.monotonic()
        for n, (key, value) in enumerate(messages):
            if pages_per_s:
                await asyncio.sleep(started + n / pages_per_s - time.monotonic())
            futures.append(await producer.send(settings.topic_raw, value=value, key=key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def metric_value(port: int, name: str) -> float:
    """A sample of a worker's /metrics, by name."""
    _, exposition = await web_get(port, "/metrics")
    return next(s.value for family in text_string_to_metric_families(exposition)
                for s in family.samples if s.name == name)


async def consume_until(settings: Settings, topics: list[str], done: Callable[[dict[str, list]], bool],
                        timeout: float = 120.0, isolation_level: str = "read_uncommitted") -> dict[str, list]:
    """Read `topics` from the start until `done(seen)` holds; seen maps topic to (key, value) pairs."""
    consumer = AIOKafkaConsumer(*topics, **client_options(settings), auto_offset_reset="earliest",
                                group_id=None, isolation_level=isolation_level, fetch_max_bytes=64 * 1024 * 1024,
                                max_partition_fetch_bytes=32 * 1024 * 1024)
    seen: dict[str, list] = {t: [] for t in topics}
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while not done(seen):
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up after {timeout}s: {({t: len(v) for t, v in seen.items()})}")
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    seen[r.topic].append((r.key, orjson.loads(r.value)))
        return seen
    finally:
        await consumer.stop()


@pytest.fixture
async def topics_for(kafka: str) -> Callable:
    async def make(**overrides) -> Settings:
        settings = isolated_settings(kafka, **overrides)
        await ensure_topics(settings)
        return settings

    return make
