"""Decode and validate one raw-page message.

Every way a message can be unusable has its own reason code, so dead letters can be counted
and replayed by cause.
"""
from __future__ import annotations

import orjson

from .records import RawPage

REQUIRED_FIELDS = ("url", "text")
OPTIONAL_STRING_FIELDS = ("page_id", "fetched_at", "site", "lang")


class RejectedPage(ValueError):
    """A message that cannot become a page. `reason` is a stable code, `detail` is for people."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def decode_page(data: bytes | None, max_bytes: int) -> RawPage:
    if data is None:
        raise RejectedPage("null_value", "message has no value")
    if not data:
        raise RejectedPage("empty_value", "message value is empty (zero bytes)")
    if len(data) > max_bytes:
        raise RejectedPage("too_large", f"{len(data)} bytes, cap is {max_bytes}")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RejectedPage("not_utf8", str(exc)) from None
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RejectedPage("not_json", str(exc)) from None
    return page_from_object(obj)


def page_from_object(obj: object) -> RawPage:
    if not isinstance(obj, dict):
        raise RejectedPage("not_object", f"top-level JSON is {type(obj).__name__}, expected object")
    for name in REQUIRED_FIELDS:
        if name not in obj or obj[name] is None:
            raise RejectedPage(f"missing_{name}", f"field '{name}' is required")
        if not isinstance(obj[name], str):
            raise RejectedPage(f"bad_{name}", f"field '{name}' must be a string, got {type(obj[name]).__name__}")
    if not obj["url"].strip():
        raise RejectedPage("missing_url", "field 'url' is empty")
    if not obj["text"].strip():
        raise RejectedPage("empty_text", "field 'text' is empty or blank")
    optional = {}
    for name in OPTIONAL_STRING_FIELDS:
        value = obj.get(name)
        if name == "page_id" and value is None and isinstance(obj.get("id"), str):
            value = obj["id"]  # scrapers and corpora often call it plain "id"
        if value is not None and not isinstance(value, str):
            raise RejectedPage("bad_field", f"field '{name}' must be a string, got {type(value).__name__}")
        optional[name] = value
    return RawPage(url=obj["url"], text=obj["text"], **optional)
