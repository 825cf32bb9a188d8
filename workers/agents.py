"""The agents: raw page in, cleaned article, metric records and dead letters out; each site's pages folded
into its template, which every worker reads (workers/memory.py); and each article's signature, which every
worker folds into its reprint index (workers/signatures.py).

A page's outputs go out with `publish` (workers/delivery.py), which acknowledges the page to faust once
they are delivered under the worker's guarantee; ids are deterministic, so a replayed page gives the same
messages again. Ordinary pages are processed on the event loop, long ones in a thread (below).
"""
from __future__ import annotations

import asyncio
import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor

import faust
import orjson

from . import telemetry, web  # web: health, metrics and inspection views on the app
from .app import MAX_MESSAGE_BYTES, app, observations, raw_pages, settings
from .delivery import Output, delivery_for
from .logs import log_page, summarise_pages
from .memory import BadObservation, SiteLearner, Templates, observation_output
from .messages import article_message, deadletter_message, metric_messages, segment_message, utc_now
from .pipeline import PageResult, RawPage, RejectedPage, decode_page, process_page
from .pipeline.reprints import IndexEntry, index_entry
from .signatures import Signatures, signature_output

# Pages of at most this many characters are processed on the event loop: at most ~40 ms of work. Handing
# every page to a thread cost about a tenth more CPU a page (the GIL passed back and forth between two
# busy threads; bench/RESULTS.md); longer pages, up to the size cap, go to the thread.
INLINE_MAX_CHARS = 50_000
# Outputs leave, and acknowledgements and timers run, only at the event loop's turns, and a page processed on
# the loop holds it: the agent gives the loop a turn before a page once the pages since its last turn and this
# one hold more than this many characters (~20 ms of work); without it, outputs waited 35–60 ms behind a long
# page. A turn every page, or every 20,000 characters, cost 0.05–0.08 ms of CPU a page (bench/RESULTS.md).
LOOP_TURN_CHARS = 40_000

pipeline_threads = ThreadPoolExecutor(max_workers=settings.agent_concurrency, thread_name_prefix="pipeline")
publish = delivery_for(app, settings).publish
site_templates = Templates(settings)
site_learner = SiteLearner(settings, site_templates)
reprint_signatures = Signatures(settings)
memory_readers = (site_templates, reprint_signatures)


def run_pipeline(raw: RawPage) -> PageResult:
    if settings.fault_marker and settings.fault_marker in raw.text:
        raise RuntimeError("fault marker found in page text")
    return process_page(raw, dataclasses.replace(site_templates.memory_for(raw), reprints=reprint_signatures.index))


def withheld(result: PageResult) -> bool:
    """A reprint under REPRINT_ACTION=drop: its article and facts are not published."""
    return settings.reprint_action == "drop" and result.article.duplicate_of is not None


@app.agent(raw_pages, concurrency=settings.agent_concurrency)
async def clean_pages(stream: faust.StreamT) -> None:
    loop = asyncio.get_running_loop()
    chars_since_turn = 0
    # A restarted worker cleans its first page with what the group learnt, and marks it against what it published.
    await asyncio.gather(*(reader.caught_up() for reader in memory_readers))
    async for event in stream.noack().events():  # acknowledged by publish, once delivered
        message = event.message
        started = time.perf_counter()
        telemetry.PAGES_IN.inc()
        try:
            raw = decode_page(message.value, settings.max_page_bytes)
            web.remember_page(raw)
            chars_since_turn += len(raw.text)
            if chars_since_turn > LOOP_TURN_CHARS:
                await asyncio.sleep(0)
                chars_since_turn = len(raw.text)
            if len(raw.text) <= INLINE_MAX_CHARS:
                result = run_pipeline(raw)
            else:
                result = await loop.run_in_executor(pipeline_threads, run_pipeline, raw)
        except RejectedPage as exc:
            await dead_letter(event, exc.reason, exc.detail)
            continue
        except Exception as exc:  # a pipeline bug must cost one page, not the worker
            await dead_letter(event, "pipeline_error", f"{type(exc).__name__}: {exc}")
            continue
        entry = index_entry(result, raw.fetched_at)
        reprint_signatures.fold(entry)  # the worker's next pages see the article without waiting for the topic
        await publish(event, page_outputs(result, entry))
        if settings.log_pages:
            log_page("processed", message, result.article.url, facts=len(result.facts))
        if withheld(result):
            telemetry.labelled(telemetry.REPRINTS, "drop").inc()
        else:
            telemetry.record_page(result)
        telemetry.PAGE_SECONDS.observe(time.perf_counter() - started)


def page_outputs(result: PageResult, entry: IndexEntry | None = None) -> list[Output]:
    """A page's messages: its article, facts and segments (none for a withheld reprint), what it taught its
    site, and `entry`, what it teaches the reprint indexes."""
    key = result.article.url.encode("utf-8")
    outputs = []
    if not withheld(result):
        outputs.append((settings.topic_articles, key, orjson.dumps(article_message(result, utc_now()))))
        outputs += [(settings.topic_metrics, key, orjson.dumps(record)) for record in metric_messages(result)]
        if settings.topic_segments:
            outputs += [(settings.topic_segments, key, orjson.dumps(segment_message(result, s)))
                        for s in result.segments]
    if (seen := result.observations.line_fingerprints) is not None:
        outputs.append(observation_output(settings, seen))
    if entry is not None and settings.topic_reprints:
        outputs.append(signature_output(settings, entry))
    return outputs


@app.agent(observations)
async def learn_site_templates(stream: faust.StreamT) -> None:
    """Each site's pages, folded by the worker that owns the site's partition (workers/memory.py)."""
    async for event in stream.noack().events():  # acknowledged by publish, once what the page taught is delivered
        try:
            outputs = await site_learner.learn(event.message)
        except BadObservation as exc:
            await dead_letter(event, "bad_observation", str(exc))
            continue
        except Exception as exc:  # a bug in the fold must cost one observation, not the worker
            await dead_letter(event, "pipeline_error", f"{type(exc).__name__}: {exc}")
            continue
        await publish(event, outputs)


async def dead_letter(event: faust.EventT, reason: str, detail: str) -> None:
    message = event.message
    record = deadletter_message(message.value, message.key, reason, detail,
                                message.topic, message.partition, message.offset, MAX_MESSAGE_BYTES)
    await publish(event, [(settings.topic_deadletter, message.key, orjson.dumps(record))])
    telemetry.labelled(telemetry.DEAD_LETTERS, reason).inc()
    log_page("dead_lettered", message, reason=reason)


@app.task
async def read_memory_topics() -> None:
    try:
        await asyncio.gather(*(reader.run() for reader in memory_readers))
    except Exception as exc:  # pages would wait for the memory for ever: stop, as a failed delivery does
        await app.crash(exc)


@app.task
async def watch_event_loop() -> None:
    await telemetry.watch_event_loop()


@app.task
async def log_summaries() -> None:
    await summarise_pages(settings.log_summary_s)
