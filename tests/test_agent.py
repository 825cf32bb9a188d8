"""The agent in-process, without a broker: when it lets the event loop run the sends it has queued.

A page processed on the loop holds it, and outputs only leave at the loop's turns: a run of waiting pages
must not hold back the outputs of the pages before it, nor must every page pay for a turn of its own.
"""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson

from workers import agents
from workers.agents import INLINE_MAX_CHARS, LOOP_TURN_CHARS


def _event(url: str, text: str, offset: int) -> SimpleNamespace:
    message = SimpleNamespace(value=orjson.dumps({"url": url, "text": text}), key=url.encode(),
                              topic="pages", partition=0, offset=offset)
    return SimpleNamespace(message=message)


class _Stream:
    """What the agent asks of faust's stream: events already in its buffer, handed over without a wait."""

    def __init__(self, events: list[SimpleNamespace]) -> None:
        self._events = events

    def noack(self) -> "_Stream":
        return self

    async def events(self):
        for event in self._events:
            yield event


async def test_the_outputs_of_waiting_pages_leave_before_a_long_page_holds_the_loop(seed_text, monkeypatch):
    order: list[tuple[str, str]] = []
    loop = asyncio.get_running_loop()

    async def publish(event, outputs) -> None:
        url = event.message.key.decode()
        order.append(("published", url))
        loop.call_soon(order.append, ("sent", url))  # runs at the loop's next turn, as the producer's sender

    def run_pipeline(raw):
        order.append(("processing", raw.url))
        return agents.process_page(raw)

    async def nothing_to_catch_up() -> None:  # no broker: no site templates or signatures to read
        pass

    monkeypatch.setattr(agents, "publish", publish)
    monkeypatch.setattr(agents, "run_pipeline", run_pipeline)
    for reader in agents.memory_readers:
        monkeypatch.setattr(reader, "caught_up", nothing_to_catch_up)
    short = seed_text[:2000]
    long = (seed_text * (LOOP_TURN_CHARS // len(seed_text) + 1))[:LOOP_TURN_CHARS]
    assert len(long) <= INLINE_MAX_CHARS  # processed on the loop itself
    pages = [("short-0", short), ("short-1", short), ("short-2", short), ("long", long), ("next", short)]
    await agents.clean_pages.fun(_Stream([_event(url, text, n) for n, (url, text) in enumerate(pages)]))
    await asyncio.sleep(0)

    at = {step: n for n, step in enumerate(order)}
    # Short pages follow one another without a turn each ...
    assert at["processing", "short-2"] < at["sent", "short-0"]
    # ... but the loop turns before the long page, and after it before the next one.
    assert at["sent", "short-2"] < at["processing", "long"]
    assert at["sent", "long"] < at["processing", "next"]
