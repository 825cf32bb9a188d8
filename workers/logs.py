"""Logging of the worker: page-level events, as plain lines or, with LOG_JSON, JSON lines.

faust and mode log through the stdlib logging; the worker command hands faust a logging config whose
root handler formats every record as one plain line or one JSON object per line.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time

import faust

from . import telemetry

log = logging.getLogger("workers.pages")
# The Kafka client logs every failed attempt to reach a broker, and with its broker gone it can try
# thousands of times a second: the same message from the same logger passes once in this window.
REPEAT_WINDOW_S = 1.0
PLAIN_FORMAT = "[%(asctime)s] [%(process)s] [%(levelname)s] %(name)s: %(message)s"


class RepeatFilter(logging.Filter):
    """Lets one record of each (logger, message) through per window; the next one that passes says
    how many were held back meanwhile."""

    def __init__(self, window: float = REPEAT_WINDOW_S) -> None:
        super().__init__()
        self.window = window
        self._last: dict[tuple[str, str], tuple[float, int]] = {}  # (shown at, held back since)

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))  # the message before its arguments: one per call site
        shown, held = self._last.get(key, (-math.inf, 0))
        if record.created - shown < self.window:
            self._last[key] = (shown, held + 1)
            return False
        if held:
            record.msg = f"{record.msg} [{held} more like this held back]"
        self._last[key] = (record.created, 0)
        return True


def quiet_client_repeats() -> None:
    """Put one RepeatFilter on every logger of the Kafka client (aiokafka's modules log to their own)."""
    repeats = RepeatFilter()
    for name in list(logging.root.manager.loggerDict):
        if name == "aiokafka" or name.startswith("aiokafka."):
            logging.getLogger(name).addFilter(repeats)


def logging_config(level: str, as_json: bool) -> dict:
    """A `logging.config.dictConfig` that faust merges into its own: the root handler writes plain lines,
    or JSON lines. faust's own console formatter colours every record and costs about 0.1 ms a line,
    a fiftieth of a page's whole work when each page logs one (bench/RESULTS.md)."""
    formatter = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    } if as_json else {"format": PLAIN_FORMAT}
    return {
        "merge": True,
        "formatters": {"worker": formatter},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "worker", "level": level.upper(),
                        "stream": "ext://sys.stdout"},
        },
        # jieba logs its dictionary loading through a console handler of its own
        "loggers": {"jieba": {"handlers": [], "level": "INFO"}},
    }


def log_page(event: str, message: faust.types.Message, url: str | None = None, **details: object) -> None:
    """One line per page taken from the input topic: what happened to it and where it came from.

    Without `url` (a page that could not be decoded) the message key stands in: scrapers key by URL.
    """
    if url is None and message.key is not None:
        url = message.key.decode("utf-8", errors="replace")
    where = {"url": url, "topic": message.topic, "partition": message.partition, "offset": message.offset}
    log.info("page %s: %s (%s[%d]@%d) %s", event, url, message.topic, message.partition, message.offset,
             " ".join(f"{k}={v}" for k, v in details.items()), extra={"event": event, **where, **details})


def log_summary(done: dict[str, int], seconds: float) -> None:
    """One line for the pages of the last `seconds`: `done` counts processed, dead_lettered and facts."""
    log.info("pages in the last %.0f s: %d processed (%.1f/s), %d dead-lettered, %d facts", seconds,
             done["processed"], done["processed"] / seconds, done["dead_lettered"], done["facts"],
             extra={"event": "summary", "seconds": round(seconds, 3), **done})


async def summarise_pages(interval_s: float) -> None:
    """Every `interval_s`, one log line of what the worker did meanwhile (none while it had nothing to do)."""
    since, before = time.monotonic(), telemetry.page_totals()
    while True:
        await asyncio.sleep(interval_s)
        now, totals = time.monotonic(), telemetry.page_totals()
        if totals != before:
            log_summary({name: totals[name] - before[name] for name in totals}, now - since)
        since, before = now, totals
