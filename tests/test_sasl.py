"""Authentication: a broker of its own with a SASL_PLAINTEXT listener that takes SCRAM-SHA-512 only.

The worker, configured with SASL settings, processes pages through that listener; clients without
credentials, or with a wrong password, are refused there.
"""
from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from workers.app import ensure_topics
from workers.localkafka import Broker, answers, free_port
from workers.settings import Settings

from .conftest import consume_until, isolated_settings, produce, wait_until_ready, web_get

pytestmark = pytest.mark.kafka
USER = "worker"
PASSWORD = f"scram-{uuid.uuid4().hex}"
MECHANISM = "SCRAM-SHA-512"


@pytest.fixture
def scram_broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(
        data_dir=tmp_path / "scram-broker", port=free_port(), extra_listeners={"SASL": free_port()},
        extra_properties={
            "sasl.enabled.mechanisms": MECHANISM,
            "listener.name.sasl.scram-sha-512.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        },
        scram_users={USER: PASSWORD},
    )
    try:
        yield broker.start()
    finally:
        broker.stop()


def sasl_bootstrap(broker: Broker) -> str:
    return f"127.0.0.1:{broker.extra_listeners['SASL']}"


def sasl_settings(broker: Broker) -> Settings:
    return isolated_settings(sasl_bootstrap(broker), security_protocol="SASL_PLAINTEXT", sasl_mechanism=MECHANISM,
                             sasl_username=USER, sasl_password=PASSWORD)


async def test_sasl_listener_refuses_clients_without_valid_credentials(scram_broker):
    bootstrap = sasl_bootstrap(scram_broker)
    sasl = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": MECHANISM, "sasl_plain_username": USER}
    assert await answers(bootstrap, sasl_plain_password=PASSWORD, **sasl)
    assert not await answers(bootstrap, sasl_plain_password="wrong-password", **sasl)
    assert not await answers(bootstrap)  # no credentials at all


async def test_worker_processes_pages_through_scram_listener(scram_broker, start_worker, seed_text, tmp_path):
    settings = sasl_settings(scram_broker)
    await ensure_topics(settings)
    port = free_port()
    start_worker(settings, web_port=str(port), security_protocol="SASL_PLAINTEXT", sasl_mechanism=MECHANISM,
                 sasl_username=USER, sasl_password=PASSWORD)
    await wait_until_ready(port)
    url = "https://example.cn/news/seed"
    await produce(settings, [(url.encode(), orjson.dumps({"url": url, "text": seed_text}))])

    seen = await consume_until(settings, [settings.topic_articles], lambda s: s[settings.topic_articles])
    (key, article), = seen[settings.topic_articles]
    assert key == url.encode() and article["source"] == "吉林日报"

    for path in ("/healthz", "/readyz", "/metrics", "/inspect", "/inspect/recent"):
        assert PASSWORD not in (await web_get(port, path))[1]
    assert PASSWORD not in (tmp_path / "worker0.log").read_text(encoding="utf-8", errors="replace")

    # While its broker does not answer (paused), the worker is alive but not ready.
    os.kill(scram_broker.running_pid(), signal.SIGSTOP)
    try:
        status, _ = await web_get(port, "/healthz")
        assert status == 200
        status, body = await web_get(port, "/readyz")
        assert status == 503 and orjson.loads(body) == {"ready": False, "why": "the broker did not answer"}
    finally:
        os.kill(scram_broker.running_pid(), signal.SIGCONT)
