"""Site memory in the stream: every worker of the group shares each site's template, and it survives
kill -9, restarts and rebalances.

- A processed page's outputs include its `LineFingerprints` on TOPIC_OBSERVATIONS, keyed by site, so one
  worker (the owner of the site's partition) sees every page of a site. The observation goes out with the
  page's other outputs, under its guarantee: in its transaction under exactly_once.
- The owner folds them (`SiteLearner`, the pure `fold` of pipeline/sitememory.py) and publishes what a page
  taught to the compacted TOPIC_TEMPLATES as the output of the observation: the page itself, numbered, in
  one of the site's WINDOW_PAGES slots (so compaction keeps the site's last window), and the site's template
  when it changed. Under exactly_once they and the observation's offset commit together; under
  at_least_once a replayed observation is a page already in the window, which teaches nothing.
- Every worker reads TOPIC_TEMPLATES from its beginning (`Templates`, a consumer of its own rather than a
  faust GlobalTable: GlobalTables with several workers have missed updates, robinhood/faust#541 and #716,
  faust-streaming/faust#283) and hands each page its site's template. After a rebalance the owner of a
  site starts again from the site's last published window, once the reader has caught up with the topic:
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
from .pipeline.sitememory import Limits, MemoryState, SiteState, fold, site_of, window_state
from .settings import Settings, client_options, site_memory_limits

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


# A site's records on the templates topic: its template under the site's name, and each page of its window
# under the site's name, this separator and the page's slot (its sequence number modulo the window), so
# that compaction keeps the site's template and its last window of pages, and a page taught costs one small
# record rather than the whole window again.
SLOT_SEPARATOR = "\x00"


def template_record(settings: Settings, site: str, template: frozenset[str]) -> Output:
    return settings.topic_templates, site.encode("utf-8"), orjson.dumps(sorted(template))


def page_record(settings: Settings, site: str, state: SiteState) -> Output:
    """The page the site's state took in last, numbered, in its slot."""
    sequence, (page, lines) = state.taught - 1, state.pages[-1]
    slot = sequence % settings.site_memory_window_pages
    return (settings.topic_templates, f"{site}{SLOT_SEPARATOR}{slot}".encode("utf-8"),
            orjson.dumps([sequence, page, lines]))


def read_template(value: bytes) -> frozenset[str]:
    return frozenset(orjson.loads(value))


def read_page(value: bytes) -> tuple[int, str, tuple[str, ...]]:
    sequence, page, lines = orjson.loads(value)
    return int(sequence), str(page), tuple(lines)


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
    """Every site's template and window, read from the compacted templates topic; at most
    SITE_MEMORY_MAX_SITES sites, the least recently updated forgotten first. The window's page records are
    kept as they came, for the site's owner to fold on after a rebalance (`site_state`)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.topic_templates)
        self.max_sites = settings.site_memory_max_sites
        self.sites: OrderedDict[str, frozenset[str]] = OrderedDict()
        self.windows: OrderedDict[str, dict[str, bytes]] = OrderedDict()
        self.template_lines = 0

    def memory_for(self, raw: RawPage) -> Memory:
        template = self.sites.get(site_of(raw))
        return Memory(site_template=template) if template else Memory()

    def site_state(self, site: str, limits: Limits) -> SiteState:
        """The site's last published window (empty if none, or if it cannot be read)."""
        try:
            return window_state(map(read_page, self.windows.get(site, {}).values()), limits)
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            log.warning("window of %r not read (%s: %s); the site starts again", site, type(exc).__name__, exc)
            return SiteState()

    def apply(self, key: str, value: bytes | None) -> None:
        """One record of the templates topic: a site's template, or a page of its window (None: forgotten)."""
        site, separator, slot = key.partition(SLOT_SEPARATOR)
        if separator:
            window = self.windows.pop(site, {})
            if value is None:
                window.pop(slot, None)
            else:
                window[slot] = value
            if window:
                self.windows[site] = window
        else:
            self._apply_template(site, value)
        for held in (self.sites, self.windows):
            while len(held) > self.max_sites:
                _, old = held.popitem(last=False)
                if held is self.sites:
                    self.template_lines -= len(old)
        telemetry.SITES_KNOWN.set(len(self.sites))
        telemetry.TEMPLATE_LINES.set(self.template_lines)

    def _apply_template(self, site: str, value: bytes | None) -> None:
        old = self.sites.pop(site, None)
        if old is not None:
            self.template_lines -= len(old)
        if value is None:
            return
        try:
            template = read_template(value)
        except (orjson.JSONDecodeError, TypeError) as exc:
            log.warning("template of %r not read (%s: %s); it is dropped", site, type(exc).__name__, exc)
            return
        self.sites[site] = template
        self.template_lines += len(template)


class SiteLearner:
    """The fold of the sites whose observations partitions this worker owns. After a rebalance each site
    starts again from its last published window."""

    def __init__(self, settings: Settings, templates: Templates) -> None:
        self.settings = settings
        self.templates = templates
        self.limits = site_memory_limits(settings)
        self.state = MemoryState(limits=self.limits)
        self.generation: int | None = None

    async def learn(self, message: Message) -> list[Output]:
        """The outputs of one observation: the page's record and the site's template if it changed, or nothing
        when the page teaches nothing."""
        seen = read_observation(message.value)
        if message.generation_id != self.generation:
            await self.templates.caught_up()  # the previous owners' records, up to the committed observations
            self.state, self.generation = MemoryState(limits=self.limits), message.generation_id
        before = self.state.sites.get(seen.site)
        if before is None:
            before = self.templates.site_state(seen.site, self.limits)
            self.state = MemoryState(sites={**self.state.sites, seen.site: before}, limits=self.limits)
        self.state = fold(self.state, seen)
        telemetry.SITES_LEARNT.set(len(self.state.sites))
        after = self.state.sites[seen.site]
        if after is before:
            return []
        outputs = [page_record(self.settings, seen.site, after)]
        if after.template != before.template:
            outputs.append(template_record(self.settings, seen.site, after.template))
        return outputs
