"""How the worker's faust consumer hands each fetched message to the streams: at once when the delivery
need not wait, and faust's way (a task that a stopped flow cancels) when it must."""
from __future__ import annotations

import asyncio
import inspect

import pytest

from workers.app import create_app
from workers.settings import Settings


@pytest.fixture
async def consumer():
    app = create_app(Settings(kafka_bootstrap_servers="127.0.0.1:9"))  # never connects
    async def ignore(*_) -> None: ...

    yield app.transport.create_consumer(callback=ignore, on_partitions_revoked=ignore,
                                        on_partitions_assigned=ignore)


async def test_a_delivery_that_needs_no_wait_is_done_in_place(consumer):
    delivered = []

    async def delivery() -> str:
        delivered.append(asyncio.current_task())
        return "delivered"

    flow_stopped = consumer.suspend_flow.wait()
    winners, results, stopped = await consumer.wait_first(delivery(), flow_stopped)
    assert results == ["delivered"] and len(winners) == 1 and not stopped
    assert delivered == [asyncio.current_task()]  # run in the caller's task: no task of its own
    assert inspect.getcoroutinestate(flow_stopped) == inspect.CORO_CLOSED


async def test_a_delivery_that_waits_goes_on_once_its_wait_ends(consumer):
    room = asyncio.get_running_loop().create_future()

    async def delivery() -> str:
        return f"delivered after {await room}"

    waiting = asyncio.ensure_future(consumer.wait_first(delivery(), consumer.suspend_flow.wait()))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    room.set_result("a wait")
    winners, results, stopped = await asyncio.wait_for(waiting, 1)
    assert results == ["delivered after a wait"] and not stopped


async def test_a_waiting_delivery_is_cancelled_when_the_flow_stops(consumer):
    room = asyncio.get_running_loop().create_future()
    cancelled = asyncio.Event()

    async def delivery() -> None:
        try:
            await room
        except asyncio.CancelledError:
            cancelled.set()
            raise

    waiting = asyncio.ensure_future(consumer.wait_first(delivery(), consumer.suspend_flow.wait()))
    await asyncio.sleep(0.01)
    consumer.stop_flow()  # what faust does when partitions are revoked
    winners, results, stopped = await asyncio.wait_for(waiting, 1)
    assert results == [True] and not stopped  # the flow's event won
    await asyncio.wait_for(cancelled.wait(), 1)
    assert room.cancelled()


async def test_a_failing_delivery_raises_before_or_after_a_wait(consumer):
    async def fails_at_once() -> None:
        raise ValueError("at once")

    room = asyncio.get_running_loop().create_future()

    async def fails_later() -> None:
        await room
        raise ValueError("later")

    flow_stopped = consumer.suspend_flow.wait()
    with pytest.raises(ValueError, match="at once"):
        await consumer.wait_first(fails_at_once(), flow_stopped)
    assert inspect.getcoroutinestate(flow_stopped) == inspect.CORO_CLOSED

    waiting = asyncio.ensure_future(consumer.wait_first(fails_later(), consumer.suspend_flow.wait()))
    await asyncio.sleep(0.01)
    room.set_result(None)
    with pytest.raises(ValueError, match="later"):
        await asyncio.wait_for(waiting, 1)


async def test_a_stopped_flow_takes_faust_own_way(consumer):
    consumer.stop_flow()

    async def delivery() -> str:
        return "delivered"

    # faust's wait_first: the delivery and the set event both finish; no delivery runs in the caller's task
    winners, results, stopped = await consumer.wait_first(delivery(), consumer.suspend_flow.wait())
    assert not stopped and "delivered" in results
