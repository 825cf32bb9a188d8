"""The agent: raw page in, cleaned article, metric records and dead letters out.

The pipeline runs in a worker thread so that the event loop keeps serving heartbeats and commits
while a page is processed. Every output of a page is acknowledged by the broker before the page's
offset can be committed, so a crash replays the page instead of losing it; ids are deterministic,
so a replayed page gives the same messages again.
"""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import faust

from . import telemetry, web  # web: health, metrics and inspection views on the app
from .app import app, articles, deadletters, metrics, raw_pages, segments, settings
from .logs import log_page
from .messages import article_message, deadletter_message, metric_messages, segment_message, utc_now
from .pipeline import PageResult, RejectedPage, decode_page, process_page
from .pipeline.records import RawPage

pipeline_threads = ThreadPoolExecutor(max_workers=settings.agent_concurrency, thread_name_prefix="pipeline")


def run_pipeline(raw: RawPage) -> PageResult:
    if settings.fault_marker and settings.fault_marker in raw.text:
        raise RuntimeError("fault marker found in page text")
    return process_page(raw)


@app.agent(raw_pages, concurrency=settings.agent_concurrency)
async def clean_pages(stream: faust.StreamT) -> None:
    loop = asyncio.get_running_loop()
    async for event in stream.events():
        message = event.message
        started = time.perf_counter()
        telemetry.PAGES_IN.inc()
        try:
            raw = decode_page(message.value, settings.max_page_bytes)
            web.remember_page(raw)
            result = await loop.run_in_executor(pipeline_threads, run_pipeline, raw)
        except RejectedPage as exc:
            await dead_letter(message, exc.reason, exc.detail)
            continue
        except Exception as exc:  # a pipeline bug must cost one page, not the worker
            await dead_letter(message, "pipeline_error", f"{type(exc).__name__}: {exc}")
            continue
        await publish(result)
        log_page("processed", message, result.article.url, facts=len(result.facts))
        telemetry.record_page(result.timings, [s.label for s in result.segments], len(result.facts))
        telemetry.PAGE_SECONDS.observe(time.perf_counter() - started)


async def publish(result: PageResult) -> None:
    key = result.article.url.encode("utf-8")
    pending = [await articles.send(key=key, value=article_message(result, utc_now()))]
    pending += [await metrics.send(key=key, value=record) for record in metric_messages(result)]
    if segments is not None:
        pending += [await segments.send(key=key, value=segment_message(result, s)) for s in result.segments]
    await asyncio.gather(*pending)


async def dead_letter(message: faust.types.Message, reason: str, detail: str) -> None:
    record = deadletter_message(message.value, message.key, reason, detail,
                                message.topic, message.partition, message.offset)
    await (await deadletters.send(key=message.key, value=record))
    telemetry.DEAD_LETTERS.labels(reason).inc()
    log_page("dead_lettered", message, reason=reason)


@app.task
async def watch_event_loop() -> None:
    await telemetry.watch_event_loop()
