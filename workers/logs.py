"""Logging of the worker: page-level events, and JSON lines when LOG_JSON is set.

faust and mode log through the stdlib logging; with LOG_JSON the worker command hands faust a
logging config whose root handler formats every record as one JSON object per line.
"""
from __future__ import annotations

import logging

import faust

log = logging.getLogger("workers.pages")


def json_logging_config(level: str) -> dict:
    """A `logging.config.dictConfig` that faust merges into its own: the root handler writes JSON lines."""
    return {
        "merge": True,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "json", "level": level.upper(),
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
