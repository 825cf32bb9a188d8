"""`tail`: print what the worker publishes, readably: articles, metrics, deadletter or segments."""
from __future__ import annotations

import argparse
import asyncio
import base64

import orjson
from aiokafka import AIOKafkaConsumer
from rich.console import Console
from rich.markup import escape

from ..app import MAX_MESSAGE_BYTES
from ..settings import Settings, client_options, get_settings

BODY_PREVIEW_CHARS = 300
NOISE_STYLE = "red"
LABEL_STYLES = {"title": "bold green", "heading": "green", "paragraph": "green", "list_item": "green",
                "caption": "green", "source": "magenta"}


def topic_of(settings: Settings, name: str) -> str:
    return {"articles": settings.topic_articles, "metrics": settings.topic_metrics,
            "deadletter": settings.topic_deadletter, "segments": settings.topic_segments}[name]


def show_article(console: Console, a: dict) -> None:
    console.print(f"[bold]{escape(a.get('title') or '(no title)')}[/]", soft_wrap=True)
    meta = [a.get("source"), a.get("author"), a.get("published"), f"{a['fact_count']} facts",
            " ".join(a.get("keywords") or [])]
    console.print(escape(" · ".join(m for m in meta if m)), style="dim", soft_wrap=True)
    body = a["body"]
    console.print(escape(body[:BODY_PREVIEW_CHARS] + ("…" if len(body) > BODY_PREVIEW_CHARS else "")), soft_wrap=True)


def show_metric(console: Console, m: dict) -> None:
    period = f" [{m['period']['text']}]" if m.get("period") else ""
    change = f" {m['change']['kind']} {m['change']['value']}{'%' if m['change']['unit'] == '%' else 'pp'}" if m.get("change") else ""
    console.print(f"{escape(m['subject'])}: [bold]{m['value']} {m['unit']}[/] ({m['qualifier']}){escape(period)}{change}"
                  f"  [dim]{escape(m['surface'])}[/]", soft_wrap=True)


def show_deadletter(console: Console, d: dict) -> None:
    original = base64.b64decode(d["original_base64"]).decode("utf-8", errors="replace") if d["original_base64"] else ""
    console.print(f"[bold red]{escape(d['reason'])}[/] {escape(d['detail'])}  "
                  f"[dim]from {escape(d['topic'])}[{d['partition']}]@{d['offset']}[/]", soft_wrap=True)
    console.print(escape(original[:BODY_PREVIEW_CHARS]), style="dim", soft_wrap=True)


def show_segment(console: Console, s: dict) -> None:
    style = LABEL_STYLES.get(s["label"], NOISE_STYLE)
    console.print(f"{s['index']:>4} [{style}]{s['label']:<14}[/] {s['score']:.2f}  {escape(s['text'])}", soft_wrap=True)


SHOW = {"articles": show_article, "metrics": show_metric, "deadletter": show_deadletter, "segments": show_segment}


async def tail(settings: Settings, name: str, from_beginning: bool, read_committed: bool, limit: int | None) -> int:
    console = Console()
    consumer = AIOKafkaConsumer(
        topic_of(settings, name), **client_options(settings), group_id=None,
        auto_offset_reset="earliest" if from_beginning else "latest",
        isolation_level="read_committed" if read_committed else "read_uncommitted",
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES, fetch_max_bytes=MAX_MESSAGE_BYTES,
    )
    await consumer.start()
    shown = 0
    try:
        async for record in consumer:
            key = record.key.decode("utf-8", errors="replace") if record.key else "-"
            console.rule(style="dim")
            console.print(f"[cyan]{escape(key)}[/]  [dim]{record.topic}[{record.partition}]@{record.offset}[/]",
                          soft_wrap=True)
            SHOW[name](console, orjson.loads(record.value))
            shown += 1
            if limit and shown >= limit:
                break
    finally:
        await consumer.stop()
    return shown


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers tail", description=__doc__.splitlines()[0])
    parser.add_argument("topic", choices=list(SHOW))
    parser.add_argument("--from-beginning", action="store_true", help="start at the oldest message, not the newest")
    parser.add_argument("--read-committed", action="store_true", help="only messages of committed transactions")
    parser.add_argument("--limit", type=int, default=None, help="stop after this many messages")
    args = parser.parse_args(argv)
    settings = get_settings()
    if not topic_of(settings, args.topic):
        parser.error(f"the {args.topic} topic is disabled in the settings")
    try:
        asyncio.run(tail(settings, args.topic, args.from_beginning, args.read_committed, args.limit))
    except KeyboardInterrupt:
        pass
    return 0
