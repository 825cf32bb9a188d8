"""Throughput, latency and memory of the pipeline and the stream worker, measured in one run.

    .venv/bin/python bench/run.py [--quick] [--json out.json]

Pages come from ../shared/corpus/dev/*.jsonl, repeated until each figure has about ten seconds of work
(one with --quick). The stream figures run against a local Kafka broker started in a temporary folder,
or against KAFKA_BOOTSTRAP_SERVERS when it is set; every measurement has topics and a group of its own.
Each stream run also reports the CPU time a page costs the workers, the broker (when the bench started
it) and the bench's own producer and consumer: on two cores, what the broker and the load generator
spend is taken from the second worker. The one-worker figures are those of the median of three runs,
each set against the offline rate measured just before and just after it; the two-worker figures those
of the median of three runs, each set against the one-worker runs just before and just after it.
Beside the one-worker run's end-to-end rate, its steady rate (between the first and the last tenth of
its outputs) leaves out the first second, while the broker takes in every page at once and the worker
shares the two cores with it. The bench and its workers run under one hash seed (a new one each run):
the pipeline's speed moves with it.
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
from workers.settings import Settings, client_options

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "dev"
STAGES = ("split", "classify", "assemble", "facts", "keywords", "serialise")
STREAM_TIMEOUT_S = 600.0
STREAM_REPEATS = 3  # one-worker runs, each between two offline measurements; the median ratio is the figure
TWO_WORKER_REPEATS = 3  # two-worker runs, each between two one-worker runs; the median ratio is the figure

TARGETS = {  # figure: (comparison, bound)
    "offline_per_floor": (">=", 1.0),
    "stream_per_offline": (">=", 0.9),
    "two_workers_per_one": (">=", 1.6),
    "p99_ms_at_least_once": ("<=", 150.0),
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
    """Pages/s of one jieba pass over each page's whole text: the least any pipeline must do."""
    pages, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for text in texts:
            jieba.lcut(text, HMM=False)
        pages += len(texts)
    return pages / (time.perf_counter() - started)


def measure_offline(lines: list[bytes], seconds: float) -> tuple[float, dict[str, float]]:
    """Pages/s of the worker's in-process work per page, and the seconds spent in each stage."""
    max_bytes = Settings().max_page_bytes
    stage_seconds: dict[str, float] = defaultdict(float)
    pages, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for line in lines:
            result = process_page(decode_page(line, max_bytes))
            serialise_started = time.perf_counter()
            page_outputs(result)
            stage_seconds["serialise"] += time.perf_counter() - serialise_started
            for stage, spent in result.timings.items():
                stage_seconds[stage] += spent
        pages += len(lines)
    return pages / (time.perf_counter() - started), dict(stage_seconds)


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
    steady_pages_per_s: float
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
                     rate: float | None = None, guarantee: str = "at_least_once", broker_pid: int | None = None) -> StreamRun:
    """Start `workers` worker processes, send every page (at most `rate` pages/s) and wait for every output."""
    settings = isolated_settings(bootstrap, label="bench", processing_guarantee=guarantee)
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
    return StreamRun(len(messages), len(messages) / elapsed, steady_rate(list(received_at.values())), latencies,
                     peak_rss_mb, dead_letters, cpu_used)


def steady_rate(arrivals: list[float]) -> float:
    """Pages/s between the arrival of the first and of the last tenth of the outputs: the worker's sustained
    rate, without the run's first second, while the broker takes in every page at once, nor its end."""
    times = sorted(arrivals)
    first, last = len(times) // 10, len(times) - 1 - len(times) // 10
    return (last - first) / (times[last] - times[first])


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


def median_round(ratios: list[float], rounds: list):
    """The round whose ratio is the median of `ratios` (the lower middle one of an even count)."""
    return rounds[ratios.index(statistics.median_low(ratios))]


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
    # A broker runs for weeks: let the JVM compile its hot paths on a pass of the corpus first,
    # so that the figures do not carry its start-up.
    await run_stream(bootstrap, logs, stream_messages(lines, 1, tag="broker-warmup"))

    # The machine's speed drifts by up to a fifth over minutes, and by several per cent between neighbouring
    # ten-second windows (bench/RESULTS.md): each one-worker run is set against the offline rates measured
    # just before and just after it.
    one_messages = stream_messages(lines, passes_for(seconds, offline_rate, len(lines)))

    measured: list[StreamRun] = []  # every run below, for the workers' peak RSS and the dead letters

    async def stream(messages: list[tuple[bytes, bytes]], **options) -> StreamRun:
        measured.append(run := await run_stream(bootstrap, logs, messages, broker_pid=broker_pid, **options))
        return run

    async def bracketed_one_worker_run() -> tuple[StreamRun, float, float]:
        before = measure_offline(lines, seconds)[0]
        run = await stream(one_messages)
        return run, before, measure_offline(lines, seconds)[0]

    brackets = [await bracketed_one_worker_run()]
    first = brackets[0][0]

    # Likewise each two-worker run against the one-worker runs just before and just after it; the median of
    # TWO_WORKER_REPEATS such rounds is the figure (a single one read 1.52–1.85 on this machine, bench/RESULTS.md).
    two_messages = stream_messages(lines, 2 * len(one_messages) // len(lines))
    scale_rounds: list[tuple[float, StreamRun]] = []

    async def two_worker_round(one_before: StreamRun) -> StreamRun:
        two = await stream(two_messages, workers=2)
        one_after = await stream(one_messages)
        scale_rounds.append((two.pages_per_s / ((one_before.pages_per_s + one_after.pages_per_s) / 2), two))
        return one_after

    one_after = await two_worker_round(first)

    # The same pages under exactly_once, against the one-worker run just before it.
    transactional = await stream(one_messages, guarantee="exactly_once")
    figures |= {"exactly_once_pages_per_s": transactional.pages_per_s,
                "exactly_once_per_at_least_once": transactional.pages_per_s / one_after.pages_per_s,
                "cpu_ms_per_page_exactly_once": transactional.cpu_ms_per_page}

    rate = first.pages_per_s / 2
    figures["latency_rate_pages_per_s"] = rate
    paced = stream_messages(lines, passes_for(seconds, rate, len(lines)))
    for guarantee in ("at_least_once", "exactly_once"):
        run = await stream(paced, rate=rate, guarantee=guarantee)
        figures |= {f"p50_ms_{guarantee}": percentile(run.latencies_ms, 0.50),
                    f"p99_ms_{guarantee}": percentile(run.latencies_ms, 0.99)}

    # More rounds of each, after the rest: the figures are the median rounds'. They come last because the first
    # appends to a run's new partitions wait longer on this machine's disk the more runs the broker has taken
    # (bench/RESULTS.md): the latency figures are taken where they always were.
    one_after = await stream(one_messages)
    for _ in range(TWO_WORKER_REPEATS - 1):
        one_after = await two_worker_round(one_after)
    scale_ratios = [ratio for ratio, _ in scale_rounds]
    median_ratio, two = median_round(scale_ratios, scale_rounds)
    figures |= {"two_workers_pages_per_s": two.pages_per_s, "two_workers_per_one": median_ratio,
                "two_workers_per_one_runs": scale_ratios, "cpu_ms_per_page_two_workers": two.cpu_ms_per_page}

    brackets += [await bracketed_one_worker_run() for _ in range(STREAM_REPEATS - 1)]
    ratios = [run.pages_per_s / ((before + after) / 2) for run, before, after in brackets]
    one, before, after = median_round(ratios, brackets)
    offline_around = (before + after) / 2
    figures |= {"stream_pages_per_s": one.pages_per_s, "offline_before_stream": before,
                "offline_after_stream": after, "stream_per_offline": one.pages_per_s / offline_around,
                "stream_per_offline_runs": ratios,
                "steady_stream_pages_per_s": one.steady_pages_per_s,
                "steady_stream_per_offline": one.steady_pages_per_s / offline_around,
                "stream_pages": one.pages, "dead_letters": sum(run.dead_letters for run in measured),
                "cpu_ms_per_page_one_worker": one.cpu_ms_per_page,
                "peak_rss_mb": max(run.peak_rss_mb for run in measured)}


def show(figures: dict) -> None:
    table = Table(title=f"cn-article-worker benchmark, {figures['date']}, hash seed {figures['hash_seed']}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_column("")
    rows = [
        ("floor: one jieba pass, pages/s", "floor_pages_per_s", None),
        ("offline pipeline, pages/s", "offline_pages_per_s", None),
        ("offline / floor", "offline_per_floor", "offline_per_floor"),
        ("stream, one worker, pages/s", "stream_pages_per_s", None),
        ("offline just before the stream, pages/s", "offline_before_stream", None),
        ("offline just after the stream, pages/s", "offline_after_stream", None),
        ("stream / offline (their mean), the median run", "stream_per_offline", "stream_per_offline"),
        ("stream / offline, each run", "stream_per_offline_runs", None),
        ("stream, steady rate (outputs 10–90 %), pages/s", "steady_stream_pages_per_s", None),
        ("steady rate / offline (their mean)", "steady_stream_per_offline", None),
        ("stream, two workers (median round), pages/s", "two_workers_pages_per_s", None),
        ("two workers / one (the runs just before and after), the median round", "two_workers_per_one",
         "two_workers_per_one"),
        ("two workers / one, each round", "two_workers_per_one_runs", None),
        ("stream, one worker, exactly_once, pages/s", "exactly_once_pages_per_s", None),
        ("exactly_once / at_least_once (the run just before)", "exactly_once_per_at_least_once", None),
        ("latency at pages/s", "latency_rate_pages_per_s", None),
        ("p50 ms, at_least_once", "p50_ms_at_least_once", None),
        ("p99 ms, at_least_once", "p99_ms_at_least_once", "p99_ms_at_least_once"),
        ("p50 ms, exactly_once", "p50_ms_exactly_once", None),
        ("p99 ms, exactly_once", "p99_ms_exactly_once", None),
        ("worker peak RSS, MB", "peak_rss_mb", "peak_rss_mb"),
    ]
    for title, key, target in rows:
        if key not in figures:
            continue
        value = figures[key]
        if isinstance(value, list):
            table.add_row(title, " / ".join(f"{v:.3f}" for v in value), "", "")
        elif target:
            comparison, bound = TARGETS[target]
            met = value >= bound if comparison == ">=" else value <= bound
            table.add_row(title, f"{value:.2f}", f"{comparison} {bound:g}", "[green]ok[/]" if met else "[red]missed[/]")
        else:
            table.add_row(title, f"{value:.2f}" if value < 10 else f"{value:.1f}", "", "")
    for stage in STAGES:
        table.add_row(f"share of pipeline time: {stage}", f"{figures['stage_shares'][stage]:.1%}", "", "")
    for run in ("one_worker", "two_workers", "exactly_once"):
        for process, spent in figures.get(f"cpu_ms_per_page_{run}", {}).items():
            table.add_row(f"CPU ms a page, {run.replace('_', ' ')}: {process}", f"{spent:.2f}", "", "")
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
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    share_one_hash_seed()
    seconds = 1.0 if args.quick else 10.0
    lines = corpus_lines()
    figures: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "corpus_pages": len(lines), "seconds_per_figure": seconds,
                     "hash_seed": os.environ["PYTHONHASHSEED"]}

    load_dictionary()  # as the worker does
    figures["floor_pages_per_s"] = measure_floor([decode_page(line, Settings().max_page_bytes).text for line in lines], seconds)
    offline_rate, stage_seconds = measure_offline(lines, seconds)
    total = sum(stage_seconds[s] for s in STAGES)
    figures |= {"offline_pages_per_s": offline_rate, "offline_per_floor": offline_rate / figures["floor_pages_per_s"],
                "stage_shares": {s: stage_seconds[s] / total for s in STAGES}}

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

    show(figures)
    if args.json:
        args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
