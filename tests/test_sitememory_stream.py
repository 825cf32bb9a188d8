"""Site memory on the real broker: two workers share one site's template, learnt from the first half of its
pages and used on the second; after kill -9 of the worker that learns the site and a new worker joining, the
site's window goes on from where it was and the next pages are cleaned with the template from their first."""
from __future__ import annotations

import asyncio
import json
import signal

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from workers.pipeline.sitememory import REASON, fingerprint
from workers.memory import SLOT_SEPARATOR, read_page, read_template
from workers.transport import key_partitioner

from .conftest import DEV, consume_until, free_port, produce, wait_until_ready, web_get
from .test_lifecycle import read_to_end

pytestmark = pytest.mark.kafka

SITE = "finance.people.com.cn"
# A line the site puts inside every article, which the classifier takes for a paragraph of it: only the
# site's memory can tell it is the site's, not the article's.
PROMO = "本站推荐：阅读更多财经报道请关注我们的频道，每日更新重要新闻。"
FIRST, SECOND, THIRD = 30, 30, 20


def site_pages() -> list[tuple[bytes, bytes]]:
    """The site's dev pages, each its article (title and paragraphs) with the site's line after its
    second paragraph, keyed by URL."""
    pages = [json.loads(line) for line in (DEV / "xmu-finance-news.jsonl").read_text(encoding="utf-8").splitlines()]
    messages = []
    for page in [p for p in pages if p["site"] == SITE][:FIRST + SECOND + THIRD]:
        paragraphs = page["gold"]["body"].split("\n")
        text = "\n\n".join(paragraphs[:2] + [PROMO] + paragraphs[2:])
        messages.append((page["url"].encode(), orjson.dumps({"url": page["url"], "text": text, "site": SITE})))
    return messages


async def metrics(port: int) -> dict[tuple[str, tuple], float]:
    _, exposition = await web_get(port, "/metrics")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(exposition) for s in family.samples}


async def gauge(port: int, name: str) -> float:
    return (await metrics(port)).get((name, ()), 0.0)


async def template_drops(port: int) -> float:
    return (await metrics(port)).get(("worker_segments_dropped_total", (("reason", REASON),)), 0.0)


async def template_hits(port: int) -> dict[str, float]:
    """Segments the worker found in their site's template, by the label the classifier first gave them."""
    return {dict(labels)["label"]: value for (name, labels), value in (await metrics(port)).items()
            if name == "worker_site_memory_hits_total"}


async def wait_for(condition, timeout: float = 90.0) -> None:
    async def poll() -> None:
        while not await condition():
            await asyncio.sleep(0.5)

    await asyncio.wait_for(poll(), timeout)


def site_records(records) -> tuple[list[frozenset[str]], list[int]]:
    """The site's templates in order, and the sequence numbers of its pages (their records lie in several
    partitions, one a slot, so in no particular order)."""
    templates = [read_template(r.value) for r in records if r.key == SITE.encode()]
    slots = SITE.encode() + SLOT_SEPARATOR.encode()
    pages = [read_page(r.value)[0] for r in records if r.key.startswith(slots)]
    return templates, pages


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
async def test_template_is_shared_by_the_group_and_survives_a_kill(topics_for, start_worker, guarantee):
    settings = await topics_for(processing_guarantee=guarantee)
    isolation = "read_committed" if guarantee == "exactly_once" else "read_uncommitted"
    messages = site_pages()
    first, second, third = messages[:FIRST], messages[FIRST:FIRST + SECOND], messages[FIRST + SECOND:]
    partitions = list(range(settings.topic_partitions))
    assert {key_partitioner(key, partitions, partitions) for key, _ in first} == set(partitions)
    assert {key_partitioner(key, partitions, partitions) for key, _ in second} == set(partitions)

    ports = [free_port(), free_port()]
    workers = [start_worker(settings, web_port=str(port)) for port in ports]
    for port in ports:
        await wait_until_ready(port)

    async def articles(batch) -> dict[bytes, dict]:
        keys = {key for key, _ in batch}
        seen = await consume_until(settings, [settings.topic_articles],
                                   lambda s: keys <= {k for k, _ in s[settings.topic_articles]},
                                   timeout=180, isolation_level=isolation)
        return {k: v for k, v in seen[settings.topic_articles] if k in keys}

    # First half: the template is learnt from the site's pages, whichever worker cleaned them.
    await produce(settings, first)
    learnt = await articles(first)
    templates, _ = await settled_records(settings, isolation, FIRST)
    template = set(templates[-1])
    assert fingerprint(PROMO) in template
    for port in ports:  # both workers hold it, the one that learns the site and the other
        await wait_for(lambda port=port: gauge_is(port, "worker_site_memory_template_lines", len(template)))
    drops_before = [await template_drops(port) for port in ports]

    # Second half: cleaned by both workers with the template learnt from the first.
    await produce(settings, second)
    cleaned = await articles(second)
    drops_after = [await template_drops(port) for port in ports]
    assert any(PROMO in a["body"] for a in learnt.values())  # kept until the template was learnt
    assert not [k for k, a in cleaned.items() if PROMO in a["body"]]
    assert all(after > before for before, after in zip(drops_before, drops_after))
    for port in ports:  # the site's line was taken for a paragraph by the classifier, and found in the template
        assert (await template_hits(port)).get("paragraph", 0) > 0

    # kill -9 the worker that learns the site; a new worker joins.
    learners = [await gauge(port, "worker_site_memory_sites_learnt") for port in ports]
    assert sorted(learners) == [0, 1]
    owner = learners.index(1)
    _, before_kill = await settled_records(settings, isolation, FIRST + SECOND)
    assert sorted(before_kill) == list(range(FIRST + SECOND))
    workers[owner].send_signal(signal.SIGKILL)
    await asyncio.to_thread(workers[owner].wait, 30)
    new_port = free_port()
    start_worker(settings, web_port=str(new_port))
    await wait_until_ready(new_port)
    await wait_for(lambda: gauge_is(new_port, "worker_site_memory_template_lines", len(template)))

    # Third batch: cleaned with the template from its first page; the window went on from where it was.
    await produce(settings, third)
    after_kill = await articles(third)
    _, pages = await settled_records(settings, isolation, FIRST + SECOND + THIRD)
    later = sorted(set(pages) - set(before_kill))
    print(f"\n{guarantee}: template of {len(template)} lines after {FIRST} pages; the site's line kept in "
          f"{sum(PROMO in a['body'] for a in learnt.values())}/{FIRST} articles of the first half, "
          f"{sum(PROMO in a['body'] for a in cleaned.values())}/{SECOND} of the second, "
          f"{sum(PROMO in a['body'] for a in after_kill.values())}/{THIRD} after kill -9; "
          f"{REASON} drops per worker in the second half {[a - b for a, b in zip(drops_after, drops_before)]}; "
          f"pages numbered {min(later)}-{max(later)} after the kill")
    assert not [k for k, a in after_kill.items() if PROMO in a["body"]]
    # Every page numbered once, on from the pages before the kill (relearnt from zero, they would be again 0, 1, ...).
    assert sorted(pages) == list(range(FIRST + SECOND + THIRD))


async def gauge_is(port: int, name: str, value: float) -> bool:
    return await gauge(port, name) == value


async def settled_records(settings, isolation: str, pages: int, timeout: float = 90.0) -> tuple[list, list[int]]:
    """The site's records on the templates topic once `pages` distinct pages are folded: each gives one."""
    async def records() -> tuple[list, list[int]]:
        while len((found := site_records(await read_to_end(settings, settings.topic_templates, isolation)))[1]) < pages:
            await asyncio.sleep(0.5)
        return found

    return await asyncio.wait_for(records(), timeout)
