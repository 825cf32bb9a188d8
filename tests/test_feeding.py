"""Feeding pages as the README says, on the real broker: its kcat line sends a page as large as the worker
takes (MAX_PAGE_BYTES), where kcat's own limit stops at 1,000,000 bytes."""
from __future__ import annotations

import shutil
import subprocess

import orjson
import pytest
from .conftest import ROOT
from .test_lifecycle import read_to_end

pytestmark = [pytest.mark.kafka,
              pytest.mark.skipif(not (shutil.which("kcat") and shutil.which("jq")), reason="needs kcat and jq")]
README_BROKER, README_TOPIC, README_FILE = "127.0.0.1:9092", "pages.raw", "pages.jsonl"


def readme_kcat_producer_line() -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Feeding pages", 1)[1].split("\n## ", 1)[0]
    (line,) = [line for line in section.splitlines() if "kcat -P" in line]
    return line


def page_of_size(url: str, size: int) -> bytes:
    """A raw-page message of exactly `size` bytes, of Chinese text (as compact JSON, which jq writes too)."""
    empty = len(orjson.dumps({"url": url, "text": ""}))
    chinese, ascii_rest = divmod(size - empty, len("长".encode()))
    message = orjson.dumps({"url": url, "text": "长" * chinese + "a" * ascii_rest})
    assert len(message) == size
    return message


async def test_the_readme_kcat_line_sends_a_page_as_large_as_the_cap(topics_for, tmp_path):
    settings = await topics_for()
    largest = page_of_size("https://example.cn/largest", settings.max_page_bytes)
    small = page_of_size("https://example.cn/small", 200)
    (tmp_path / README_FILE).write_bytes(largest + b"\n" + small + b"\n")
    line = readme_kcat_producer_line()
    assert README_BROKER in line and README_TOPIC in line and README_FILE in line
    command = line.replace(README_BROKER, settings.kafka_bootstrap_servers).replace(README_TOPIC, settings.topic_raw)
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, timeout=120)
    assert done.returncode == 0 and not done.stderr, done.stderr.decode()

    records = await read_to_end(settings, settings.topic_raw, "read_uncommitted")
    sent = {r.key: r.value for r in records}
    assert sent == {b"https://example.cn/largest": largest, b"https://example.cn/small": small}
