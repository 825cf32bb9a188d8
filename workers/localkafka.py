"""A local Apache Kafka broker (KRaft, broker+controller) or a cluster of them, run from the official
jars, and worker processes beside it: what the main job, the tests and the benchmarks run on.

The jars of `org.apache.kafka:kafka_2.13` and their dependencies are resolved from Maven Central
with Maven into a cache folder outside the repository, once; later starts reuse them. Brokers bind
to 127.0.0.1 only. A cluster is N such processes, each a broker and one of N controller voters, with a
folder and ports of its own. When KAFKA_BOOTSTRAP_SERVERS is set, nothing is started: that cluster is used.

    python -m workers broker start | stop | status [--nodes 3]
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .settings import Settings

KAFKA_VERSION = "4.1.1"
SCALA_ARTIFACT = "org.apache.kafka:kafka_2.13"
LOG4J_VERSION = "2.24.3"  # the log4j2 that kafka 4.1.1 itself depends on
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
HEAP = "-Xmx768m"
# The JIT stops at its first tier (C1). On two cores, C2's compiler threads took as much CPU as the
# broker's request handling for minutes after a start (bench/RESULTS.md), CPU the workers need;
# C1's code is fast enough for a broker that mostly copies bytes.
JIT = "-XX:TieredStopAtLevel=1"

CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cn-article-worker"
DEFAULT_DATA_DIR = CACHE_ROOT / "broker"
DEFAULT_PORT = 9092
# A cluster replicates what it stores this many times (at most), and takes a write with acks=all once
# this many replicas have it: Kafka's usual three and two, which lose no acknowledged write while one
# broker is down (the topics the worker creates say the same, settings.py).
CLUSTER_REPLICATION = 3
CLUSTER_MIN_INSYNC = 2

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>kafka-broker-jars</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """Configuration:
  Appenders:
    File:
      name: file
      fileName: "{log}"
      PatternLayout: {{pattern: "[%d] %p %m (%c)%n"}}
  Loggers:
    Root: {{level: INFO, AppenderRef: [{{ref: file}}]}}
    Logger:
      - {{name: kafka.request.logger, level: WARN}}
      - {{name: org.apache.kafka.controller, level: WARN}}
"""


def jars_dir(version: str = KAFKA_VERSION) -> Path:
    """Resolve the broker's jars with Maven into the cache, once; return the folder."""
    target = CACHE_ROOT / f"kafka-{version}"
    libs, done = target / "libs", target / ".resolved"
    if done.exists():
        return libs
    target.mkdir(parents=True, exist_ok=True)
    (target / "pom.xml").write_text(_POM.format(kafka=version, log4j=LOG4J_VERSION))
    resolved = subprocess.run(
        ["mvn", "-q", "-B", "-ntp", "-f", str(target / "pom.xml"), "dependency:copy-dependencies",
         f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
        capture_output=True, text=True,
    )
    if resolved.returncode != 0:
        raise RuntimeError(f"Maven could not resolve Kafka {version}:\n{resolved.stdout}{resolved.stderr}")
    done.write_text(version)
    return libs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Broker:
    """One broker process. `data_dir` holds its storage, config, log and pid file."""

    data_dir: Path = DEFAULT_DATA_DIR
    port: int = DEFAULT_PORT
    controller_port: int = 0
    # Extra listeners and server properties, e.g. a SASL listener: {"SASL": 19094} and properties.
    extra_listeners: dict[str, int] = field(default_factory=dict)
    extra_properties: dict[str, str] = field(default_factory=dict)
    jvm_options: list[str] = field(default_factory=list)
    # SCRAM users (name: password), written into the cluster metadata when the storage is formatted,
    # with credentials for both SCRAM-SHA-256 and SCRAM-SHA-512.
    scram_users: dict[str, str] = field(default_factory=dict)
    # In a cluster: this node's id, every voter's controller port by node id, and the cluster's id.
    node_id: int = 1
    voters: dict[int, int] = field(default_factory=dict)
    cluster_id: str = ""
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "broker.log"

    def properties(self) -> str:
        names = {"PLAINTEXT": self.port, **self.extra_listeners}
        listeners = ",".join(f"{n}://127.0.0.1:{p}" for n, p in names.items())
        protocols = ",".join(f"{n}:{'SASL_PLAINTEXT' if n.startswith('SASL') else 'PLAINTEXT'}" for n in names)
        voters = self.voters or {self.node_id: self.controller_port}
        replication, min_insync = min(CLUSTER_REPLICATION, len(voters)), min(CLUSTER_MIN_INSYNC, len(voters))
        props = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": ",".join(f"{n}@127.0.0.1:{p}" for n, p in sorted(voters.items())),
            "listeners": f"{listeners},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": listeners,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": f"{protocols},CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir / "data"),
            "num.partitions": "1",
            "default.replication.factor": str(replication),
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": str(replication),
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": str(replication),
            "transaction.state.log.min.isr": str(min_insync),
            "transaction.state.log.num.partitions": "4",
            "min.insync.replicas": str(min_insync),
            "group.initial.rebalance.delay.ms": "0",
            "message.max.bytes": str(32 * 1024 * 1024),
            "replica.fetch.max.bytes": str(32 * 1024 * 1024),
            "log.retention.hours": "24",
            **self.extra_properties,
        }
        return "".join(f"{k}={v}\n" for k, v in props.items())

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid

    def start(self) -> "Broker":
        if self.launch():
            self.wait_ready()
        return self

    def launch(self) -> bool:
        """Start the process (formatting its storage the first time) without waiting for it to serve;
        False when it is running already. A cluster's nodes are launched together: none can serve
        before a majority of the controller voters is up."""
        if self.running_pid():
            return False
        libs = jars_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        if not self.controller_port:
            self.controller_port = _saved_controller_port(config, self.node_id) or free_port()
        config.write_text(self.properties())
        (self.data_dir / "log4j2.yaml").write_text(_LOG4J2.format(log=self.log_file))
        java = ["java", HEAP, JIT, f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.yaml'}", *self.jvm_options,
                "-cp", f"{libs}/*"]
        if not (self.data_dir / "data" / "meta.properties").exists():
            subprocess.run(
                [*java, "kafka.tools.StorageTool", "format", f"--cluster-id={self.cluster_id or _cluster_id()}",
                 "-c", str(config),
                 *(f"--add-scram={mechanism}=[name={name},password={password}]"
                   for name, password in self.scram_users.items() for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"))],
                check=True, stdout=subprocess.DEVNULL,
            )
        self.process = subprocess.Popen(
            [*java, "kafka.Kafka", str(config)],
            stdout=subprocess.DEVNULL, stderr=open(self.data_dir / "broker.stderr", "ab"),
            start_new_session=True,  # a Ctrl-C in the caller's terminal must not kill the broker half-way
        )
        self.pid_file.write_text(str(self.process.pid))
        return True

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Wait until the launched broker serves metadata; stop it and raise if it does not in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"broker exited with {self.process.returncode}; see {self.log_file}")
            if _listening(self.port) and asyncio.run(answers(self.bootstrap)):
                return
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"broker did not answer on {self.bootstrap} within {timeout}s")

    def stop(self) -> None:
        """SIGTERM (a controlled shutdown: the broker hands its partitions' leadership over first), then
        SIGKILL after STOP_TIMEOUT_S."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: the broker dies as in a crash, with no handover."""
        self._end(signal.SIGKILL)

    def _end(self, how: signal.Signals) -> None:
        pid = self.running_pid()
        if pid is None:
            return
        os.kill(pid, how)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)


@dataclass
class Cluster:
    """`nodes` brokers on loopback, each also one of the controller quorum's `nodes` voters, in folders
    node-1 ... node-N of `data_dir`, on broker ports `port`, `port`+1, ... (free ones when `port` is 0)."""

    data_dir: Path = DEFAULT_DATA_DIR
    nodes: int = 3
    port: int = DEFAULT_PORT
    brokers: list[Broker] = field(init=False)

    def __post_init__(self) -> None:
        folders = [self.data_dir / f"node-{n}" for n in range(1, self.nodes + 1)]
        voters = {n: _saved_controller_port(folder / "server.properties", n) or free_port()
                  for n, folder in enumerate(folders, 1)}
        cluster_id = _saved_cluster_id(folders) or _cluster_id()
        self.brokers = [Broker(data_dir=folder, port=self.port + n - 1 if self.port else free_port(),
                               controller_port=voters[n], node_id=n, voters=voters, cluster_id=cluster_id)
                        for n, folder in enumerate(folders, 1)]

    @property
    def bootstrap(self) -> str:
        return ",".join(broker.bootstrap for broker in self.brokers)

    def node(self, node_id: int) -> Broker:
        return self.brokers[node_id - 1]

    def start(self) -> "Cluster":
        launched = [broker for broker in self.brokers if broker.launch()]
        try:
            for broker in launched:
                broker.wait_ready()
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """All nodes at once: one by one, the last ones would wait for a quorum that has gone."""
        threads = [threading.Thread(target=broker.stop) for broker in self.brokers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def running(self) -> list[Broker]:
        return [broker for broker in self.brokers if broker.running_pid()]

    def active_controller(self) -> int:
        """The node id of the quorum's leader, the active controller: each voter records the leader it
        knows, with the election's epoch, in its metadata log's quorum-state file; the latest epoch tells."""
        known = []
        for broker in self.running():
            state = broker.data_dir / "data" / "__cluster_metadata-0" / "quorum-state"
            try:
                quorum = json.loads(state.read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                continue  # being rewritten: the others tell
            if quorum.get("leaderId", -1) >= 0:
                known.append((quorum["leaderEpoch"], quorum["leaderId"]))
        if not known:
            raise RuntimeError("no voter knows a quorum leader")
        return max(known)[1]


async def answers(bootstrap: str, timeout: float = 5.0, **client_options) -> bool:
    """True when the cluster at `bootstrap` serves metadata."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000), **client_options)
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await asyncio.wait_for(admin.describe_cluster(), timeout)
        return True
    except Exception:
        return False
    finally:
        await admin.close()


def spawn_worker(bootstrap: str, log_path: Path, **env: str) -> subprocess.Popen:
    """Start `python -m workers worker` against `bootstrap`; settings come as environment variables.
    faust's folder goes beside the log, so that it goes with the run's other files."""
    environment = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "WEB_PORT": str(free_port()),
                   "DATA_DIR": str(log_path.with_suffix(".data")),
                   "PYTHONUNBUFFERED": "1", **{k.upper(): v for k, v in env.items()}}
    return subprocess.Popen(
        [sys.executable, "-m", "workers", "worker"],
        env=environment, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def isolated_settings(bootstrap: str, label: str = "test", audit: bool = False, **overrides) -> Settings:
    """Settings with topic names and a group of their own, so runs never see each other's messages;
    `audit` turns the segments topic on."""
    tag = uuid.uuid4().hex[:8]
    topics = ("raw", "articles", "metrics", "deadletter", "observations", "templates", "reprints") + \
        (("segments",) if audit else ())
    names = {f"topic_{t}": f"{tag}.{t}" for t in topics}
    return Settings(kafka_bootstrap_servers=bootstrap, app_id=f"{label}-{tag}", **names | overrides)


def worker_env(settings: Settings) -> dict[str, str]:
    """The settings a worker process needs to serve `settings`, as spawn_worker's variables."""
    return {k: str(v) for k, v in settings.model_dump(exclude_none=True).items()
            if k.startswith(("topic_", "app_id", "processing_guarantee", "max_page_bytes", "fault_marker", "agent_",
                              "delivery_"))}


async def web_get(port: int, path: str) -> tuple[int, str]:
    """GET `path` from a worker's web server: (status, body)."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as response:
            return response.status, await response.text()


async def wait_until_ready(port: int, timeout: float = 120.0) -> dict:
    """Poll a worker's /readyz until it answers 200 (partitions assigned, broker answering); its JSON."""
    import aiohttp

    deadline = time.monotonic() + timeout
    while True:
        try:
            status, body = await web_get(port, "/readyz")
            if status == 200:
                return json.loads(body)
        except aiohttp.ClientConnectionError:
            pass  # the web server is not up yet
        if time.monotonic() > deadline:
            raise TimeoutError(f"worker on port {port} not ready within {timeout}s")
        await asyncio.sleep(0.5)


def stop_process(process: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> int:
    """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _cluster_id() -> str:
    # KRaft cluster ids are 16 random bytes, URL-safe base64 without padding (as kafka-storage random-uuid).
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _saved_controller_port(config: Path, node_id: int) -> int | None:
    """The controller port `config` gave node `node_id` (a restarted node keeps its voter's address)."""
    if not config.exists():
        return None
    for line in config.read_text().splitlines():
        if line.startswith("controller.quorum.voters="):
            for voter in line.split("=", 1)[1].split(","):
                node, address = voter.split("@")
                if int(node) == node_id:
                    return int(address.rsplit(":", 1)[1])
    return None


def _saved_cluster_id(folders: list[Path]) -> str | None:
    """The id a node of the cluster was formatted with, so that a node formatted later joins it."""
    for folder in folders:
        meta = folder / "data" / "meta.properties"
        if meta.exists():
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1]
    return None


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m workers broker", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the (first) broker's port")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--nodes", type=int, default=None,
                        help="nodes of a local cluster (default BROKER_NODES; stop and status find a cluster's nodes)")
    args = parser.parse_args(argv)
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        print(f"KAFKA_BOOTSTRAP_SERVERS is set ({os.environ['KAFKA_BOOTSTRAP_SERVERS']}): using that cluster")
        return 0
    nodes = args.nodes or Settings().broker_nodes
    if args.nodes is None and args.action != "start":
        nodes = len(list(args.data_dir.glob("node-*"))) or nodes
    local = (Broker(data_dir=args.data_dir, port=args.port) if nodes == 1
             else Cluster(data_dir=args.data_dir, nodes=nodes, port=args.port))
    what = "broker" if nodes == 1 else f"{nodes}-node cluster"
    if args.action == "start":
        started = time.monotonic()
        local.start()
        print(f"{what} up on {local.bootstrap} in {time.monotonic() - started:.1f}s "
              f"(Kafka {KAFKA_VERSION}, data {args.data_dir})")
    elif args.action == "stop":
        local.stop()
        print(f"{what} stopped")
    else:
        running = [local] if nodes == 1 and local.running_pid() else [] if nodes == 1 else local.running()
        for broker in running:
            print(f"node {broker.node_id} running, pid {broker.running_pid()}, {broker.bootstrap}")
        if not running:
            print(f"{what} not running")
        return 0 if len(running) == nodes else 1
    return 0
