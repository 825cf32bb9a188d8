"""The messages the worker publishes, built from pipeline results (contracts in schemas/)."""
from __future__ import annotations

import base64
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal

from . import __version__
from .pipeline import PageResult, stable_id
from .pipeline.records import Fact, Segment

# What a dead letter needs beside the base64 of the original's key and value: the detail (at most 2,000
# characters), the source's names and numbers, and the Kafka record's own framing.
DEADLETTER_ENVELOPE_BYTES = 64 * 1024


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def decimal_text(value: Decimal) -> str:
    """Plain positional notation with every digit kept (never exponent form, never a float)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def article_message(result: PageResult, processed_at: str) -> dict:
    article = result.article
    # Field by field, its containers copied as JSON arrays and objects: dataclasses.asdict deep-copies
    # every value and took 30 µs a page for the same dict.
    message = {field.name: getattr(article, field.name) for field in fields(article)}
    message |= {"paragraphs": list(article.paragraphs), "headings": list(article.headings),
                "keywords": list(article.keywords), "kept": dict(article.kept), "dropped": dict(article.dropped),
                "fact_count": len(result.facts), "processed_at": processed_at}
    return message


def metric_record(fact: Fact, article_id: str, segment: int | None) -> dict:
    """A fact as published, without the page fields (the `facts` command prints exactly this)."""
    record: dict = {
        "id": fact_id(article_id, fact),
        "subject": fact.subject,
        "value": decimal_text(fact.value),
        "unit": fact.unit,
        "quantity": fact.quantity,
        "qualifier": fact.qualifier,
        "surface": fact.surface,
        "sentence": fact.sentence,
        "span": list(fact.span),
        "segment": segment,
        "subject_method": fact.subject_method,
    }
    return record | fact_details(fact)


def fact_details(fact: Fact) -> dict:
    """The optional parts of a fact: range bounds, rate unit, change and period, present only when stated."""
    details: dict = {}
    if fact.per is not None:
        details["per"] = fact.per
    if fact.low is not None:
        details["low"] = decimal_text(fact.low)
    if fact.high is not None:
        details["high"] = decimal_text(fact.high)
    if fact.change is not None:
        details["change"] = {"kind": fact.change.kind, "value": decimal_text(fact.change.value), "unit": fact.change.unit}
    if fact.period is not None:
        details["period"] = {"text": fact.period.text, "start": fact.period.start, "end": fact.period.end}
    return details


def fact_id(article_id: str, fact: Fact) -> str:
    return stable_id(article_id, str(fact.span[0]), str(fact.span[1]), fact.unit, decimal_text(fact.value))


def metric_messages(result: PageResult) -> list[dict]:
    article = result.article
    # A reprint's facts carry its mark, so that a fact table can count each story once.
    page = {"article_id": article.id, "page_id": article.page_id, "url": article.url,
            "duplicate_of": article.duplicate_of, "similarity": article.similarity}
    return [page | metric_record(fact, result.article.id, seg) for fact, seg in zip(result.facts, result.fact_segments)]


def segment_message(result: PageResult, segment: Segment) -> dict:
    return {
        "article_id": result.article.id,
        "url": result.article.url,
        "index": segment.index,
        "text": segment.text,
        "label": segment.label,
        "score": round(float(segment.score), 4),
        "features": segment.features,
    }


def page_messages(result: PageResult) -> dict:
    """Everything the worker publishes for one page, in one object (offline output, inspection page)."""
    return {
        "article": article_message(result, utc_now()),
        "metrics": metric_messages(result),
        "segments": [segment_message(result, s) for s in result.segments],
    }


def deadletter_message(
    value: bytes | None, key: bytes | None, reason: str, detail: str, topic: str, partition: int, offset: int,
    max_bytes: int,
) -> dict:
    """The dead letter of a raw message, at most `max_bytes` with its key. Base64 makes the original a
    third larger, so an original that would not fit is carried in part: its first bytes, with its whole
    size as `original_size` (the whole stays in the source topic at `offset`, for its retention)."""
    key_bytes = len(key or b"")  # in the record's key, and again in base64 in its value
    key_base64_bytes = 4 * -(-key_bytes // 3)
    room = max(0, (max_bytes - DEADLETTER_ENVELOPE_BYTES - key_bytes - key_base64_bytes) // 4 * 3)
    record = {
        "reason": reason,
        "detail": detail[:2000],
        "original_base64": None if value is None else base64.b64encode(value[:room]).decode("ascii"),
        "original_key_base64": None if key is None else base64.b64encode(key).decode("ascii"),
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "worker_version": __version__,
        "failed_at": utc_now(),
    }
    if value is not None and len(value) > room:
        record["original_size"] = len(value)
    return record
