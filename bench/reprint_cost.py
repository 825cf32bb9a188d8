"""The worker CPU that reprints in the stream cost (workers/signatures.py): one worker at_least_once over the
same pages with TOPIC_REPRINTS set (its index, each page's lookup, fold and signature record, and the reader
folding the records back) and empty (none of it), the two alternating for ROUNDS rounds.

    .venv/bin/python bench/reprint_cost.py [--passes N]

Pages are the dev corpus, `--passes` times, each pass under URLs of its own (bench/run.py): every pass after
the first is a reprint of the first. Prints the worker's CPU ms a page both ways, median of the rounds and
their range, and the difference's share.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from run import ROUNDS, corpus_lines, run_stream, share_one_hash_seed, stream_messages  # bench/ is first on sys.path
from workers.localkafka import Broker, free_port


async def measure(bootstrap: str, logs: Path, messages: list[tuple[bytes, bytes]], broker_pid: int) -> dict[str, list]:
    await run_stream(bootstrap, logs, messages[:200], broker_pid=broker_pid)  # the broker's JIT warms up first
    cpu: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(ROUNDS):
        for name, overrides in (("with", {}), ("without", {"topic_reprints": ""})):
            run = await run_stream(bootstrap, logs, messages, broker_pid=broker_pid, **overrides)
            cpu[name].append(run.cpu_ms_per_page["worker"])
    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2, help="passes over the dev corpus a round")
    args = parser.parse_args()
    share_one_hash_seed()
    messages = stream_messages(corpus_lines(), args.passes)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    broker = Broker(data_dir=workdir / "broker", port=free_port()).start()
    try:
        cpu = asyncio.run(measure(broker.bootstrap, workdir, messages, int(broker.pid_file.read_text())))
    finally:
        broker.stop()
    print(f"{len(messages)} pages a round, {ROUNDS} rounds; worker CPU ms a page, median (range):")
    for name, values in cpu.items():
        print(f"  {name} reprints in the stream: {statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})")
    extra = [w - o for w, o in zip(cpu["with"], cpu["without"])]
    share = [e / o for e, o in zip(extra, cpu["without"])]
    print(f"  the layer's cost: {statistics.median(extra):.3f} ms a page ({min(extra):.3f}-{max(extra):.3f}), "
          f"{statistics.median(share):.1%} of the worker's CPU ({min(share):.1%}-{max(share):.1%}), each round "
          f"set against the run beside it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
