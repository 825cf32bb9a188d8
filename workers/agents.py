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
worker); a busy partition's pages share their transactions (a group commit, below). faust's periodic
commit is off in this mode (app.py), so no commit can take offsets that were computed before the
page's transaction ended.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import faust
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import ProducerFenced
from faust.types import TP

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
# Under exactly_once a partition's processed pages wait for its next transaction, which commits them all with
# the offset after the last (a group commit). A page is committed at once unless its partition is committing;
# the pages that come meanwhile are committed together TRANSACTION_INTERVAL_S after that commit began. So a
# worker at light load commits each page as it comes, and a busy one about ten times a second a partition.
# One transaction a page cost the broker ~4 ms of CPU a page and held a busy worker to 60–64 % of its
# at_least_once rate (bench/RESULTS.md); Kafka Streams commits every 100 ms under exactly_once (its
# commit.interval.ms). With TRANSACTION_MAX_PAGES pages of a partition waiting (small pages, or a slow
# broker) the agent waits too.
TRANSACTION_INTERVAL_S = 0.1
TRANSACTION_MAX_PAGES = 100

Output = tuple[str, bytes | None, bytes]  # topic, key, value

pipeline_threads = ThreadPoolExecutor(max_workers=settings.agent_concurrency, thread_name_prefix="pipeline")
in_delivery: deque[asyncio.Future] = deque()
crashing: set[asyncio.Future] = set()
waiting_pages: dict[TP, list[tuple[faust.EventT, list[Output]]]] = {}  # each partition's, for its next transaction
committers: dict[TP, asyncio.Task] = {}  # a partition's while it has pages waiting or committed them lately


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
        telemetry.record_page(result)
        telemetry.PAGE_SECONDS.observe(time.perf_counter() - started)


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
    """Leave a page's outputs for its partition's next transaction; the page is acknowledged when it commits."""
    tp = event.message.tp
    waiting_pages.setdefault(tp, []).append((event, outputs))
    if tp not in committers:
        committers[tp] = asyncio.ensure_future(commit_waiting_pages(tp))
    while len(waiting_pages.get(tp, ())) >= TRANSACTION_MAX_PAGES and not crashing:
        await asyncio.sleep(TRANSACTION_INTERVAL_S / 10)


async def commit_waiting_pages(tp: TP) -> None:
    """Commit a partition's waiting pages until none is left. Pages that came while a transaction committed
    wait for the next one until TRANSACTION_INTERVAL_S after it began (or until TRANSACTION_MAX_PAGES wait)."""
    loop = asyncio.get_running_loop()
    try:
        while pages := waiting_pages.pop(tp, None):
            started = loop.time()
            await commit(tp, pages)
            if 0 < len(waiting_pages.get(tp, ())) < TRANSACTION_MAX_PAGES:
                await asyncio.sleep(started + TRANSACTION_INTERVAL_S - loop.time())
    except Exception as error:  # e.g. stopping a fenced producer failed: the partition's pages would wait for ever
        stop_on_delivery_failure(pages[0][0], error)
    finally:
        del committers[tp]


async def commit(tp: TP, pages: list[tuple[faust.EventT, list[Output]]]) -> None:
    """Send the outputs of a partition's pages and the offset after the last in one transaction, and acknowledge
    the pages once it commits. Pages read before a rebalance are left out (and their transaction aborted if it
    came while they were sent): the consumer reads each partition it is given from its last commit, so they come
    again, to this worker or another, and committing them too would publish them twice."""
    fresh = [page for page in pages if page[0].message.generation_id == app.consumer_generation_id]
    if len(fresh) < len(pages):
        log_page("skipped_rebalanced", pages[0][0].message, pages=len(pages) - len(fresh))
    if not (pages := fresh):
        return
    last = pages[-1][0].message
    for _ in range(2):  # a second time only with a fresh producer in place of a fenced one
        if crashing:
            return  # the worker is stopping after a failed delivery: nothing more of it is committed
        producer = await partition_producer(tp)
        if producer is None:
            log_page("skipped_revoked", last, pages=len(pages))  # the partition's new owner reads them again
            return
        async with app.producer._trn_locks[transactional_id(tp)]:
            try:
                for _, outputs in pages:
                    for topic, key, value in outputs:
                        await producer.send(topic, value, key=key)
                await producer.send_offsets_to_transaction({tp: last.offset + 1}, app.conf.id)
                committed = last.generation_id == app.consumer_generation_id
                await (producer.commit_transaction() if committed else producer.abort_transaction())
            except ProducerFenced:
                await retire(tp, producer, last)  # nothing of the pages was committed
                continue
            except Exception as error:
                if last.generation_id == app.consumer_generation_id:
                    stop_on_delivery_failure(pages[0][0], error)  # the next worker's producer aborts this one
                    return
                committed = False  # a rebalance: faust stopped the producer under it
            else:
                try:
                    await producer.begin_transaction()  # for the partition's next pages
                except ProducerFenced:
                    await retire(tp, producer, last)  # the next pages start a fresh producer
        if committed:
            telemetry.TRANSACTIONS.inc()
            for event, _ in pages:
                event.ack()
        else:
            log_page("skipped_rebalanced", last, pages=len(pages))
        return


async def partition_producer(tp: TP) -> AIOKafkaProducer | None:
    """The transactional producer of an assigned partition, in a transaction; None if the partition is not ours.
    A producer is started for a partition whose producer was fenced, e.g. by a worker that held the partition
    for a while: the new producer with the same id takes the partition's transactions back (and fences any
    producer still left from that time)."""
    if tp not in app.consumer.assignment():
        return None
    producers, name = app.producer, transactional_id(tp)  # faust's driver: one transactional producer a partition
    if name not in producers._transaction_producers:
        await producers.begin_transaction(name)
    return producers._transaction_producers.get(name)


def transactional_id(tp: TP) -> str:
    return f"{app.conf.id}-{app.assignor.group_for_topic(tp.topic)}-{tp.partition}"


async def retire(tp: TP, producer: AIOKafkaProducer, message: faust.types.Message) -> None:
    """Stop a fenced producer (it can do nothing more) and forget it, unless a fresh one has taken its place."""
    producers = app.producer._transaction_producers
    if producers.get(name := transactional_id(tp)) is producer:
        del producers[name]
    await producer.stop()
    log_page("fenced", message)


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
