"""The inspection page of a running worker, driven in headless Chromium (Debian's, at /usr/bin/chromium)."""
from __future__ import annotations

import shutil
import statistics
from pathlib import Path

import orjson
import pytest
from PIL import Image
from playwright.async_api import async_playwright

from workers.localkafka import free_port

from .conftest import consume_until, produce, wait_until_ready

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
XSS = '<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script>'
RECENT_URL = "https://example.cn/news/recent"

pytestmark = [pytest.mark.kafka,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]


async def test_inspect_page_shows_labels_article_and_facts(topics_for, start_worker, seed_text, tmp_path: Path):
    settings = await topics_for()
    port = free_port()
    start_worker(settings, web_port=str(port))
    await wait_until_ready(port)
    recent_text = "近日，长春新建充电桩1200个，同比增长35%。\n\n这些充电桩分布在全市各个城区，方便市民出行。"
    await produce(settings, [(RECENT_URL.encode(), orjson.dumps({"url": RECENT_URL, "text": recent_text}))])
    await consume_until(settings, [settings.topic_articles], lambda s: s[settings.topic_articles])

    async with async_playwright() as playwright:
        # A fresh profile folder per run (playwright passes it to chromium as --user-data-dir).
        browser = await playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1400, "height": 1000})
        try:
            page = await browser.new_page()
            await page.goto(f"http://127.0.0.1:{port}/inspect")

            # Paste the reference page.
            await page.fill("#page-text", seed_text)
            await page.click("#inspect-button")
            await page.wait_for_selector("#segments .segment")
            labels = await page.eval_on_selector_all(
                "#segments .segment", "rows => rows.map(r => [r.dataset.label, r.querySelector('.text').textContent])")
            assert labels[0][0] == "title" and "长春国际汽车城建设纪实" in labels[0][1]
            def label_of(part: str) -> str:
                return next(label for label, text in labels if part in text)
            assert label_of("✋热门推荐") == "recommendation"
            reasons = await page.eval_on_selector_all("#segments .segment", "rows => rows.map(r => r.dataset.reason)")
            assert reasons[0] == "title" and "model" in reasons, reasons
            assert label_of("👍 0 举报 写留言") == "ui_chrome"
            assert "吉林日报" in await page.text_content("#article-meta")
            assert "长春国际汽车城建设纪实" in await page.text_content("#article-title")
            body_marks = await page.eval_on_selector_all("#article-body mark", "marks => marks.map(m => m.textContent)")
            assert any("2940.8亿元" in mark for mark in body_marks)
            assert "2940.8亿元" in await page.text_content("#facts tbody")

            screenshot = tmp_path / "inspect.png"
            await page.screenshot(path=str(screenshot), full_page=True)
            print(f"inspection page screenshot: {screenshot}")

            # Page text is shown as text, never run as markup.
            await page.fill("#page-text", f"{XSS}\n\n正文第一段，内容充实，说明了很多事情。")
            await page.click("#inspect-button")
            await page.wait_for_function("document.querySelector('#segments').textContent.includes('onerror')")
            assert await page.evaluate("window.__xss") is None
            assert await page.query_selector("#segments img") is None

            # Pick the page the worker took from its input topic.
            await page.reload()
            await page.wait_for_selector(f"#recent option:text-is('{RECENT_URL}')", state="attached")
            await page.select_option("#recent", label=RECENT_URL)
            await page.wait_for_function("document.querySelector('#article-body').textContent.includes('充电桩')")
            assert await page.input_value("#page-url") == RECENT_URL
            assert "1200个" in await page.text_content("#facts tbody")
        finally:
            await browser.close()
            shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)

    with Image.open(screenshot) as image:
        grey = list(image.convert("L").getdata())
    assert statistics.pstdev(grey) > 10  # not a blank page
