"""Site memory in the stream: every worker of the group shares each site's template, and it survives
kill -9, restarts and rebalances.

- A processed page's outputs include its `LineFingerprints` on TOPIC_OBSERVATIONS, keyed by site, so one
  worker (the owner of the site's partition) sees every page of a site. The observation goes out with the
  page's other outputs, under its guarantee: in its transaction under exactly_once.
- The owner folds them (`SiteLearner`, the pure `fold` of pipeline/sitememory.py) and publishes the site's
  whole state (its window of distinct pages, and the template it gives) to the compacted TOPIC_TEMPLATES,
  keyed by site, as the output of the observation: under exactly_once the state and the observation's
  offset commit together; under at_least_once a replayed observation is a page already in the window,
  which teaches nothing.
- Every worker reads TOPIC_TEMPLATES from its beginning (`Templates`, a consumer of its own rather than a
  faust GlobalTable: GlobalTables with several workers have missed updates, robinhood/faust#541 and #716,
  faust-streaming/faust#283) and hands each page its site's template. After a rebalance the owner of a
  site starts again from the site's last published state, once the reader has caught up with the topic:
  nothing is relearnt from zero.
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

import orjson
from aiokafka import AIOKafkaConsumer
from faust.types import Message

from . import telemetry
from .delivery import Output
from .pipeline.records import LineFingerprints, Memory, RawPage
from .pipeline.sitememory import MAX_SITES, MemoryState, SiteState, fold, site_of
from .settings import Settings, client_options

log = logging.getLogger(__name__)

# How often `caught_up` looks at the reader's positions.
CATCH_UP_POLL_S = 0.05


class BadObservation(ValueError):
    """An observation message that is not one this worker writes."""


def observation_output(settings: Settings, seen: LineFingerprints) -> Output:
    """What a page taught its site, as one more output of the page."""
    return (settings.topic_observations, seen.site.encode("utf-8"),
            orjson.dumps({"site": seen.site, "page": seen.page, "lines": seen.lines}))


def read_observation(value: bytes | None) -> LineFingerprints:
    try:
        obj = orjson.loads(value or b"")
        return LineFingerprints(site=obj["site"], page=obj["page"], lines=tuple(obj["lines"]))
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise BadObservation(f"{type(exc).__name__}: {exc}") from None


def state_message(site: str, state: SiteState) -> bytes:
    """A site's state on the templates topic: its template (what every worker reads) on a first line of its
    own, then its window (what the site's next owner folds on), so that a reader parses the template alone."""
    return orjson.dumps(sorted(state.template())) + b"\n" + orjson.dumps([[page, lines] for page, lines in state.pages])


def read_template(value: bytes) -> frozenset[str]:
    return frozenset(orjson.loads(value.partition(b"\n")[0]))


def read_state(value: bytes) -> SiteState:
    pages = tuple((page, tuple(lines)) for page, lines in orjson.loads(value.partition(b"\n")[2]))
    counts: dict[str, int] = {}
    for _, lines in pages:
        for line in lines:
            counts[line] = counts.get(line, 0) + 1
    return SiteState(pages=pages, counts=counts)


class TopicReader:
    """A topic read from its beginning, every partition, for as long as the worker runs, each record handed to
    `apply` (key decoded as UTF-8). A consumer of its own, without a group, read_committed: under exactly_once
    it sees only what the group committed. A reader without a topic (the layer turned off) reads nothing."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.settings = settings
        self.topic = topic
        self.consumer: AIOKafkaConsumer | None = None
        self.started = asyncio.Event()

    def apply(self, key: str, value: bytes | None) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        if not self.topic:
            self.started.set()
            return
        self.consumer = AIOKafkaConsumer(self.topic, **client_options(self.settings), group_id=None,
                                         auto_offset_reset="earliest", enable_auto_commit=False,
                                         isolation_level="read_committed")
        await self.consumer.start()
        try:
            while True:
                for records in (await self.consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        self.apply(record.key.decode("utf-8", "replace") if record.key else "", record.value)
                if not self.started.is_set() and self.consumer.assignment():  # without a group: every partition
                    self.started.set()
        finally:
            await self.consumer.stop()

    async def caught_up(self) -> None:
        """Return once every record the topic holds now has been read (read_committed: up to its last stable
        offset, so a transaction a killed worker left open does not hold the wait)."""
        await self.started.wait()
        if self.consumer is None:
            return
        ends = await self.consumer.end_offsets(list(self.consumer.assignment()))
        for tp, end in ends.items():
            while await self.consumer.position(tp) < end:
                await asyncio.sleep(CATCH_UP_POLL_S)


class Templates(TopicReader):
    """Every site's template, read from the compacted templates topic; at most MAX_SITES sites, the least
    recently updated forgotten first. Each site's last state is kept as it came, for the site's owner to fold
    on after a rebalance (`site_state`)."""

    def __init__(self, settings: Settings, max_sites: int = MAX_SITES) -> None:
        super().__init__(settings, settings.topic_templates)
        self.max_sites = max_sites
        self.sites: OrderedDict[str, tuple[frozenset[str], bytes]] = OrderedDict()
        self.template_lines = 0

    def memory_for(self, raw: RawPage) -> Memory:
        entry = self.sites.get(site_of(raw))
        return Memory(site_template=entry[0]) if entry else Memory()

    def site_state(self, site: str) -> SiteState:
        """The site's last published state (empty if none, or if it cannot be read)."""
        entry = self.sites.get(site)
        if entry is None:
            return SiteState()
        try:
            return read_state(entry[1])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            log.warning("site state of %r not read (%s: %s); the site starts again", site, type(exc).__name__, exc)
            return SiteState()

    def apply(self, site: str, value: bytes | None) -> None:
        """One record of the templates topic: the site's latest state (None: the site is forgotten)."""
        old = self.sites.pop(site, None)
        if old is not None:
            self.template_lines -= len(old[0])
        if value is not None:
            try:
                template = read_template(value)
            except (orjson.JSONDecodeError, TypeError) as exc:
                log.warning("site state of %r not read (%s: %s); the site's template is dropped", site,
                            type(exc).__name__, exc)
            else:
                self.sites[site] = (template, value)
                self.template_lines += len(template)
        while len(self.sites) > self.max_sites:
            self.template_lines -= len(self.sites.popitem(last=False)[1][0])
        telemetry.SITES_KNOWN.set(len(self.sites))
        telemetry.TEMPLATE_LINES.set(self.template_lines)


class SiteLearner:
    """The fold of the sites whose observations partitions this worker owns. After a rebalance each site
    starts again from its last published state."""

    def __init__(self, settings: Settings, templates: Templates) -> None:
        self.settings = settings
        self.templates = templates
        self.state = MemoryState()
        self.generation: int | None = None

    async def learn(self, message: Message) -> list[Output]:
        """The outputs of one observation: the site's new state, or nothing when the page teaches nothing."""
        seen = read_observation(message.value)
        if message.generation_id != self.generation:
            await self.templates.caught_up()  # the previous owners' states, up to the committed observations
            self.state, self.generation = MemoryState(), message.generation_id
        before = self.state.sites.get(seen.site)
        if before is None:
            before = self.templates.site_state(seen.site)
            self.state = MemoryState(sites={**self.state.sites, seen.site: before})
        self.state = fold(self.state, seen)
        telemetry.SITES_LEARNT.set(len(self.state.sites))
        after = self.state.sites[seen.site]
        if after is before:
            return []
        return [(self.settings.topic_templates, seen.site.encode("utf-8"), state_message(seen.site, after))]
