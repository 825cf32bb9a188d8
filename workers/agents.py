"""The agent: raw page in, cleaned article, metric records and dead letters out.

A page of ordinary size is processed on the event loop itself, in a few milliseconds; a long page runs
in a worker thread so that the loop keeps serving sends, commits and the web views meanwhile (the
consumer's heartbeats run in faust's consumer thread either way). Ids are deterministic, so a
replayed page gives the same messages again.

at_least_once: a page is acknowledged to faust (and so its offset may be committed) only once the
broker has acknowledged every output of it, so a crash replays the page instead of losing it. The
acknowledgements are awaited in the background, so the next page is processed meanwhile; faust
commits only offsets below which every page is acknowledged.
exactly_once: a page's outputs and its next offset are committed in one transaction of the page's
partition (the transactional producer faust keeps per assigned partition, which fences a zombie
worker). faust's periodic commit is off in this mode (app.py), so no commit can take offsets that
were computed before the page's transaction ended.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import faust
import orjson
from aiokafka.errors import ProducerFenced

from . import telemetry, web  # web: health, metrics and inspection views on the app
from .app import MAX_MESSAGE_BYTES, app, raw_pages, settings
from .logs import log_page, log_summary
from .messages import article_message, deadletter_message, metric_messages, segment_message, utc_now
from .pipeline import PageResult, RejectedPage, decode_page, process_page
from .pipeline.records import RawPage

# Pages whose outputs are on their way to the broker; past this many, the agent waits for the oldest.
MAX_PAGES_IN_DELIVERY = 32
# Pages of at most this many characters are processed on the event loop: at most ~40 ms of work. Handing
# every page to a thread cost about a tenth more CPU a page (the GIL passed back and forth between two
# busy threads; bench/RESULTS.md); longer pages, up to the size cap, go to the thread.
INLINE_MAX_CHARS = 50_000
# Outputs go to the broker, and acknowledgements and timers run, only when the event loop has a turn, and
# a page processed on the loop holds it: the agent gives the loop a turn before a page once the pages since
# its last turn and this one hold more than this many characters (~20 ms of work). Without it, a page's
# outputs waited behind the pages queued after it, 35–60 ms behind a long one. A turn before every page, or
# every 20,000 characters, sent more, smaller requests: 0.05–0.08 ms of CPU a page (bench/RESULTS.md).
LOOP_TURN_CHARS = 40_000

pipeline_threads = ThreadPoolExecutor(max_workers=settings.agent_concurrency, thread_name_prefix="pipeline")
in_delivery: deque[asyncio.Future] = deque()
crashing: set[asyncio.Future] = set()


def run_pipeline(raw: RawPage) -> PageResult:
    if settings.fault_marker and settings.fault_marker in raw.text:
        raise RuntimeError("fault marker found in page text")
    return process_page(raw)


@app.agent(raw_pages, concurrency=settings.agent_concurrency)
async def clean_pages(stream: faust.StreamT) -> None:
    loop = asyncio.get_running_loop()
    chars_since_turn = 0
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
        await publish(event, page_outputs(result))
        if settings.log_pages:
            log_page("processed", message, result.article.url, facts=len(result.facts))
        article = result.article  # its kept and dropped segments, counted by label, are all of them
        telemetry.record_page(result.timings, article.kept | article.dropped, len(result.facts))
        telemetry.PAGE_SECONDS.observe(time.perf_counter() - started)


Output = tuple[str, bytes | None, bytes]  # topic, key, value


def page_outputs(result: PageResult) -> list[Output]:
    key = result.article.url.encode("utf-8")
    outputs = [(settings.topic_articles, key, orjson.dumps(article_message(result, utc_now())))]
    outputs += [(settings.topic_metrics, key, orjson.dumps(record)) for record in metric_messages(result)]
    if settings.topic_segments:
        outputs += [(settings.topic_segments, key, orjson.dumps(segment_message(result, s))) for s in result.segments]
    return outputs


async def dead_letter(event: faust.EventT, reason: str, detail: str) -> None:
    message = event.message
    record = deadletter_message(message.value, message.key, reason, detail,
                                message.topic, message.partition, message.offset, MAX_MESSAGE_BYTES)
    await publish(event, [(settings.topic_deadletter, message.key, orjson.dumps(record))])
    telemetry.labelled(telemetry.DEAD_LETTERS, reason).inc()
    log_page("dead_lettered", message, reason=reason)


async def publish(event: faust.EventT, outputs: list[Output]) -> None:
    if app.in_transaction:
        await publish_in_transaction(event, outputs)
        return
    kafka = app.producer._ensure_producer()  # aiokafka's: faust's wrapper sends a signal for each message
    pending = [await kafka.send(topic, value, key=key) for topic, key, value in outputs]
    in_delivery.append(acknowledged_when_delivered(event, pending))
    while len(in_delivery) > MAX_PAGES_IN_DELIVERY or (in_delivery and in_delivery[0].done()):
        await in_delivery.popleft()


def acknowledged_when_delivered(event: faust.EventT, pending: list[asyncio.Future]) -> asyncio.Future:
    """A future done when the broker has answered for every output of the page; the page is acknowledged
    to faust if all were delivered. Done-callbacks rather than a task and a gather per page: those cost
    about 0.2 ms of the worker's CPU a page (bench/RESULTS.md)."""
    answered = asyncio.get_running_loop().create_future()
    waiting = len(pending)

    def on_answer(output: asyncio.Future) -> None:
        nonlocal waiting
        # Taken even when the page's fate is known, so that asyncio does not log a second, unread error.
        error = None if output.cancelled() else output.exception()
        if answered.done():
            return
        if output.cancelled():  # the producer is stopping: unacknowledged, the page is read again
            answered.set_result(None)
        elif error is not None:
            answered.set_result(None)
            stop_on_delivery_failure(event, error)
        elif (waiting := waiting - 1) == 0:
            event.ack()
            answered.set_result(None)

    for output in pending:
        output.add_done_callback(on_answer)
    return answered


def stop_on_delivery_failure(event: faust.EventT, error: BaseException) -> None:
    # Unacknowledged, the page holds every later offset of its partition back from the commit:
    # stop the worker, so that the next one replays from the last commit instead of going on. The
    # crash stops faust's worker, which exits within STOP_GRACE_S (app.py) even when its broker is gone.
    log_page("delivery_failed", event.message, error=f"{type(error).__name__}: {error}")
    if not crashing:  # once: the other pages' failures are the same one
        crashing.add(asyncio.ensure_future(app.crash(error)))  # held: the loop keeps weak references


async def publish_in_transaction(event: faust.EventT, outputs: list[Output]) -> None:
    message = event.message
    producer = app.producer  # faust's aiokafka driver; it owns one transactional producer per partition
    transactional_id = f"{app.conf.id}-{app.assignor.group_for_topic(message.topic)}-{message.partition}"
    for _ in range(2):  # a second time only with a fresh producer in place of a fenced one
        if message.tp not in app.consumer.assignment():
            log_page("skipped_revoked", message)  # the partition's new owner reads the page again
            return
        if transactional_id not in producer._transaction_producers:
            # This worker owns the partition but its producer was fenced, e.g. by a worker that held
            # the partition for a while: a new producer with the same id takes the partition's
            # transactions back (and fences any producer still left from that time).
            await producer.begin_transaction(transactional_id)
        async with producer._trn_locks[transactional_id]:
            transaction = producer._transaction_producers[transactional_id]
            try:
                for topic, key, value in outputs:
                    await transaction.send(topic, value, key=key)
                await transaction.send_offsets_to_transaction({message.tp: message.offset + 1}, app.conf.id)
                await transaction.commit_transaction()
            except ProducerFenced:
                # Nothing of the page was committed; this producer can do nothing more.
                del producer._transaction_producers[transactional_id]
                await transaction.stop()
                log_page("fenced", message)
                continue
            except BaseException:
                await transaction.abort_transaction()  # the page is read again; nothing of it was committed
                await transaction.begin_transaction()
                raise
            event.ack()
            await transaction.begin_transaction()
            return


@app.task
async def watch_event_loop() -> None:
    await telemetry.watch_event_loop()


@app.task
async def summarise_pages() -> None:
    """Every LOG_SUMMARY_S, one log line of what the worker did meanwhile (none while it had nothing to do)."""
    since, before = time.monotonic(), telemetry.page_totals()
    while True:
        await asyncio.sleep(settings.log_summary_s)
        now, totals = time.monotonic(), telemetry.page_totals()
        if totals != before:
            log_summary({name: totals[name] - before[name] for name in totals}, now - since)
        since, before = now, totals
