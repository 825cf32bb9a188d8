"""Delivery: a page's outputs to the broker, and the page acknowledged to faust once they are delivered.

`publish(event, outputs)` is the agent's only call; outputs are (topic, key, value) with key and value as
bytes, and everything in the list is delivered under the page's guarantee. Two classes, one per guarantee,
each owning its state and every private part of faust it touches:

- AtLeastOnce: a page is acknowledged (and so its offset may be committed by faust's own commits) only
  once the broker has acknowledged every output of it, so a crash replays the page instead of losing it.
  The acknowledgements are awaited in the background, so the next page is processed meanwhile.
- Transactional (exactly_once): a page's outputs and its next offset are committed in one transaction of
  the page's partition, by the transactional producer faust keeps per assigned partition (a new owner of
  the partition fences a zombie's). A busy partition's pages share their transactions (a group commit).
  faust's own periodic commit is off in this mode (app.py): it could only commit offsets computed before
  the page's transaction ended.

A page that cannot be delivered stops the worker, so that the next one replays from the last commit.
"""
from __future__ import annotations

import asyncio
from collections import deque
from enum import Enum

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.errors import ProducerFenced
from faust.transport.consumer import TopicPartitionGroup, TransactionManager
from faust.types import TP

from . import telemetry
from .logs import log_page
from .settings import Settings

Output = tuple[str, bytes | None, bytes]  # topic, key, value
Page = tuple[faust.EventT, list[Output]]

# Pages whose outputs are on their way to the broker; past this many, the agent waits for the oldest.
MAX_PAGES_IN_DELIVERY = 32
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


class Delivery:
    """What both guarantees share: stopping the worker, once, when a page cannot be delivered."""

    def __init__(self, app: faust.App) -> None:
        self.app = app
        self.crash: asyncio.Future | None = None  # held: the loop keeps only weak references to tasks

    @property
    def stopping(self) -> bool:
        return self.crash is not None

    def stop_worker(self, event: faust.EventT, error: BaseException) -> None:
        # Unacknowledged, the page holds every later offset of its partition back from the commit: stop
        # the worker, so that the next one replays from the last commit instead of going on. The crash
        # stops faust's worker, which exits within STOP_GRACE_S (app.py) even when its broker is gone.
        log_page("delivery_failed", event.message, error=f"{type(error).__name__}: {error}")
        if not self.stopping:  # once: the other pages' failures are the same one
            self.crash = asyncio.ensure_future(self.app.crash(error))


class AtLeastOnce(Delivery):
    """Besides faust's own commit every COMMIT_INTERVAL_S, a commit is asked for every `commit_every_pages`
    pages delivered: a worker that dies replays at most about that many pages it had delivered."""

    def __init__(self, app: faust.App, commit_every_pages: int,
                 max_pages_in_delivery: int = MAX_PAGES_IN_DELIVERY) -> None:
        super().__init__(app)
        self.commit_every_pages = commit_every_pages
        self.max_pages_in_delivery = max_pages_in_delivery
        self.in_delivery: deque[asyncio.Future] = deque()  # each done when its page's outputs are answered
        self.delivered_since_commit = 0
        self.committing: asyncio.Future | None = None

    async def publish(self, event: faust.EventT, outputs: list[Output]) -> None:
        kafka = self.app.producer._ensure_producer()  # aiokafka's: faust's wrapper sends a signal a message
        pending = [await kafka.send(topic, value, key=key) for topic, key, value in outputs]
        self.in_delivery.append(self.acknowledged_when_delivered(event, pending))
        while len(self.in_delivery) > self.max_pages_in_delivery or (self.in_delivery and self.in_delivery[0].done()):
            await self.in_delivery.popleft()

    def acknowledged_when_delivered(self, event: faust.EventT, pending: list[asyncio.Future]) -> asyncio.Future:
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
                self.stop_worker(event, error)
            elif (waiting := waiting - 1) == 0:
                self.delivered(event)
                answered.set_result(None)

        for output in pending:
            output.add_done_callback(on_answer)
        if not pending:
            self.delivered(event)
            answered.set_result(None)
        return answered

    def delivered(self, event: faust.EventT) -> None:
        """Acknowledge a delivered page, and ask faust to commit once enough pages are (it commits the offsets
        below which every page is acknowledged; one commit at a time, the next once it is done)."""
        event.ack()
        self.delivered_since_commit += 1
        if self.delivered_since_commit >= self.commit_every_pages and (self.committing is None or self.committing.done()):
            self.delivered_since_commit = 0
            self.committing = asyncio.ensure_future(self.app.consumer.commit())  # it handles its own errors


class Outcome(Enum):
    """How one attempt at a partition's transaction ended."""
    COMMITTED = "committed"
    REBALANCED = "skipped_rebalanced"  # aborted, or never begun: the partition's owner reads the pages again
    REVOKED = "skipped_revoked"  # the partition is no longer ours: its new owner reads the pages again
    FENCED = "fenced"  # a newer producer of the partition's transactional id: nothing was committed
    FAILED = "failed"  # the worker is stopping


class Transactional(Delivery):
    def __init__(self, app: faust.App, interval_s: float = TRANSACTION_INTERVAL_S,
                 max_pages: int = TRANSACTION_MAX_PAGES) -> None:
        super().__init__(app)
        self.interval_s = interval_s
        self.max_pages = max_pages
        self.waiting_pages: dict[TP, list[Page]] = {}  # each partition's, for its next transaction
        self.committers: dict[TP, asyncio.Task] = {}  # a partition's while it has pages waiting or committed lately

    async def publish(self, event: faust.EventT, outputs: list[Output]) -> None:
        """Leave a page's outputs for its partition's next transaction; the page is acknowledged when it commits."""
        tp = event.message.tp
        self.waiting_pages.setdefault(tp, []).append((event, outputs))
        if tp not in self.committers:
            self.committers[tp] = asyncio.ensure_future(self.commit_waiting_pages(tp))
        while len(self.waiting_pages.get(tp, ())) >= self.max_pages and not self.stopping:
            await asyncio.sleep(self.interval_s / 10)

    async def commit_waiting_pages(self, tp: TP) -> None:
        """Commit a partition's waiting pages until none is left. Pages that came while a transaction committed
        wait for the next one until `interval_s` after it began (or until `max_pages` wait)."""
        loop = asyncio.get_running_loop()
        try:
            while pages := self.waiting_pages.pop(tp, None):
                started = loop.time()
                await self.commit(tp, pages)
                if 0 < len(self.waiting_pages.get(tp, ())) < self.max_pages:
                    await asyncio.sleep(started + self.interval_s - loop.time())
        except Exception as error:  # e.g. stopping a fenced producer failed: the partition's pages would wait for ever
            self.stop_worker(pages[0][0], error)
        finally:
            del self.committers[tp]

    async def commit(self, tp: TP, pages: list[Page]) -> None:
        """Commit a partition's pages in one transaction and acknowledge them. Pages read before a rebalance are
        left out: the consumer reads each partition it is given from its last commit, so they come again, to
        this worker or another, and committing them too would publish them twice. A fenced producer (e.g. by
        a worker that held the partition for a while) is replaced by a fresh one once, which takes the
        partition's transactions back."""
        if len(fresh := [page for page in pages if not self.rebalanced_since(page[0])]) < len(pages):
            log_page(Outcome.REBALANCED.value, pages[0][0].message, pages=len(pages) - len(fresh))
        if not fresh:
            return
        outcome = await self.attempt(tp, fresh)
        if outcome is Outcome.FENCED:
            outcome = await self.attempt(tp, fresh)
        if outcome is Outcome.COMMITTED:
            telemetry.TRANSACTIONS.inc()
            for event, _ in fresh:
                event.ack()
        elif outcome in (Outcome.REBALANCED, Outcome.REVOKED):
            log_page(outcome.value, fresh[-1][0].message, pages=len(fresh))

    async def attempt(self, tp: TP, pages: list[Page]) -> Outcome:
        """One try at the partition's transaction: its producer sends the batch, then commits or aborts."""
        if self.stopping:
            return Outcome.FAILED  # nothing more of a worker that is stopping after a failed delivery is committed
        producer = await self.partition_producer(tp)
        if producer is None:
            return Outcome.REVOKED
        last = pages[-1][0]
        async with self.app.producer._trn_locks[self.transactional_id(tp)]:  # faust's sends take it too
            try:
                await self.send_batch(producer, tp, pages)
                outcome = await self.commit_or_abort(producer, last)
            except ProducerFenced:
                await self.recover_fenced(tp, producer, last)
                return Outcome.FENCED
            except Exception as error:
                if self.rebalanced_since(last):
                    return Outcome.REBALANCED  # faust stopped the producer under it
                self.stop_worker(pages[0][0], error)  # the next worker's producer aborts this transaction
                return Outcome.FAILED
            try:
                await producer.begin_transaction()  # for the partition's next pages
            except ProducerFenced:
                await self.recover_fenced(tp, producer, last)  # the next pages start a fresh producer
        return outcome

    async def send_batch(self, producer: AIOKafkaProducer, tp: TP, pages: list[Page]) -> None:
        """Every output of the pages, and the offset after the last page, into the open transaction."""
        for _, outputs in pages:
            for topic, key, value in outputs:
                await producer.send(topic, value, key=key)
        await producer.send_offsets_to_transaction({tp: pages[-1][0].message.offset + 1}, self.app.conf.id)

    async def commit_or_abort(self, producer: AIOKafkaProducer, last: faust.EventT) -> Outcome:
        """Commit, unless a rebalance came while the batch was sent: then its pages are read again, so abort."""
        if self.rebalanced_since(last):
            await producer.abort_transaction()
            return Outcome.REBALANCED
        await producer.commit_transaction()
        return Outcome.COMMITTED

    async def recover_fenced(self, tp: TP, producer: AIOKafkaProducer, last: faust.EventT) -> None:
        """Stop a fenced producer (it can do nothing more) and forget it, unless a fresh one has taken its place;
        the partition's next transaction starts a fresh one (partition_producer)."""
        producers = self.app.producer._transaction_producers
        if producers.get(name := self.transactional_id(tp)) is producer:
            del producers[name]
        await producer.stop()
        log_page(Outcome.FENCED.value, last.message)

    async def partition_producer(self, tp: TP) -> AIOKafkaProducer | None:
        """The transactional producer of an assigned partition, in a transaction (faust starts one for a
        partition without one); None if the partition is not ours."""
        if tp not in self.app.consumer.assignment():
            return None
        producers, name = self.app.producer, self.transactional_id(tp)
        if name not in producers._transaction_producers:
            await producers.begin_transaction(name)
        return producers._transaction_producers.get(name)

    def transactional_id(self, tp: TP) -> str:
        """The id faust gives the transactional producer of a partition."""
        group = TopicPartitionGroup(tp.topic, tp.partition, self.app.assignor.group_for_topic(tp.topic))
        return TransactionManager.transactional_id_format.format(tpg=group, group_id=self.app.conf.id)

    def rebalanced_since(self, event: faust.EventT) -> bool:
        return event.message.generation_id != self.app.consumer_generation_id


def delivery_for(app: faust.App, settings: Settings) -> AtLeastOnce | Transactional:
    if settings.processing_guarantee == "exactly_once":
        return Transactional(app)
    return AtLeastOnce(app, settings.commit_every_pages)
