"""Reprints on the real broker: two workers publish a set of articles; both are killed with kill -9 and two new
workers take their place; reprints of the articles sent after that (each body in another site's chrome, under
a URL of its own) are marked duplicate_of the earlier article, on the article and on its facts, exactly as
`process` marks them over the same pages in the same order."""
from __future__ import annotations

import asyncio
import signal

import orjson
import pytest

from workers.commands.reprints import chrome_around_body, site_of
from workers.pipeline import Memory, process_page
from workers.pipeline.records import RawPage
from workers.pipeline.reprints import ReprintIndex, fold, index_entry
from workers.transport import key_partitioner

from .conftest import DEV, consume_until, free_port, produce, read_jsonl, wait_until_ready
from .test_lifecycle import read_to_end
from .test_sitememory_stream import metrics, wait_for

pytestmark = pytest.mark.kafka

ORIGINALS = 20
FETCHED_AT = "2024-05-01T08:00:00Z"


def story_pages() -> tuple[list[RawPage], list[RawPage]]:
    """Originals, one a site (too few pages for a site template, so that the stream cleans each page as
    `process` does without site memory), and a reprint of each: its gold body inside the chrome of a page of
    another site, on a site of its own."""
    originals = {}
    for page in read_jsonl(DEV / "magic-html-article.jsonl"):
        originals.setdefault(site_of(page), page)
    originals = list(originals.values())[:ORIGINALS]
    lenders = [page for page in read_jsonl(DEV / "xmu-finance-news.jsonl")[::25] if chrome_around_body(page)]
    raws, reprints = [], []
    for n, (page, lender) in enumerate(zip(originals, lenders)):
        before, after = chrome_around_body(lender)
        raws.append(RawPage(url=page["url"], text=page["text"], fetched_at=FETCHED_AT))
        reprints.append(RawPage(url=f"https://copy{n}.example/story.html",
                                text="\n".join([*before, page["gold"]["body"], *after]), fetched_at=FETCHED_AT))
    return raws, reprints


def offline_marks(pages: list[RawPage]) -> tuple[dict[str, tuple], int]:
    """Each page's (article id, duplicate_of, similarity) from the pipeline over the pages in order with one
    index, as `process` keeps it; and how many articles the index holds."""
    index, marks = ReprintIndex(), {}
    for raw in pages:
        result = process_page(raw, Memory(reprints=index))
        fold(index, index_entry(result, raw.fetched_at))
        marks[raw.url] = (result.article.id, result.article.duplicate_of, result.article.similarity)
    return marks, len(index)


def messages(pages: list[RawPage]) -> list[tuple[bytes, bytes]]:
    return [(raw.url.encode(), orjson.dumps({"url": raw.url, "text": raw.text, "fetched_at": raw.fetched_at}))
            for raw in pages]


async def index_size(port: int) -> float:
    return (await metrics(port)).get(("worker_reprint_index_articles", ()), 0.0)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
async def test_reprints_sent_after_every_worker_restarted_are_marked_as_process_marks_them(topics_for, start_worker,
                                                                                            guarantee):
    settings = await topics_for(processing_guarantee=guarantee)
    isolation = "read_committed" if guarantee == "exactly_once" else "read_uncommitted"
    originals, reprints = story_pages()
    expected = offline_marks(originals + reprints)[0]
    signed_originals = offline_marks(originals)[1]
    marked = [raw.url for raw in reprints if expected[raw.url][1] is not None]
    assert len(marked) >= 0.8 * len(reprints)  # the set is one of reprints, by the offline index
    partitions = list(range(settings.topic_partitions))
    assert {key_partitioner(key, partitions, partitions) for key, _ in messages(reprints)} == set(partitions)

    async def published(pages: list[RawPage]) -> dict[str, list]:
        """Each page's article and facts, as (key, value) pairs by topic."""
        keys = {raw.url.encode() for raw in pages}
        seen = await consume_until(settings, [settings.topic_articles, settings.topic_metrics],
                                   lambda s: keys <= {k for k, _ in s[settings.topic_articles]},
                                   timeout=120, isolation_level=isolation)
        return {topic: [(k, v) for k, v in pairs if k in keys] for topic, pairs in seen.items()}

    ports = [free_port(), free_port()]
    workers = [start_worker(settings, web_port=str(port)) for port in ports]
    for port in ports:
        await wait_until_ready(port)
    await produce(settings, messages(originals))
    first = await published(originals)
    for port in ports:  # each worker holds every article, its own and the other's
        await wait_for(lambda port=port: index_size_is(port, signed_originals))

    for worker in workers:
        worker.send_signal(signal.SIGKILL)
        await asyncio.to_thread(worker.wait, 30)
    ports = [free_port(), free_port()]
    for port in ports:
        start_worker(settings, web_port=str(port))
    for port in ports:
        await wait_until_ready(port)
    for port in ports:  # read back from the topic: nothing of the first two workers' own is left
        await wait_for(lambda port=port: index_size_is(port, signed_originals))

    await produce(settings, messages(reprints))
    second = await published(reprints)
    articles = {k.decode(): v for k, v in first[settings.topic_articles] + second[settings.topic_articles]}
    got = {url: (a["id"], a["duplicate_of"], a["similarity"]) for url, a in articles.items()}
    print(f"\n{guarantee}: {sum(got[raw.url][1] is not None for raw in reprints)}/{len(reprints)} reprints marked "
          f"after both workers were killed ({len(marked)} by the offline index); similarities "
          f"{sorted(got[url][2] for url in marked)}")
    assert got == expected
    facts = [(k.decode(), v) for k, v in second[settings.topic_metrics]]
    assert {url for url, _ in facts} & set(marked)  # some reprints have facts, and they carry the mark
    assert all((fact["duplicate_of"], fact["similarity"]) == expected[url][1:] for url, fact in facts)
    counted = [(await metrics(port)).get(("worker_reprints_total", (("action", "mark"),)), 0.0) for port in ports]
    assert sum(counted) == len(marked) and all(counted)  # each new worker marked some


async def index_size_is(port: int, size: int) -> bool:
    return await index_size(port) == size


async def test_a_worker_told_to_drop_reprints_publishes_neither_their_articles_nor_their_facts(topics_for,
                                                                                              start_worker):
    settings = await topics_for()
    originals, reprints = story_pages()
    expected = offline_marks(originals + reprints)[0]
    marked = {raw.url for raw in reprints if expected[raw.url][1] is not None}
    port = free_port()
    start_worker(settings, web_port=str(port), reprint_action="drop")
    await wait_until_ready(port)
    await produce(settings, messages(originals))
    await wait_for(lambda: index_size_is(port, len(originals)))
    await produce(settings, messages(reprints))
    await wait_for(lambda: index_size_is(port, len(originals) + len(reprints)))  # every reprint processed
    dropped = (await metrics(port)).get(("worker_reprints_total", (("action", "drop"),)), 0.0)
    # Each page's signature goes out after its article and facts, in the same delivery: once every signature is
    # there, so is everything the worker published.
    async def signed() -> bool:
        return len(await read_to_end(settings, settings.topic_reprints, "read_uncommitted")) >= len(originals + reprints)

    await wait_for(signed)
    articles, facts = [[r.key.decode() for r in await read_to_end(settings, topic, "read_uncommitted")]
                       for topic in (settings.topic_articles, settings.topic_metrics)]
    assert dropped == len(marked)
    assert sorted(articles) == sorted(raw.url for raw in originals + reprints if raw.url not in marked)
    assert facts and not set(facts) & marked
