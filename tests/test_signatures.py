"""Reprints' stream layer in-process: the signature record, the reader's fold of the topic into the worker's
index, and the page's outputs under both reprint actions."""
from __future__ import annotations

import logging
import struct

import numpy as np
import orjson
import pytest

from workers import agents, telemetry
from workers.pipeline import Memory, process_page
from workers.pipeline.records import RawPage
from workers.pipeline.reprints import ReprintIndex, fold, index_entry
from workers.settings import Settings
from workers.signatures import (RECORD_BYTES, BadSignatureRecord, Signatures, read_signature, signature_output,
                                signature_record)

from .conftest import DEV, read_jsonl

SETTINGS = Settings(_env_file=None)


@pytest.fixture(scope="module")
def finance_pages() -> list[dict]:
    return read_jsonl(DEV / "xmu-finance-news.jsonl")


@pytest.fixture(scope="module")
def original_and_copy(finance_pages):
    """A page and a copy of it under another URL, fetched a day later, each through the pipeline with one index."""
    text = finance_pages[0]["text"]
    index = ReprintIndex()
    raws = [RawPage(url="https://example.cn/a", text=text, fetched_at="2024-05-01T08:00:00Z"),
            RawPage(url="https://copy.example/a", text=text.replace("。", "。\n"), fetched_at="2024-05-02T08:00:00Z")]
    results = []
    for raw in raws:
        results.append(process_page(raw, Memory(reprints=index)))
        fold(index, index_entry(results[-1], raw.fetched_at))
    return raws, results


def with_field(record: bytes, before: str, form: str, value) -> bytes:
    """The record with the field after those of `before` (struct formats) set to `value`."""
    mangled = bytearray(record)
    struct.pack_into(form, mangled, struct.calcsize(before), value)
    return bytes(mangled)


def skipped() -> float:
    return telemetry.labelled(telemetry.REPRINT_RECORDS_SKIPPED, "bad_record")._value.get()


def test_a_record_gives_back_what_the_index_folds(original_and_copy):
    raws, (original, copy) = original_and_copy
    for raw, result in zip(raws, (original, copy)):
        entry = index_entry(result, raw.fetched_at)
        record = signature_record(entry)
        assert len(record) == RECORD_BYTES == 573
        read = read_signature(record)
        assert (read.article_id, read.original, read.url_key, read.similarity, read.seen_at) == \
               (entry.article_id, entry.original, entry.url_key, entry.similarity, entry.seen_at)
        assert np.array_equal(read.signature.minhash, entry.signature.minhash)
        assert np.array_equal(read.signature.bands, entry.signature.bands)
    assert read_signature(signature_record(index_entry(copy, raws[1].fetched_at))).original == original.article.id
    no_time = index_entry(original, None)
    assert read_signature(signature_record(no_time)).seen_at is None


def test_the_output_is_keyed_by_article_id(original_and_copy):
    raws, (original, _) = original_and_copy
    topic, key, value = signature_output(SETTINGS, index_entry(original, raws[0].fetched_at))
    assert (topic, key) == ("articles.signatures", original.article.id.encode())
    assert read_signature(value).article_id == original.article.id


@pytest.mark.parametrize("mangle, error", [
    (lambda record: None, "no value"),
    (lambda record: b"", "0 bytes"),
    (lambda record: record[:-1], "572 bytes"),
    (lambda record: b"\x01" + record[1:], "layout version 1"),
    (lambda record: with_field(record, "<B16s16sQ", "<d", 1.5), "similarity 1.5"),
    (lambda record: with_field(record, "<B16s16sQ", "<d", float("nan")), "similarity nan"),
    (lambda record: with_field(record, "<B16s16sQdd", "<I", 0), "no shingles"),
    (lambda record: orjson.dumps({"id": "x"}), "bytes, not 573"),
])
def test_a_bad_record_is_a_clear_error(original_and_copy, mangle, error):
    raws, (original, _) = original_and_copy
    with pytest.raises(BadSignatureRecord, match=error):
        read_signature(mangle(signature_record(index_entry(original, raws[0].fetched_at))))


def test_the_reader_folds_the_group_s_articles_and_marks_a_reprint_as_process_does(original_and_copy):
    raws, (original, copy) = original_and_copy
    reader = Signatures(SETTINGS)
    _, key, value = signature_output(SETTINGS, index_entry(original, raws[0].fetched_at))
    reader.apply(key.decode(), value)
    reader.apply(key.decode(), value)  # a replayed page's record: folded once
    assert len(reader.index) == 1
    seen = process_page(raws[1], Memory(reprints=reader.index))
    assert (seen.article.duplicate_of, seen.article.similarity) == (copy.article.duplicate_of, copy.article.similarity)
    assert seen.article.duplicate_of == original.article.id


def test_a_bad_record_is_logged_counted_and_skipped(original_and_copy, caplog):
    raws, (original, copy) = original_and_copy
    reader = Signatures(SETTINGS)
    before = skipped()
    with caplog.at_level(logging.WARNING, logger="workers.signatures"):
        reader.apply("k", b"not a signature")
        reader.apply("k", None)
        reader.apply(copy.article.id, signature_record(index_entry(original, raws[0].fetched_at)))  # under another key
    assert skipped() - before == 3
    assert len(reader.index) == 0
    assert "the record is article" in caplog.text and "not 573" in caplog.text


def test_without_a_topic_the_worker_keeps_no_index(original_and_copy):
    raws, (original, _) = original_and_copy
    reader = Signatures(Settings(_env_file=None, topic_reprints=""))
    reader.fold(index_entry(original, raws[0].fetched_at))
    assert reader.index is None


def test_a_page_s_outputs_carry_its_signature_and_a_dropped_reprint_only_what_it_taught(original_and_copy, monkeypatch):
    raws, (original, copy) = original_and_copy
    entry = index_entry(copy, raws[1].fetched_at)
    topics = [topic for topic, _, _ in agents.page_outputs(copy, entry)]
    assert topics[0] == SETTINGS.topic_articles and SETTINGS.topic_metrics in topics
    assert topics[-1] == SETTINGS.topic_reprints
    monkeypatch.setattr(agents, "settings", agents.settings.model_copy(update={"reprint_action": "drop"}))
    assert agents.withheld(copy) and not agents.withheld(original)
    dropped = [topic for topic, _, _ in agents.page_outputs(copy, entry)]
    assert SETTINGS.topic_articles not in dropped and SETTINGS.topic_metrics not in dropped
    assert dropped[-1] == SETTINGS.topic_reprints  # the group still learns the article
    kept = [topic for topic, _, _ in agents.page_outputs(original, index_entry(original, raws[0].fetched_at))]
    assert kept[0] == SETTINGS.topic_articles
