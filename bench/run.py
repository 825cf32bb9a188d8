"""Throughput, latency and memory of the pipeline and the stream worker, measured in one run.

    .venv/bin/python bench/run.py [--quick] [--offline] [--json out.json]

Pages come from ../shared/corpus/dev/*.jsonl, repeated until each figure has about ten seconds of work
(one with --quick); --offline stops after the offline figures (no broker, no worker). The stream
figures run against a local Kafka broker started in a temporary folder, or against
KAFKA_BOOTSTRAP_SERVERS when it is set; every measurement has topics and a group of its own.

Costs are CPU time, which does not move with the neighbours as throughput does: the offline pipeline's
pages a CPU second against one jieba.lcut pass over the same pages, and the worker process's own CPU
seconds (user + system, every thread, from /proc) a page against the offline pipeline's on the same
pages, measured in the same round. Two workers / one is throughput, each two-worker run set against
the one-worker runs just before and after it. Every figure is the median of ROUNDS rounds, shown with
their range; a target inside that range is reported as such. The bench and its workers run under one
hash seed (a new one each run): the pipeline's speed moves with it.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import jieba
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console
from rich.table import Table

from workers.agents import page_outputs  # the worker's own message building
from workers.app import MAX_MESSAGE_BYTES, ensure_topics
from workers.localkafka import (Broker, free_port, isolated_settings, spawn_worker, stop_process,
                                wait_until_ready, worker_env)
from workers.pipeline import decode_page, load_dictionary, process_page
from workers.pipeline.classify import forget_lines
from workers.settings import Settings, client_options

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "dev"
STAGES = ("split", "classify", "assemble", "facts", "keywords", "serialise")
STREAM_TIMEOUT_S = 600.0
ROUNDS = 3  # every figure is the median of this many rounds, shown with their range
GUARANTEES = ("at_least_once", "exactly_once")

TARGETS = {  # figure: (comparison, bound)
    "offline_per_floor": (">=", 3.0),
    "worker_per_offline_cpu_at_least_once": ("<=", 1.10),
    "worker_per_offline_cpu_exactly_once": ("<=", 1.25),
    "two_workers_per_one": (">=", 1.6),
    "p99_ms_at_least_once": ("<=", 100.0),
    "peak_rss_mb": ("<=", 350.0),
}


def corpus_lines() -> list[bytes]:
    """The raw-page messages of the dev corpus, one per line, as a scraper sends them."""
    return [line.rstrip(b"\r\n") for path in sorted(CORPUS.glob("*.jsonl"))
            for line in path.read_bytes().splitlines() if line.strip()]


def passes_for(seconds: float, pages_per_s: float, corpus_size: int) -> int:
    """Whole passes over the corpus that take at least `seconds` at `pages_per_s`."""
    return max(1, math.ceil(seconds * pages_per_s / corpus_size))


def measure_floor(texts: list[str], seconds: float) -> float:
    """Pages a CPU second of one jieba pass over each page's whole text: the least any pipeline once did."""
    pages, started, cpu_started = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        for text in texts:
            jieba.lcut(text, HMM=False)
        pages += len(texts)
    return pages / (time.process_time() - cpu_started)


@dataclass
class OfflineRun:
    pages_per_cpu_s: float
    cpu_ms_per_page: float
    stage_seconds: dict[str, float]


def measure_offline(lines: list[bytes], seconds: float, passes: int | None = None, new_each_pass: bool = True) -> OfflineRun:
    """The CPU a page of the worker's in-process work (decoding, the pipeline, the messages), in this
    process alone, and the seconds spent in each stage: over `passes` passes of the corpus, else as
    many as fill `seconds`. The classifier keeps the forms of the lines it has seen; with
    `new_each_pass` it forgets them before every pass, so that every page is new to it (a site's own
    repeated lines still count); without, only before the first, as a worker started afresh is and
    as the stream's copies of the corpus find it."""
    max_bytes = Settings().max_page_bytes
    stage_seconds: dict[str, float] = defaultdict(float)
    done, pages, started, cpu_started = 0, 0, time.perf_counter(), time.process_time()
    while (done < passes) if passes else (time.perf_counter() - started < seconds):
        if new_each_pass or not done:
            forget_lines()
        done += 1
        for line in lines:
            result = process_page(decode_page(line, max_bytes))
            serialise_started = time.perf_counter()
            page_outputs(result)
            stage_seconds["serialise"] += time.perf_counter() - serialise_started
            for stage, spent in result.timings.items():
                stage_seconds[stage] += spent
        pages += len(lines)
    cpu = time.process_time() - cpu_started
    return OfflineRun(pages / cpu, cpu * 1000 / pages, dict(stage_seconds))


def stream_messages(lines: list[bytes], passes: int, tag: str = "bench") -> list[tuple[bytes, bytes]]:
    """(key, value) of `passes` copies of `lines`; each copy's URLs made unique so every page is told apart."""
    messages = []
    for copy in range(passes):
        for line in lines:
            page = orjson.loads(line)
            page["url"] = f"{page['url']}#{tag}-{copy}"
            messages.append((page["url"].encode(), orjson.dumps(page)))
    return messages


@dataclass
class StreamRun:
    pages: int
    pages_per_s: float
    latencies_ms: list[float]
    peak_rss_mb: float  # the largest worker's
    dead_letters: int
    cpu_ms_per_page: dict[str, float]  # workers (together), broker (when the bench started it), load generator


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_clocks(workers: list[int], broker: int | None) -> dict[str, float]:
    clocks = {"worker": sum(map(cpu_seconds, workers)), "load generator": time.process_time()}
    if broker:
        clocks["broker"] = cpu_seconds(broker)
    return clocks


async def run_stream(bootstrap: str, logs: Path, messages: list[tuple[bytes, bytes]], workers: int = 1,
                     rate: float | None = None, guarantee: str = "at_least_once", broker_pid: int | None = None,
                     **overrides) -> StreamRun:
    """Start `workers` worker processes, send every page (at most `rate` pages/s) and wait for every output;
    `overrides` are settings of the workers' (topic_... or processing_...)."""
    settings = isolated_settings(bootstrap, label="bench", processing_guarantee=guarantee, **overrides)
    await ensure_topics(settings)
    processes, ports = [], []
    try:
        for n in range(workers):
            ports.append(free_port())
            processes.append(spawn_worker(bootstrap, logs / f"{settings.app_id}-{n}.log",
                                          **worker_env(settings), web_port=str(ports[-1])))
        for port in ports:
            await wait_until_ready(port)
        for port in ports:  # the last worker's join may have moved partitions away from the first
            await wait_until_ready(port)
        consumer = await started_output_consumer(settings, guarantee)
        try:
            # One page per partition first, so that no worker loads its dictionaries on the clock.
            warmup = stream_messages([messages[0][1]], settings.topic_partitions, tag="warmup")
            receiving = asyncio.create_task(receive(consumer, settings, {key for key, _ in warmup}))
            await send(settings, warmup, spread=True)
            await asyncio.wait_for(receiving, STREAM_TIMEOUT_S)
            pids = [p.pid for p in processes]
            cpu_before = cpu_clocks(pids, broker_pid)
            receiving = asyncio.create_task(receive(consumer, settings, {key for key, _ in messages}))
            sent_at = await send(settings, messages, rate)
            received_at, dead_letters = await asyncio.wait_for(receiving, STREAM_TIMEOUT_S)
            cpu_used = {name: (spent - cpu_before[name]) * 1000 / len(messages)
                        for name, spent in cpu_clocks(pids, broker_pid).items()}
        finally:
            await consumer.stop()
        peak_rss_mb = max(peak_rss_kb(p.pid) for p in processes) / 1024
    finally:
        for process in processes:
            stop_process(process)
    elapsed = max(received_at.values()) - min(sent_at.values())
    latencies = [(received_at[key] - sent_at[key]) * 1000 for key in received_at]
    return StreamRun(len(messages), len(messages) / elapsed, latencies, peak_rss_mb, dead_letters, cpu_used)


async def started_output_consumer(settings: Settings, guarantee: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        settings.topic_articles, settings.topic_deadletter, **client_options(settings), group_id=None,
        # A fetch returns as soon as a byte is there (fetch_min_bytes 1): a long wait costs no latency,
        # and polling the broker often would cost it CPU that the workers share.
        auto_offset_reset="earliest", fetch_max_wait_ms=500,
        isolation_level="read_committed" if guarantee == "exactly_once" else "read_uncommitted",
        fetch_max_bytes=2 * MAX_MESSAGE_BYTES, max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
    )
    await consumer.start()
    return consumer


async def receive(consumer: AIOKafkaConsumer, settings: Settings, keys: set[bytes]) -> tuple[dict[bytes, float], int]:
    """Arrival time of the article (or dead letter) of each page in `keys`; and the number of dead letters."""
    received_at: dict[bytes, float] = {}
    dead_letters = 0
    while len(received_at) < len(keys):
        batch = await consumer.getmany(timeout_ms=100)
        now = time.monotonic()
        for records in batch.values():
            for record in records:
                if record.key in keys and record.key not in received_at:
                    received_at[record.key] = now
                    dead_letters += record.topic == settings.topic_deadletter
    return received_at, dead_letters


async def send(settings: Settings, messages: list[tuple[bytes, bytes]], rate: float | None = None,
               spread: bool = False) -> dict[bytes, float]:
    """Send every page to the input topic, at most `rate` pages/s; the send time of each, by key.
    With `spread`, page n goes to partition n (modulo the partition count) instead of by key."""
    producer = AIOKafkaProducer(**client_options(settings), max_request_size=MAX_MESSAGE_BYTES,
                                linger_ms=0 if rate else 5)
    await producer.start()
    sent_at: dict[bytes, float] = {}
    try:
        pending, started = [], time.monotonic()
        for n, (key, value) in enumerate(messages):
            if rate:  # page n leaves no earlier than n / rate seconds after the start
                await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            sent_at[key] = time.monotonic()
            partition = n % settings.topic_partitions if spread else None
            pending.append(await producer.send(settings.topic_raw, value=value, key=key, partition=partition))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent_at


def peak_rss_kb(pid: int) -> int:
    """VmHWM: the most resident memory the process has had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


async def measure_stream(bootstrap: str, logs: Path, lines: list[bytes], offline_rate: float, seconds: float,
                         figures: dict, broker_pid: int | None) -> None:
    """ROUNDS rounds of: the offline pipeline's CPU a page, then one worker at_least_once, one worker
    exactly_once, two workers, and one worker at_least_once and exactly_once paced at half the first
    round's one-worker rate; one more one-worker run closes the last two-worker round's bracket."""
    # A broker runs for weeks: let the JVM compile its hot paths on a pass of the corpus first,
    # so that the figures do not carry its start-up.
    await run_stream(bootstrap, logs, stream_messages(lines, 1, tag="broker-warmup"))
    one_messages = stream_messages(lines, passes_for(seconds, offline_rate, len(lines)))
    copies = len(one_messages) // len(lines)
    two_messages = stream_messages(lines, 2 * copies)
    measured: list[StreamRun] = []  # every run below, for the dead letters

    async def stream(messages: list[tuple[bytes, bytes]], **options) -> StreamRun:
        measured.append(run := await run_stream(bootstrap, logs, messages, broker_pid=broker_pid, **options))
        return run

    rounds: dict[str, list] = defaultdict(list)
    one = await stream(one_messages)
    rate = paced = None
    for _ in range(ROUNDS):
        # Offline and in the worker, the same pages: the corpus, a pass of it and many passes of it.
        offline_cpu_ms = measure_offline(lines, seconds, copies, new_each_pass=False).cpu_ms_per_page
        exactly_once = await stream(one_messages, guarantee="exactly_once")
        two = await stream(two_messages, workers=2)
        one_after = await stream(one_messages)
        rounds["offline_cpu_ms"].append(offline_cpu_ms)
        rounds["one_worker"].append(one)
        rounds["exactly_once"].append(exactly_once)
        rounds["two_workers"].append(two)
        rounds["two_workers_per_one"].append(two.pages_per_s / ((one.pages_per_s + one_after.pages_per_s) / 2))
        if rate is None:  # the same rate in every round, from the first one-worker run
            rate = one.pages_per_s / 2
            paced = stream_messages(lines, passes_for(seconds, rate, len(lines)))
        paced_runs = [await stream(paced, rate=rate, guarantee=guarantee) for guarantee in GUARANTEES]
        for guarantee, run in zip(GUARANTEES, paced_runs):
            rounds[f"paced_{guarantee}"].append(run)
        rounds["peak_rss_mb"].append(max(r.peak_rss_mb for r in (one, exactly_once, two, one_after, *paced_runs)))
        one = one_after

    offline = rounds["offline_cpu_ms"]
    for run, guarantee in (("one_worker", "at_least_once"), ("exactly_once", "exactly_once")):
        worker_ms = [r.cpu_ms_per_page["worker"] for r in rounds[run]]
        figures |= {f"worker_cpu_ms_{guarantee}": worker_ms,
                    f"worker_per_offline_cpu_{guarantee}": [w / o for w, o in zip(worker_ms, offline)],
                    f"{run}_pages_per_s": [r.pages_per_s for r in rounds[run]]}
        for process in ("broker", "load generator"):
            if process in rounds[run][0].cpu_ms_per_page:
                figures[f"{process}_cpu_ms_{guarantee}".replace(" ", "_")] = [r.cpu_ms_per_page[process] for r in rounds[run]]
    figures |= {"offline_cpu_ms": offline,
                "two_workers_pages_per_s": [r.pages_per_s for r in rounds["two_workers"]],
                "two_workers_per_one": rounds["two_workers_per_one"],
                "latency_rate_pages_per_s": rate,
                "peak_rss_mb": rounds["peak_rss_mb"],  # the largest worker's in each round
                "stream_pages": len(one_messages), "dead_letters": sum(r.dead_letters for r in measured)}
    for guarantee in GUARANTEES:
        runs = rounds[f"paced_{guarantee}"]
        figures |= {f"p50_ms_{guarantee}": [percentile(r.latencies_ms, 0.50) for r in runs],
                    f"p99_ms_{guarantee}": [percentile(r.latencies_ms, 0.99) for r in runs]}


def spread(values: list[float]) -> tuple[float, float, float]:
    """Median, least and most of a figure's rounds."""
    return statistics.median(values), min(values), max(values)


def verdict(values: list[float], target: str) -> str:
    """Met in every round, missed in every round, or the bound inside the rounds' range."""
    comparison, bound = TARGETS[target]
    met = [v >= bound if comparison == ">=" else v <= bound for v in values]
    return "[green]ok[/]" if all(met) else "[red]missed[/]" if not any(met) else "[yellow]inside its range[/]"


def show(figures: dict) -> None:
    table = Table(title=f"cn-article-worker benchmark, {figures['date']}, hash seed {figures['hash_seed']}, "
                        f"median of {ROUNDS} rounds (range)")
    table.add_column("figure")
    table.add_column("median", justify="right")
    table.add_column("range", justify="right")
    table.add_column("target", justify="right")
    table.add_column("")
    rows = [
        ("floor: one jieba.lcut pass, pages a CPU second", "floor_pages_per_cpu_s"),
        ("offline pipeline, pages a CPU second", "offline_pages_per_cpu_s"),
        ("offline / floor", "offline_per_floor"),
        ("offline pipeline, CPU ms a page", "offline_cpu_ms"),
        ("one worker, at_least_once: worker CPU ms a page", "worker_cpu_ms_at_least_once"),
        ("  worker / offline CPU a page", "worker_per_offline_cpu_at_least_once"),
        ("one worker, exactly_once: worker CPU ms a page", "worker_cpu_ms_exactly_once"),
        ("  worker / offline CPU a page", "worker_per_offline_cpu_exactly_once"),
        ("broker CPU ms a page, at_least_once", "broker_cpu_ms_at_least_once"),
        ("broker CPU ms a page, exactly_once", "broker_cpu_ms_exactly_once"),
        ("load generator CPU ms a page, at_least_once", "load_generator_cpu_ms_at_least_once"),
        ("one worker, at_least_once, pages/s", "one_worker_pages_per_s"),
        ("one worker, exactly_once, pages/s", "exactly_once_pages_per_s"),
        ("two workers, pages/s", "two_workers_pages_per_s"),
        ("two workers / one (the one-worker runs just before and after)", "two_workers_per_one"),
        ("p50 ms, at_least_once, at half the first one-worker rate", "p50_ms_at_least_once"),
        ("p99 ms, at_least_once, at half the first one-worker rate", "p99_ms_at_least_once"),
        ("p50 ms, exactly_once, the same rate", "p50_ms_exactly_once"),
        ("p99 ms, exactly_once, the same rate", "p99_ms_exactly_once"),
        ("worker peak RSS, MB (the largest worker of each round)", "peak_rss_mb"),
    ]
    for title, key in rows:
        if key not in figures:
            continue
        target = key if key in TARGETS else None
        median, least, most = spread(figures[key])
        table.add_row(title, f"{median:.3g}" if median < 10 else f"{median:.1f}",
                      f"{least:.3g}–{most:.3g}" if most < 10 else f"{least:.1f}–{most:.1f}",
                      " ".join(map(str, TARGETS[target])) if target else "", verdict(figures[key], target) if target else "")
    if "dead_letters" in figures:  # the stream was measured
        table.add_row("latency runs' rate, pages/s", f"{figures['latency_rate_pages_per_s']:.1f}", "", "", "")
        table.add_row("dead letters (every run)", str(figures["dead_letters"]), "", "", "")
    for stage in STAGES:
        table.add_row(f"share of pipeline time: {stage}", f"{figures['stage_shares'][stage]:.1%}", "", "", "")
    Console().print(table)


def share_one_hash_seed() -> None:
    """Run the bench, and so the workers it starts, under one hash seed: a new one each run.

    Python seeds its str hashes anew in every process, and the pipeline's speed moves with the seed by up
    to 7 % (the offline rate under seeds 1–8: 175–193 pages/s, bench/RESULTS.md), so a worker set against an
    offline rate measured under another seed reads up to that much too fast or too slow."""
    if "PYTHONHASHSEED" not in os.environ:
        os.environ["PYTHONHASHSEED"] = str(random.randint(1, 2**32 - 1))
        os.execv(sys.executable, [sys.executable, *sys.argv])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about one second per figure: a smoke run")
    parser.add_argument("--offline", action="store_true", help="only the offline figures: no broker, no worker")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    share_one_hash_seed()
    seconds = 1.0 if args.quick else 10.0
    lines = corpus_lines()
    figures: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "corpus_pages": len(lines), "seconds_per_figure": seconds,
                     "hash_seed": os.environ["PYTHONHASHSEED"]}

    load_dictionary()  # as the worker does
    texts = [decode_page(line, Settings().max_page_bytes).text for line in lines]
    floor, offline = [], []
    for _ in range(ROUNDS):  # alternating, so that both see the same drift of the machine
        floor.append(measure_floor(texts, seconds))
        offline.append(measure_offline(lines, seconds))
    stage_seconds = {s: sum(run.stage_seconds[s] for run in offline) for s in STAGES}
    figures |= {"floor_pages_per_cpu_s": floor, "offline_pages_per_cpu_s": [run.pages_per_cpu_s for run in offline],
                "offline_per_floor": [run.pages_per_cpu_s / f for run, f in zip(offline, floor)],
                "stage_shares": {s: spent / sum(stage_seconds.values()) for s, spent in stage_seconds.items()}}
    offline_rate = statistics.median(run.pages_per_cpu_s for run in offline)
    if not args.offline:
        measure_stream_figures(lines, offline_rate, seconds, figures)
    show(figures)
    if args.json:
        args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
    return 0


def measure_stream_figures(lines: list[bytes], offline_rate: float, seconds: float, figures: dict) -> None:
    """The stream figures, against a broker started here unless KAFKA_BOOTSTRAP_SERVERS names one."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    broker, finished = None, False
    try:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            broker = Broker(data_dir=workdir / "broker", port=free_port()).start()
            bootstrap = broker.bootstrap
        broker_pid = int(broker.pid_file.read_text()) if broker else None
        asyncio.run(measure_stream(bootstrap, workdir, lines, offline_rate, seconds, figures, broker_pid))
        finished = True
    finally:
        if broker:
            broker.stop()
        if finished:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"broker and worker logs kept in {workdir}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
