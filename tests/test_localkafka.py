"""The project's local broker script, and the docker-compose cluster kept in step with it."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from workers import localkafka
from workers.app import topic_configs
from workers.localkafka import KAFKA_VERSION, Broker, Cluster, answers, free_port
from workers.settings import Settings

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"
# Where a node listens and keeps its data differ between the two by nature.
PER_HOST = {"node.id", "controller.quorum.voters", "listeners", "advertised.listeners", "controller.listener.names",
            "inter.broker.listener.name", "listener.security.protocol.map", "log.dirs"}


def properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


@pytest.mark.kafka
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


def test_cluster_nodes_share_one_quorum_and_replicate_three_times(tmp_path) -> None:
    cluster = Cluster(data_dir=tmp_path, nodes=3, port=0)
    nodes = [properties(broker.properties()) for broker in cluster.brokers]
    assert [n["node.id"] for n in nodes] == ["1", "2", "3"]
    assert len({n["controller.quorum.voters"] for n in nodes}) == 1
    assert len({broker.port for broker in cluster.brokers} | set(cluster.brokers[0].voters.values())) == 6
    assert len({broker.cluster_id for broker in cluster.brokers}) == 1
    assert {n["min.insync.replicas"] for n in nodes} == {"2"} and {n["default.replication.factor"] for n in nodes} == {"3"}
    single = properties(Broker(data_dir=tmp_path / "one", port=9092, controller_port=9093).properties())
    assert single["min.insync.replicas"] == "1" and single["controller.quorum.voters"] == "1@127.0.0.1:9093"


def compose_block(name: str) -> dict[str, str]:
    """The variables of one anchored block of docker-compose.yml, as broker properties."""
    block = COMPOSE.read_text().split(f"\n{name}: ", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    pairs = (line.strip().split(": ", 1) for line in block if re.match(r"\s+KAFKA_", line))
    return {key.removeprefix("KAFKA_").lower().replace("_", "."): value.strip('"') for key, value in pairs}


def test_the_compose_cluster_is_the_local_cluster() -> None:
    local = properties(Cluster(nodes=3, port=0, data_dir=Path("/nonexistent")).brokers[0].properties())
    compose = compose_block("x-broker-settings") | compose_block("x-cluster-node-settings")
    assert {k: v for k, v in local.items() if k not in PER_HOST} == {k: v for k, v in compose.items() if k not in PER_HOST}
    assert set(re.findall(r"image: apache/kafka:(\S+)", COMPOSE.read_text())) == {KAFKA_VERSION}


def compose_topics() -> dict[str, dict[str, str]]:
    """The topics docker-compose's topic creator makes, each with its configs (min.insync.replicas aside: the
    creator takes it from a variable)."""
    script = COMPOSE.read_text().split("\nx-topics: ", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    looped = re.search(r"for topic in ([^;]+);", script).group(1).split()
    topics = {}
    for command in (line for line in script.splitlines() if "kafka-topics.sh" in line):
        configs = dict(config.split("=", 1) for config in re.findall(r"--config (\S+)", command))
        configs.pop("min.insync.replicas")
        name = re.search(r'--topic "?([^\s"]+)', command).group(1)
        topics |= {topic: configs for topic in (looped if name == "$$topic" else [name])}
    return topics


def test_the_compose_topic_creator_makes_the_workers_topics_as_the_worker_does() -> None:
    worker = topic_configs(Settings(_env_file=None, topic_segments="pages.segments"))
    assert compose_topics() == {topic: {k: v for k, v in configs.items() if k != "min.insync.replicas"}
                                for topic, configs in worker.items()}
