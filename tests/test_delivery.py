"""Never lose a page: dead letters, delivery guarantees and faults, on the real broker.

Every message is checked by key: each page's article, or its dead letter, must arrive, and under
exactly_once a read_committed consumer must see each page's outputs once.
"""
from __future__ import annotations

import asyncio
import base64
import os
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from aiokafka import AIOKafkaConsumer

from workers.delivery import MAX_PAGES_IN_DELIVERY
from workers.settings import Settings, client_options

from .conftest import DEV, consume_until, free_port, metric_value, produce, read_jsonl, wait_until_ready

pytestmark = pytest.mark.kafka
FAULT_PAGES = 5000
MIXED_MESSAGES = 10_000


def real_paragraphs() -> list[str]:
    """Paragraphs of real article text from the dev corpus, to build many small pages from."""
    paragraphs = []
    for page in read_jsonl(DEV / "magic-html-article.jsonl"):
        paragraphs += [p.strip() for p in page["gold"]["body"].split("\n") if len(p.strip()) >= 40]
    return paragraphs


def small_pages(count: int, prefix: str) -> list[tuple[bytes, bytes]]:
    paragraphs = real_paragraphs()
    messages = []
    for i in range(count):
        text = "\n\n".join(paragraphs[(i + k) % len(paragraphs)] for k in range(3))
        url = f"https://load.example.cn/{prefix}/{i}"
        messages.append((url.encode(), orjson.dumps({"url": url, "text": text, "page_id": f"{prefix}-{i}"})))
    return messages


def outputs_by_key(seen: dict[str, list], settings: Settings) -> tuple[Counter, Counter]:
    articles = Counter(key for key, _ in seen[settings.topic_articles])
    dead = Counter(base64.b64decode(v["original_key_base64"]) if v["original_key_base64"] else None
                   for _, v in seen[settings.topic_deadletter])
    return articles, dead


def every_key_answered(settings: Settings, keys: set[bytes]) -> Callable[[dict], bool]:
    def done(seen: dict) -> bool:
        articles, dead = outputs_by_key(seen, settings)
        return keys <= set(articles) | set(dead)
    return done


async def committed_equals_end(settings: Settings) -> bool:
    """The worker's group has committed every offset of the raw topic: nothing is left to replay."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    consumer = AIOKafkaConsumer(**client_options(settings))
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(settings.app_id)
        partitions = [TopicPartition(settings.topic_raw, p) for p in range(settings.topic_partitions)]
        ends = await consumer.end_offsets(partitions)
        return all(committed.get(tp) is not None and committed[tp].offset == ends[tp] for tp in partitions)
    finally:
        await consumer.stop()
        await admin.close()


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.5)
    return False


BAD_MESSAGES: list[tuple[str, bytes | None]] = [
    ("not_json", b"<html>not json</html>"),
    ("not_object", b'["url", "text"]'),
    ("not_utf8", b'{"url": "u", "text": "\xff\xfe\xfa"}'),
    ("missing_text", b'{"url": "https://bad.example.cn/1"}'),
    ("empty_text", b'{"url": "https://bad.example.cn/2", "text": ""}'),
    ("bad_text", b'{"url": "https://bad.example.cn/3", "text": 42}'),
    ("bad_field", b'{"url": "https://bad.example.cn/4", "text": "\xe6\xad\xa3\xe6\x96\x87", "fetched_at": 17}'),
    ("too_large", orjson.dumps({"url": "https://bad.example.cn/5", "text": "长" * (1024 * 1024)})),  # 3 MiB
    ("too_large", b'{"url": "https://bad.example.cn/6", "text": "' + b"a" * (20 * 1024 * 1024) + b'"}'),
    # Its base64 would not fit in a message: the dead letter carries its first ~24 MB.
    ("too_large", b'{"url": "https://bad.example.cn/8", "text": "' + b"b" * (30 * 1024 * 1024) + b'"}'),
    ("null_value", None),
    ("empty_value", b""),
    ("not_utf8", bytes(range(256)) * 4),
    ("not_json", b"[" * 5000 + b"]" * 5000),
    ("pipeline_error", b'{"url": "https://bad.example.cn/7", "text": "\xe6\xad\xa3\xe6\x96\x87 FAULT-HERE"}'),
]


async def test_every_kind_of_bad_input_is_dead_lettered_and_offsets_advance(topics_for, start_worker, validators):
    settings = await topics_for(fault_marker="FAULT-HERE")
    start_worker(settings)
    messages = [(f"bad-{i}".encode(), value) for i, (_, value) in enumerate(BAD_MESSAGES)]
    good_key = b"https://good.example.cn/after-the-bad-ones"
    messages.append((good_key, orjson.dumps({"url": good_key.decode(), "text": "正文第一段，内容充实。\n\n正文第二段。"})))
    await produce(settings, messages)

    keys = {key for key, _ in messages}
    seen = await consume_until(settings, [settings.topic_articles, settings.topic_deadletter],
                               every_key_answered(settings, keys), timeout=120)
    dead = {key: value for key, value in seen[settings.topic_deadletter]}
    for i, (reason, original) in enumerate(BAD_MESSAGES):
        record = dead[f"bad-{i}".encode()]
        assert record["reason"] == reason, (i, record["detail"])
        assert not list(validators["deadletter"].iter_errors(record))
        assert record["topic"] == settings.topic_raw and record["offset"] >= 0
        carried = None if record["original_base64"] is None else base64.b64decode(record["original_base64"])
        if "original_size" in record:
            assert record["original_size"] == len(original) > len(carried) > 23 * 1024 * 1024
            assert original.startswith(carried)
        else:
            assert carried == original
    assert [key for key, _ in seen[settings.topic_articles]] == [good_key]
    assert await wait_for(lambda: committed_equals_end(settings), timeout=30)


async def test_a_backlog_under_exactly_once_is_committed_in_few_transactions(topics_for, start_worker):
    """Pages waiting behind each other share transactions, and each still comes out once. A committed
    transaction leaves a marker, an offset no consumer is given, in each partition it wrote to."""
    settings = await topics_for(processing_guarantee="exactly_once")
    messages = small_pages(1000, settings.app_id)
    await produce(settings, messages)  # all waiting when the worker starts
    port = free_port()
    start_worker(settings, web_port=str(port))
    seen = await consume_until(settings, [settings.topic_articles],
                               lambda s: len(s[settings.topic_articles]) >= len(messages),
                               timeout=300, isolation_level="read_committed")
    assert Counter(key for key, _ in seen[settings.topic_articles]) == Counter(key for key, _ in messages)
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.topic_articles, p) for p in range(settings.topic_partitions)]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    markers = sum(ends.values()) - len(messages)
    transactions = await metric_value(port, "worker_transactions_total")
    print(f"exactly_once backlog: pages {len(messages)}, transactions {transactions:.0f}, "
          f"their markers in the articles topic {markers}")
    assert 0 < markers < len(messages) / 4
    # Each page transaction wrote to 1 to 4 articles partitions; the worker's transactions also count those of
    # the site-memory observations partitions, which write to the templates topic only.
    assert markers <= transactions * settings.topic_partitions


async def test_ten_thousand_mixed_messages_all_accounted_for(topics_for, start_worker):
    settings = await topics_for()
    start_worker(settings)
    good = small_pages(MIXED_MESSAGES, "mixed")
    messages = [(key, BAD_MESSAGES[i % 7][1] if i % 4 == 0 else value) for i, (key, value) in enumerate(good)]
    await produce(settings, messages)

    keys = {key for key, _ in messages}
    seen = await consume_until(settings, [settings.topic_articles, settings.topic_deadletter],
                               every_key_answered(settings, keys), timeout=600)
    articles, dead = outputs_by_key(seen, settings)
    print(f"mixed: messages sent {MIXED_MESSAGES}, articles {sum(articles.values())}, dead letters {sum(dead.values())}")
    assert sum(articles.values()) + sum(dead.values()) == MIXED_MESSAGES
    assert set(articles) | set(dead) == keys and not set(articles) & set(dead)
    assert len(dead) == MIXED_MESSAGES // 4


async def run_with_fault(settings: Settings, start_worker, fault: Callable[[], Awaitable[None]],
                         fault_after: int, pages_per_s: float | None = None) -> dict[str, list]:
    """Produce FAULT_PAGES pages (all at once, or at `pages_per_s`), cause `fault` once `fault_after` articles
    are out, then read everything."""
    isolation = "read_committed" if settings.processing_guarantee == "exactly_once" else "read_uncommitted"
    start_worker(settings)
    messages = small_pages(FAULT_PAGES, settings.app_id)
    producing = asyncio.create_task(produce(settings, messages, pages_per_s=pages_per_s))
    await consume_until(settings, [settings.topic_articles], lambda s: len(s[settings.topic_articles]) >= fault_after,
                        timeout=300, isolation_level=isolation)
    await fault()
    await producing
    keys = {key for key, _ in messages}
    return await consume_until(settings, [settings.topic_articles, settings.topic_metrics, settings.topic_deadletter],
                               every_key_answered(settings, keys), timeout=600, isolation_level=isolation)


def assert_each_page_once(seen: dict[str, list], settings: Settings, exactly_once: bool) -> None:
    articles, dead = outputs_by_key(seen, settings)
    print(f"{settings.processing_guarantee}: pages sent {FAULT_PAGES}, articles seen {sum(articles.values())}, "
          f"distinct {len(articles)}, duplicates {sum(articles.values()) - len(articles)}, dead letters {len(dead)}")
    assert not dead
    assert len(articles) == FAULT_PAGES
    if exactly_once:
        assert max(articles.values()) == 1, articles.most_common(3)
        metric_ids = Counter(value["id"] for _, value in seen[settings.topic_metrics])
        assert not metric_ids or max(metric_ids.values()) == 1


GUARANTEES = ["at_least_once", "exactly_once"]


@pytest.mark.slow
@pytest.mark.parametrize("guarantee", GUARANTEES)
async def test_worker_killed_mid_stream(topics_for, start_worker, guarantee):
    settings = await topics_for(processing_guarantee=guarantee)
    processes = []

    def start(s):
        processes.append(start_worker(s))
        return processes[-1]

    killed_at = []

    async def kill_and_replace():
        os.kill(processes[0].pid, signal.SIGKILL)
        killed_at.append(datetime.now(UTC))
        processes[0].wait()
        start(settings)

    seen = await run_with_fault(settings, start, kill_and_replace, fault_after=FAULT_PAGES // 5)
    assert_each_page_once(seen, settings, guarantee == "exactly_once")
    articles, _ = outputs_by_key(seen, settings)
    replayed = sum(articles.values()) - len(articles)
    print(f"{guarantee}, worker killed: the next worker's first article {recovery_gap(seen, settings, killed_at[0]):.1f} s "
          f"after the kill (SESSION_TIMEOUT_S {settings.session_timeout_s:g}), pages replayed {replayed}")
    if guarantee == "at_least_once":  # what was delivered since the last commit, and what was on its way
        assert replayed <= 2 * settings.commit_every_pages + 2 * MAX_PAGES_IN_DELIVERY


def recovery_gap(seen: dict[str, list], settings: Settings, killed_at: datetime) -> float:
    """Seconds from a kill to the first article processed after it (by the worker that took over)."""
    processed = [datetime.fromisoformat(value["processed_at"]) for _, value in seen[settings.topic_articles]]
    return (min(at for at in processed if at > killed_at) - killed_at).total_seconds()


@pytest.mark.slow
@pytest.mark.parametrize("guarantee", GUARANTEES)
async def test_broker_restarted_mid_stream(topics_for, start_worker, local_broker, guarantee):
    if local_broker is None:
        pytest.skip("restarts only the broker this test session started")
    settings = await topics_for(processing_guarantee=guarantee)

    async def restart_broker():
        await asyncio.to_thread(local_broker.stop)
        await asyncio.sleep(3)
        await asyncio.to_thread(local_broker.start)

    seen = await run_with_fault(settings, start_worker, restart_broker, fault_after=FAULT_PAGES // 5)
    assert_each_page_once(seen, settings, guarantee == "exactly_once")


@pytest.mark.slow
@pytest.mark.parametrize("guarantee", GUARANTEES)
async def test_scale_one_to_two_and_back(topics_for, start_worker, guarantee):
    """A second worker joins while pages flow, takes some of them and leaves while they still flow: two
    rebalances with pages in flight on both sides."""
    settings = await topics_for(processing_guarantee=guarantee)
    processes = []

    def start(s, **env):
        processes.append(start_worker(s, **env))
        return processes[-1]

    async def add_then_remove_a_worker():
        port = free_port()
        second = start(settings, web_port=str(port))
        await wait_until_ready(port)

        async def second_published() -> bool:
            return await metric_value(port, "worker_articles_out_total") > 0
        assert await wait_for(second_published, timeout=120), "the second worker took no pages"
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 60)

    # Paced, so that the pages still flow when the second worker has joined, and when it leaves.
    seen = await run_with_fault(settings, start, add_then_remove_a_worker, fault_after=FAULT_PAGES // 5,
                                pages_per_s=FAULT_PAGES / 15)
    assert processes[1].returncode == 0
    assert_each_page_once(seen, settings, guarantee == "exactly_once")
