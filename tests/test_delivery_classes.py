"""The two delivery classes on their own, with fake events and producers in place of faust's and the broker's:
when a page is acknowledged, what each transaction holds, and what a rebalance, a fenced producer and a failed
delivery do. The same behaviour on the real broker is in test_delivery.py and test_lifecycle.py."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka.errors import KafkaTimeoutError, ProducerFenced
from faust.types import TP

from workers.delivery import AtLeastOnce, Transactional

TOPIC = "pages"
GROUP = "cleaner"


class FakeEvent:
    def __init__(self, offset: int, partition: int = 0, generation: int = 1) -> None:
        self.message = SimpleNamespace(tp=TP(TOPIC, partition), topic=TOPIC, partition=partition, offset=offset,
                                       key=f"page-{offset}".encode(), generation_id=generation)
        self.acks = 0

    def ack(self) -> None:
        self.acks += 1


def outputs(event: FakeEvent, count: int = 2) -> list[tuple[str, bytes, bytes]]:
    return [("articles", event.message.key, f"{event.message.offset}-{n}".encode()) for n in range(count)]


class FakeApp:
    """What the delivery classes ask of faust's app: its producer, consumer, group, generation and crash."""

    def __init__(self, producer: object) -> None:
        self.producer = producer
        self.conf = SimpleNamespace(id=GROUP)
        self.assignor = SimpleNamespace(group_for_topic=lambda topic: 0)
        self.consumer = SimpleNamespace(assignment=lambda: self.assigned, commit=self.commit)
        self.assigned = {TP(TOPIC, 0), TP(TOPIC, 1)}
        self.consumer_generation_id = 1
        self.crashes: list[BaseException] = []
        self.commits = 0
        self.commit_gate: asyncio.Event | None = None  # when set, commits wait for it

    async def commit(self) -> bool:
        self.commits += 1
        if self.commit_gate is not None:
            await self.commit_gate.wait()
        return True

    async def crash(self, error: BaseException) -> None:
        self.crashes.append(error)


# at_least_once

class SendingProducer:
    """aiokafka's producer as AtLeastOnce uses it: each send gives a future the broker's answer completes."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, asyncio.Future]] = []
        self._producer = self

    def _ensure_producer(self) -> "SendingProducer":
        return self

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future:
        answer = asyncio.get_running_loop().create_future()
        self.sent.append((topic, value, answer))
        return answer

    def answer_all(self) -> None:
        for _, _, answer in self.sent:
            if not answer.done():
                answer.set_result("metadata")


@pytest.fixture
def at_least_once() -> AtLeastOnce:
    return AtLeastOnce(FakeApp(SendingProducer()), commit_every_pages=3, max_pages_in_delivery=2)


async def test_a_page_is_acknowledged_once_the_broker_has_every_output(at_least_once):
    producer = at_least_once.app.producer
    event = FakeEvent(0)
    await at_least_once.publish(event, outputs(event, 3))
    assert [value for _, value, _ in producer.sent] == [b"0-0", b"0-1", b"0-2"]
    producer.sent[0][2].set_result("metadata")
    producer.sent[1][2].set_result("metadata")
    await asyncio.sleep(0)
    assert event.acks == 0  # one output still on its way
    producer.sent[2][2].set_result("metadata")
    await asyncio.sleep(0)
    assert event.acks == 1


async def test_a_page_without_outputs_is_acknowledged_at_once(at_least_once):
    event = FakeEvent(0)
    await at_least_once.publish(event, [])
    assert event.acks == 1 and not at_least_once.in_delivery


async def test_the_agent_waits_for_the_oldest_page_past_the_pages_in_delivery(at_least_once):
    producer = at_least_once.app.producer
    events = [FakeEvent(n) for n in range(3)]
    for event in events[:2]:
        await at_least_once.publish(event, outputs(event))
    third = asyncio.ensure_future(at_least_once.publish(events[2], outputs(events[2])))
    await asyncio.sleep(0.01)
    assert not third.done()  # three pages in delivery, two allowed
    producer.sent[0][2].set_result("metadata")
    producer.sent[1][2].set_result("metadata")
    await asyncio.wait_for(third, 1)
    assert [e.acks for e in events] == [1, 0, 0]


async def test_a_failed_output_leaves_its_page_unacknowledged_and_stops_the_worker_once(at_least_once):
    producer = at_least_once.app.producer
    events = [FakeEvent(n) for n in range(2)]
    for event in events:
        await at_least_once.publish(event, outputs(event))
    for _, _, answer in producer.sent:
        answer.set_exception(KafkaTimeoutError())
    await asyncio.sleep(0)
    assert [e.acks for e in events] == [0, 0]
    await asyncio.sleep(0)
    assert len(at_least_once.app.crashes) == 1 and isinstance(at_least_once.app.crashes[0], KafkaTimeoutError)


async def test_a_cancelled_output_leaves_its_page_to_be_read_again(at_least_once):
    producer = at_least_once.app.producer
    event = FakeEvent(0)
    await at_least_once.publish(event, outputs(event))
    producer.sent[0][2].cancel()  # the producer is stopping
    producer.answer_all()
    await asyncio.sleep(0.01)
    assert event.acks == 0 and not at_least_once.app.crashes


async def test_a_commit_is_asked_for_every_few_pages_delivered_one_at_a_time(at_least_once):
    app, producer = at_least_once.app, at_least_once.app.producer
    app.commit_gate = asyncio.Event()
    events = [FakeEvent(n) for n in range(7)]
    for event in events:
        await at_least_once.publish(event, outputs(event, 1))
        producer.answer_all()
        await asyncio.sleep(0)
    assert [e.acks for e in events] == [1] * 7
    assert app.commits == 1  # the second is due after page 6, but the first is still under way
    app.commit_gate.set()
    await asyncio.sleep(0.01)
    last = FakeEvent(7)
    await at_least_once.publish(last, outputs(last, 1))
    producer.answer_all()
    await asyncio.sleep(0.01)
    assert app.commits == 2


# exactly_once

class TransactionProducer:
    """aiokafka's transactional producer: records what each transaction held. `commit_gate`, when set, holds
    commits until it is set; `fail_commit` is raised by the next commit."""

    def __init__(self, name: str, log: list) -> None:
        self.name, self.log = name, log
        self.batch: list = []
        self.commit_gate: asyncio.Event | None = None
        self.fail_commit: BaseException | None = None
        self.stopped = False

    async def begin_transaction(self) -> None:
        self.batch = []

    async def send(self, topic: str, value: bytes, key: bytes) -> None:
        self.batch.append(value)

    async def send_offsets_to_transaction(self, offsets: dict, group: str) -> None:
        self.batch.append((offsets, group))

    async def commit_transaction(self) -> None:
        if self.commit_gate is not None:
            await self.commit_gate.wait()
        if self.fail_commit is not None:
            error, self.fail_commit = self.fail_commit, None
            raise error
        self.log.append(("committed", self.name, self.batch))

    async def abort_transaction(self) -> None:
        self.log.append(("aborted", self.name, self.batch))

    async def stop(self) -> None:
        self.stopped = True


class TransactionProducers:
    """faust's driver Producer as far as Transactional reaches into it: one producer per transactional id."""

    def __init__(self) -> None:
        self.log: list = []
        self.started: list[TransactionProducer] = []
        self._transaction_producers: dict[str, TransactionProducer] = {}
        self._trn_locks: dict[str, asyncio.Lock] = {}

    async def begin_transaction(self, name: str) -> None:
        producer = TransactionProducer(name, self.log)
        self.started.append(producer)
        self._transaction_producers[name] = producer
        self._trn_locks[name] = asyncio.Lock()
        await producer.begin_transaction()


@pytest.fixture
def transactional() -> Transactional:
    return Transactional(FakeApp(TransactionProducers()), interval_s=0.01, max_pages=3)


async def held_commits(delivery: Transactional, partition: int = 0) -> asyncio.Event:
    """Start the partition's producer with its commits held until the event returned is set."""
    producers, name = delivery.app.producer, delivery.transactional_id(TP(TOPIC, partition))
    await producers.begin_transaction(name)
    gate = producers._transaction_producers[name].commit_gate = asyncio.Event()
    return gate


async def settled(delivery: Transactional) -> None:
    while delivery.committers:
        await asyncio.sleep(0.005)


async def test_a_page_alone_is_committed_at_once_with_the_offset_after_it(transactional):
    event = FakeEvent(7)
    await transactional.publish(event, outputs(event))
    await settled(transactional)
    assert transactional.app.producer.log == [
        ("committed", f"{GROUP}-0-0", [b"7-0", b"7-1", ({TP(TOPIC, 0): 8}, GROUP)])]
    assert event.acks == 1


async def test_the_transactional_id_is_faust_own_for_the_partition(transactional):
    # the id faust's TransactionManager gives the producer it starts for a partition on assignment
    assert transactional.transactional_id(TP(TOPIC, 3)) == f"{GROUP}-0-3"


async def test_pages_that_come_while_a_partition_commits_share_its_next_transaction(transactional):
    producers = transactional.app.producer
    gate = await held_commits(transactional)
    first = FakeEvent(0)
    await transactional.publish(first, outputs(first, 1))
    await asyncio.sleep(0.01)  # its commit has begun
    later = [FakeEvent(n) for n in (1, 2)]
    for event in later:
        await transactional.publish(event, outputs(event, 1))
    other = FakeEvent(0, partition=1)  # another partition commits on its own
    await transactional.publish(other, outputs(other, 1))
    gate.set()
    await settled(transactional)
    committed = [(name, batch) for outcome, name, batch in producers.log if outcome == "committed"]
    assert sorted(committed) == sorted([
        (f"{GROUP}-0-0", [b"0-0", ({TP(TOPIC, 0): 1}, GROUP)]),
        (f"{GROUP}-0-0", [b"1-0", b"2-0", ({TP(TOPIC, 0): 3}, GROUP)]),
        (f"{GROUP}-0-1", [b"0-0", ({TP(TOPIC, 1): 1}, GROUP)]),
    ])
    assert [e.acks for e in (first, *later, other)] == [1, 1, 1, 1]


async def test_the_agent_waits_while_a_partition_has_max_pages_waiting(transactional):
    gate = await held_commits(transactional)
    events = [FakeEvent(n) for n in range(4)]
    await transactional.publish(events[0], outputs(events[0], 1))
    await asyncio.sleep(0.01)  # its commit has begun
    for event in events[1:3]:
        await transactional.publish(event, outputs(event, 1))
    fourth = asyncio.ensure_future(transactional.publish(events[3], outputs(events[3], 1)))
    await asyncio.sleep(0.05)
    assert not fourth.done()  # three pages waiting, as many as allowed
    gate.set()
    await asyncio.wait_for(fourth, 1)
    await settled(transactional)
    assert [e.acks for e in events] == [1, 1, 1, 1]


async def test_pages_read_before_a_rebalance_are_never_committed(transactional):
    stale, fresh = FakeEvent(0, generation=1), FakeEvent(1, generation=2)
    transactional.app.consumer_generation_id = 2
    await transactional.publish(stale, outputs(stale, 1))
    await transactional.publish(fresh, outputs(fresh, 1))
    await settled(transactional)
    log = transactional.app.producer.log
    assert [(outcome, batch) for outcome, _, batch in log] == [("committed", [b"1-0", ({TP(TOPIC, 0): 2}, GROUP)])]
    assert (stale.acks, fresh.acks) == (0, 1)


async def test_a_rebalance_while_the_batch_is_sent_aborts_the_transaction(transactional):
    producers = transactional.app.producer
    event = FakeEvent(0)

    class RebalancingProducer(TransactionProducer):
        async def send_offsets_to_transaction(self, offsets: dict, group: str) -> None:
            transactional.app.consumer_generation_id = 2  # the group rebalanced meanwhile
            await super().send_offsets_to_transaction(offsets, group)

    name = transactional.transactional_id(TP(TOPIC, 0))
    producers._transaction_producers[name] = RebalancingProducer(name, producers.log)
    producers._trn_locks[name] = asyncio.Lock()
    await transactional.publish(event, outputs(event, 1))
    await settled(transactional)
    assert [outcome for outcome, _, _ in producers.log] == ["aborted"]
    assert event.acks == 0


async def test_a_revoked_partition_commits_nothing(transactional):
    transactional.app.assigned = {TP(TOPIC, 1)}
    event = FakeEvent(0)
    await transactional.publish(event, outputs(event, 1))
    await settled(transactional)
    assert transactional.app.producer.log == [] and event.acks == 0


async def test_a_fenced_producer_is_replaced_by_a_fresh_one_that_commits_the_pages(transactional):
    producers = transactional.app.producer
    first = FakeEvent(0)
    await transactional.publish(first, outputs(first, 1))
    await settled(transactional)
    fenced = producers.started[0]
    fenced.fail_commit = ProducerFenced()  # another producer of the same id has begun since
    event = FakeEvent(1)
    await transactional.publish(event, outputs(event, 1))
    await settled(transactional)
    assert fenced.stopped and len(producers.started) == 2
    name = transactional.transactional_id(TP(TOPIC, 0))
    assert producers._transaction_producers[name] is producers.started[1]
    assert producers.log[-1] == ("committed", name, [b"1-0", ({TP(TOPIC, 0): 2}, GROUP)])
    assert event.acks == 1 and not transactional.app.crashes


async def test_a_failed_commit_stops_the_worker_and_commits_nothing_more(transactional):
    producers = transactional.app.producer
    first = FakeEvent(0)
    await transactional.publish(first, outputs(first, 1))
    await settled(transactional)
    producers.started[0].fail_commit = KafkaTimeoutError()
    failed, after = FakeEvent(1), FakeEvent(2)
    await transactional.publish(failed, outputs(failed, 1))
    await settled(transactional)
    await transactional.publish(after, outputs(after, 1))
    await settled(transactional)
    await asyncio.sleep(0)
    assert len(transactional.app.crashes) == 1 and isinstance(transactional.app.crashes[0], KafkaTimeoutError)
    assert [batch for _, _, batch in producers.log] == [[b"0-0", ({TP(TOPIC, 0): 1}, GROUP)]]
    assert (failed.acks, after.acks) == (0, 0)
