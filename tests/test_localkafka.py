"""The project's local broker script."""
from __future__ import annotations

import asyncio

import pytest

from workers import localkafka
from workers.localkafka import Broker, answers, free_port

pytestmark = pytest.mark.kafka


def test_a_cluster_id_that_starts_with_a_dash_is_formatted(tmp_path, monkeypatch) -> None:
    # Random ids are URL-safe base64: one in 64 starts with "-", which a command line could read as a flag.
    monkeypatch.setattr(localkafka, "_cluster_id", lambda: "-G5_zMyeR5yLalL1iyReSw")
    broker = Broker(data_dir=tmp_path / "broker", port=free_port())
    try:
        broker.start()
        assert asyncio.run(answers(broker.bootstrap))
        assert "cluster.id=-G5_zMyeR5yLalL1iyReSw" in (tmp_path / "broker" / "data" / "meta.properties").read_text()
    finally:
        broker.stop()
