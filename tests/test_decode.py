"""Decoding and validating raw-page messages: every bad input gets its own reason code, and a dead letter
that fits in a message."""
from __future__ import annotations

import base64

import orjson
import pytest

from workers.messages import deadletter_message
from workers.pipeline import RejectedPage, decode_page

CAP = 4096


def reason(data: bytes | None) -> str:
    with pytest.raises(RejectedPage) as caught:
        decode_page(data, CAP)
    return caught.value.reason


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, "null_value"),
        (b"", "empty_value"),
        (b"x" * (CAP + 1), "too_large"),
        (b"\xff\xfe{}", "not_utf8"),
        (b"{url: 1}", "not_json"),
        (b"[1, 2]", "not_object"),
        (b'"text"', "not_object"),
        (b'{"text": "t"}', "missing_url"),
        (b'{"url": 5, "text": "t"}', "bad_url"),
        (b'{"url": "u"}', "missing_text"),
        (b'{"url": "u", "text": null}', "missing_text"),
        (b'{"url": "u", "text": 12}', "bad_text"),
        (b'{"url": "u", "text": "  \\n "}', "empty_text"),
        (b'{"url": "u", "text": "t", "fetched_at": 1700000000}', "bad_field"),
        (b'{"url": "u", "text": "t", "lang": ["zh"]}', "bad_field"),
        (b"[" * 2000 + b"]" * 2000, "not_json"),
    ],
)
def test_rejections(data, expected):
    assert reason(data) == expected


def test_valid_page_with_optional_fields_and_unknown_ones():
    page = decode_page(orjson.dumps({"url": "u", "text": "正文", "page_id": "p1", "fetched_at": "2020-10-01T00:00:00Z",
                                     "site": "s", "lang": "zh", "extra": {"kept": True}}), CAP)
    assert (page.url, page.text, page.page_id, page.fetched_at, page.site, page.lang) == (
        "u", "正文", "p1", "2020-10-01T00:00:00Z", "s", "zh")


def test_plain_id_is_taken_as_page_id_unless_page_id_is_sent():
    assert decode_page(b'{"url": "u", "text": "t", "id": "a"}', CAP).page_id == "a"
    assert decode_page(b'{"url": "u", "text": "t", "id": "a", "page_id": "b"}', CAP).page_id == "b"


@pytest.mark.parametrize("size", [0, 1, 100_000, 200_000, 1_000_000])  # what fits whole, and what does not
@pytest.mark.parametrize("key", [None, b"k", "键".encode() * 5000])
def test_a_dead_letter_fits_in_its_bound_however_large_the_original(size, key, validators):
    max_bytes = 300_000
    original = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    record = deadletter_message(original, key, "too_large", "详" * 5000, "pages.raw", 3, 7, max_bytes)
    assert not list(validators["deadletter"].iter_errors(record))
    assert len(orjson.dumps(record)) + len(key or b"") <= max_bytes - 1024  # room for the record's framing
    carried = base64.b64decode(record["original_base64"])
    if "original_size" in record:
        assert record["original_size"] == size and original.startswith(carried) and len(carried) > 100_000
    else:
        assert carried == original
    assert (size >= 200_000) == ("original_size" in record)
