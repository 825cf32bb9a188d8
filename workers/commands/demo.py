"""`demo`: the main job on one machine. Starts the local broker (unless KAFKA_BOOTSTRAP_SERVERS names a
cluster), a worker, feeds a page (the reference page by default), and prints what the worker publishes."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console
from rich.table import Table

from ..app import ensure_topics
from ..localkafka import Broker, free_port, spawn_worker, stop_process
from ..settings import Settings, client_options

REFERENCE_PAGE = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "seed" / "page.txt"
WAIT_S = 120.0


async def feed_and_collect(settings: Settings, page: dict) -> tuple[dict, list[dict], list[dict]]:
    """Send one page; wait for its article (or dead letter) and all its metric records."""
    key = page["url"].encode()
    producer = AIOKafkaProducer(**client_options(settings), max_request_size=32 * 1024 * 1024)
    consumer = AIOKafkaConsumer(settings.topic_articles, settings.topic_metrics, settings.topic_deadletter,
                                **client_options(settings), auto_offset_reset="earliest", group_id=None)
    await producer.start()
    await consumer.start()
    try:
        await producer.send_and_wait(settings.topic_raw, orjson.dumps(page), key=key)
        article, metrics, dead = None, [], []
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for record in (r for records in batch.values() for r in records if r.key == key):
                value = orjson.loads(record.value)
                if record.topic == settings.topic_articles:
                    article = value
                elif record.topic == settings.topic_metrics:
                    metrics.append(value)
                else:
                    dead.append(value)
            if dead or (article and len(metrics) >= article["fact_count"]):
                return article, metrics, dead
        raise TimeoutError(f"no output for {page['url']} within {WAIT_S:.0f}s")
    finally:
        await consumer.stop()
        await producer.stop()


def show(console: Console, article: dict | None, metrics: list[dict], dead: list[dict]) -> None:
    if dead:
        console.print_json(data=dead[0])
        return
    console.rule(f"[bold]articles.cleaned[/] · {article['url']}")
    shown = {k: v for k, v in article.items() if k not in ("body", "paragraphs")}
    console.print_json(data=shown)
    console.print("[bold]body[/]")
    console.print(article["body"], soft_wrap=True, highlight=False)
    console.rule(f"[bold]metrics.facts[/] · {len(metrics)} records")
    table = Table()
    for name in ("subject", "value", "unit", "qualifier", "period", "change", "surface"):
        table.add_column(name, overflow="fold")  # never cut a figure short, wrap it
    for m in metrics:
        period = m.get("period") or {}
        change = m.get("change")
        table.add_row(m["subject"], m["value"], m["unit"], m["qualifier"],
                      f"{period.get('start') or ''}..{period.get('end') or ''}" if period else "",
                      f"{change['kind']} {change['value']}{'%' if change['unit'] == '%' else 'pp'}" if change else "",
                      m["surface"])
    console.print(table)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers demo", description=__doc__)
    parser.add_argument("--page", type=Path, default=REFERENCE_PAGE, help="a .txt page to feed")
    parser.add_argument("--url", default=None, help="the page URL (default: derived from the path)")
    args = parser.parse_args(argv)
    # Wide enough for the figures when the output goes to a file; aiokafka's retry warnings about
    # partitions that are still electing their first leader are noise here.
    console = Console(width=None if sys.stdout.isatty() else 160)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    page = {"url": args.url or args.page.resolve().as_uri(), "text": args.page.read_text(encoding="utf-8")}
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    with tempfile.TemporaryDirectory(prefix="demo-") as scratch:
        broker = None if external else Broker(data_dir=Path(scratch) / "broker", port=free_port())
        if broker:
            with console.status("starting the local Kafka broker"):
                broker.start()
            console.print(f"broker up on {broker.bootstrap}")
        settings = Settings(kafka_bootstrap_servers=external or broker.bootstrap)
        asyncio.run(ensure_topics(settings))
        worker = spawn_worker(settings.kafka_bootstrap_servers, Path(scratch) / "worker.log")
        try:
            with console.status("worker processing the page"):
                article, metrics, dead = asyncio.run(feed_and_collect(settings, page))
            show(console, article, metrics, dead)
        finally:
            stop_process(worker)
            if broker:
                broker.stop()
    return 0
