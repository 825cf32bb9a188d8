"""A local single-node Apache Kafka broker (KRaft, broker+controller), run from the official jars,
and worker processes beside it: what the main job, the tests and the benchmarks run on.

The jars of `org.apache.kafka:kafka_2.13` and their dependencies are resolved from Maven Central
with Maven into a cache folder outside the repository, once; later starts reuse them. The broker
binds to 127.0.0.1 only. When KAFKA_BOOTSTRAP_SERVERS is set, nothing is started: that cluster is used.

    python -m workers broker start | stop | status
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
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
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"{listeners},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": listeners,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": f"{protocols},CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir / "data"),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "min.insync.replicas": "1",
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
        if self.running_pid():
            return self
        libs = jars_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        if not self.controller_port:
            self.controller_port = _saved_controller_port(config) or free_port()
        config.write_text(self.properties())
        (self.data_dir / "log4j2.yaml").write_text(_LOG4J2.format(log=self.log_file))
        java = ["java", HEAP, JIT, f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.yaml'}", *self.jvm_options,
                "-cp", f"{libs}/*"]
        if not (self.data_dir / "data" / "meta.properties").exists():
            subprocess.run(
                [*java, "kafka.tools.StorageTool", "format", f"--cluster-id={_cluster_id()}", "-c", str(config),
                 *(f"--add-scram={mechanism}=[name={name},password={password}]"
                   for name, password in self.scram_users.items() for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"))],
                check=True, stdout=subprocess.DEVNULL,
            )
        process = subprocess.Popen(
            [*java, "kafka.Kafka", str(config)],
            stdout=subprocess.DEVNULL, stderr=open(self.data_dir / "broker.stderr", "ab"),
            start_new_session=True,  # a Ctrl-C in the caller's terminal must not kill the broker half-way
        )
        self.pid_file.write_text(str(process.pid))
        self._wait_ready(process)
        return self

    def _wait_ready(self, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"broker exited with {process.returncode}; see {self.log_file}")
            if _listening(self.port) and asyncio.run(answers(self.bootstrap)):
                return
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"broker did not answer on {self.bootstrap} within {START_TIMEOUT_S}s")

    def stop(self) -> None:
        pid = self.running_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)


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
    topics = ("raw", "articles", "metrics", "deadletter", "observations", "templates") + (("segments",) if audit else ())
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


def _saved_controller_port(config: Path) -> int | None:
    if not config.exists():
        return None
    for line in config.read_text().splitlines():
        if line.startswith("controller.quorum.voters="):
            return int(line.rsplit(":", 1)[1])
    return None


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m workers broker", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        print(f"KAFKA_BOOTSTRAP_SERVERS is set ({os.environ['KAFKA_BOOTSTRAP_SERVERS']}): using that cluster")
        return 0
    broker = Broker(data_dir=args.data_dir, port=args.port)
    if args.action == "start":
        started = time.monotonic()
        broker.start()
        print(f"broker up on {broker.bootstrap} in {time.monotonic() - started:.1f}s (Kafka {KAFKA_VERSION}, data {broker.data_dir})")
    elif args.action == "stop":
        broker.stop()
        print("broker stopped")
    else:
        pid = broker.running_pid()
        print(f"broker running, pid {pid}, {broker.bootstrap}" if pid else "broker not running")
        return 0 if pid else 1
    return 0
