"""`feed`: send raw pages to the input topic, keyed by URL, as a scraper would.

Takes JSONL files of raw-page messages (each line is sent as it is), .txt files (one page each, its URL
the file's file:// URI) and folders of them.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer
from tqdm import tqdm

from ..app import MAX_MESSAGE_BYTES
from ..settings import Settings, client_options, get_settings
from .process import page_identity, read_lines

PAGE_SUFFIXES = (".jsonl", ".txt")


def page_files(paths: list[Path]) -> list[Path]:
    """The files named, and the .jsonl and .txt files under the folders named, in a stable order."""
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in PAGE_SUFFIXES)
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(path)
    return files


def messages(path: Path) -> Iterator[tuple[bytes | None, bytes]]:
    """(key, value) of each page in one file."""
    if path.suffix == ".txt":
        url = path.resolve().as_uri()
        yield url.encode(), orjson.dumps({"url": url, "text": path.read_text(encoding="utf-8")})
        return
    for line in read_lines(str(path)):
        url, _ = page_identity(line)
        yield (url.encode() if url else None), line  # a line without a url still goes: the worker dead-letters it


async def feed(settings: Settings, files: list[Path], rate: float | None) -> tuple[int, int]:
    """Send every page; return (pages sent, pages without a url key)."""
    producer = AIOKafkaProducer(**client_options(settings), max_request_size=MAX_MESSAGE_BYTES, linger_ms=5)
    await producer.start()
    sent = unkeyed = 0
    started = time.monotonic()
    try:
        pending = []
        with tqdm(desc=f"feeding {settings.topic_raw}", unit="page", file=sys.stderr, disable=None) as progress:
            for path in files:
                for key, value in messages(path):
                    if rate:  # page n leaves no earlier than n / rate seconds after the start
                        await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))
                    pending.append(await producer.send(settings.topic_raw, value=value, key=key))
                    sent += 1
                    unkeyed += key is None
                    progress.update()
            await asyncio.gather(*pending)  # every page acknowledged by the broker
    finally:
        await producer.stop()
    return sent, unkeyed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers feed", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help=".jsonl or .txt files, or folders of them")
    parser.add_argument("--rate", type=float, default=None, help="at most this many pages per second")
    args = parser.parse_args(argv)
    settings = get_settings()
    files = page_files(args.paths)
    started = time.monotonic()
    sent, unkeyed = asyncio.run(feed(settings, files, args.rate))
    elapsed = time.monotonic() - started
    print(f"sent {sent} pages from {len(files)} files to {settings.topic_raw} on {settings.kafka_bootstrap_servers} "
          f"in {elapsed:.1f}s ({sent / elapsed if elapsed else 0:.1f} pages/s)"
          + (f"; {unkeyed} without a url" if unkeyed else ""))
    return 0
