"""The `feed` and `tail` commands against the real broker and a running worker."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workers.settings import Settings

from .conftest import consume_until, worker_env

pytestmark = pytest.mark.kafka
COMMAND_TIMEOUT_S = 120
TXT_PAGE = """长春汽车产业再上新台阶

1至8月，长春汽开区实现规上工业产值2940.8亿元，同比增长14.3%。

汽车产业集群建设稳步推进，新增投资项目十二个，总投资额超过80亿元。
"""


async def run_command(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """`python -m workers ARGS` with the settings as environment variables; stdout and stderr as text."""
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           **{k.upper(): v for k, v in worker_env(settings).items()}}
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "workers", *args], env=env,
                                   capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=True)


async def test_feed_a_folder_then_tail_the_outputs(topics_for, start_worker, dev_pages, tmp_path: Path):
    settings = await topics_for()
    start_worker(settings)
    folder = tmp_path / "pages"
    (folder / "more").mkdir(parents=True)
    (folder / "changchun.txt").write_text(TXT_PAGE, encoding="utf-8")
    jsonl_pages = [{"url": p["url"], "text": p["text"]} for p in dev_pages[:2]]
    (folder / "more" / "dev.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in jsonl_pages),
                                                encoding="utf-8")

    fed = await run_command(settings, "feed", str(folder), "--rate", "50")
    assert f"sent 3 pages from 2 files to {settings.topic_raw}" in fed.stdout

    txt_url = (folder / "changchun.txt").resolve().as_uri()
    expected = {txt_url, *(p["url"] for p in jsonl_pages)}
    seen = await consume_until(settings, [settings.topic_articles],
                               lambda s: {k.decode() for k, _ in s[settings.topic_articles]} >= expected)
    assert {k.decode() for k, _ in seen[settings.topic_articles]} == expected

    articles = (await run_command(settings, "tail", "articles", "--from-beginning", "--limit", "3")).stdout
    assert txt_url in articles and "长春汽车产业再上新台阶" in articles
    assert all(p["url"] in articles for p in jsonl_pages)

    facts = sum(article["fact_count"] for _, article in seen[settings.topic_articles])
    metrics = (await run_command(settings, "tail", "metrics", "--from-beginning", "--read-committed",
                                 "--limit", str(facts))).stdout
    assert "294080000000 CNY" in metrics and "2940.8亿元" in metrics
