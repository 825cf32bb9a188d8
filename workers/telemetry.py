"""Prometheus metrics of a worker process (served on the worker's web server at /metrics)."""
from __future__ import annotations

import asyncio
import collections
import time
from functools import cache

from prometheus_client import Counter, Gauge, Histogram

from .pipeline.records import CONTENT_LABELS, METADATA_LABELS, PageResult

KEPT_LABELS = frozenset(CONTENT_LABELS + METADATA_LABELS)

STALL_PROBE_INTERVAL_S = 0.05

PAGES_IN = Counter("worker_pages_in_total", "Raw page messages taken from the input topic")
ARTICLES_OUT = Counter("worker_articles_out_total", "Cleaned articles published")
FACTS_OUT = Counter("worker_facts_out_total", "Metric records published")
FACTS_REJECTED = Counter(
    "worker_facts_rejected_total", "Quantities not taken as facts, by reason (workers/pipeline/facts.py REJECTIONS)",
    ["reason"],
)
DEAD_LETTERS = Counter("worker_dead_letters_total", "Messages sent to the dead-letter topic", ["reason"])
TRANSACTIONS = Counter("worker_transactions_total", "Transactions committed under exactly_once")
SEGMENTS = Counter("worker_segments_total", "Segments classified, by label", ["label"])
DROPPED = Counter("worker_segments_dropped_total", "Segments left out of the article, by the pass or model that decided it",
                  ["reason"])
SITES_KNOWN = Gauge("worker_site_memory_sites", "Sites whose template this worker holds")
SITES_LEARNT = Gauge("worker_site_memory_sites_learnt", "Sites whose pages this worker folds (it owns their partitions)")
TEMPLATE_HITS = Counter("worker_site_memory_hits_total",
                        "Segments whose line is in their site's template, by the label the classifier first gave them",
                        ["label"])
TEMPLATE_LINES = Gauge("worker_site_memory_template_lines", "Template lines this worker holds, over every site")
REPRINT_INDEX_ARTICLES = Gauge("worker_reprint_index_articles", "Articles in this worker's reprint index")
REPRINT_RECORDS_SKIPPED = Counter("worker_reprint_records_skipped_total",
                                  "Records of the signatures topic not folded into the reprint index, by reason",
                                  ["reason"])
REPRINTS = Counter("worker_reprints_total", "Articles whose body repeats an earlier article's, by what was done "
                   "(REPRINT_ACTION: mark, published with the mark; drop, article and facts not published)", ["action"])
STAGE_SECONDS = Histogram(
    "worker_stage_seconds", "Time per page in each pipeline stage", ["stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
PAGE_SECONDS = Histogram(
    "worker_page_seconds", "Time from taking a page to all of its outputs handed to the producer",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LOOP_STALL = Histogram(
    "worker_event_loop_stall_seconds", "How late the event loop ran a timer (heartbeats and commits wait as long)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LOOP_STALL_MAX = Gauge("worker_event_loop_stall_max_seconds", "Longest event-loop stall seen since start")
CONSUMER_LAG = Gauge("worker_consumer_lag", "Messages behind the end of each assigned partition", ["topic", "partition"])


@cache
def labelled(metric: Counter | Histogram, value: str) -> Counter | Histogram:
    """`metric.labels(value)`, looked up once: prometheus_client checks the labels under a lock each call."""
    return metric.labels(value)


def record_page(result: PageResult) -> None:
    """Count a page whose outputs were published."""
    for stage, seconds in result.timings.items():
        labelled(STAGE_SECONDS, stage).observe(seconds)
    article = result.article  # its kept and dropped segments, counted by label, are all of them
    for label, count in (article.kept | article.dropped).items():
        labelled(SEGMENTS, label).inc(count)
    dropped = collections.Counter(s.features["reason"] for s in result.segments if s.label not in KEPT_LABELS)
    for reason, count in dropped.items():
        labelled(DROPPED, reason).inc(count)
    hits = collections.Counter(s.features.get("first", s.label) for s in result.segments if s.features.get("template"))
    for label, count in hits.items():
        labelled(TEMPLATE_HITS, label).inc(count)
    ARTICLES_OUT.inc()
    FACTS_OUT.inc(len(result.facts))
    if article.duplicate_of is not None:
        labelled(REPRINTS, "mark").inc()
    for reason, count in result.fact_rejections.items():
        labelled(FACTS_REJECTED, reason).inc(count)


def page_totals() -> dict[str, int]:
    """Pages processed, pages dead-lettered and facts published since the process started."""
    return {"processed": _total(ARTICLES_OUT), "dead_lettered": _total(DEAD_LETTERS), "facts": _total(FACTS_OUT)}


def _total(counter: Counter) -> int:
    """A counter's value, summed over its labels."""
    return int(sum(s.value for s in counter.collect()[0].samples if s.name.endswith("_total")))


async def watch_event_loop(interval: float = STALL_PROBE_INTERVAL_S) -> None:
    """Sleep `interval` over and over; any overshoot is time the loop could not run anything else."""
    longest = 0.0
    while True:
        started = time.perf_counter()
        await asyncio.sleep(interval)
        stall = max(0.0, time.perf_counter() - started - interval)
        LOOP_STALL.observe(stall)
        if stall > longest:
            longest = stall
            LOOP_STALL_MAX.set(stall)
