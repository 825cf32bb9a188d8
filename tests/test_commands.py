"""The offline commands: `process` (the worker's pipeline without Kafka) and `facts` (plain text lines)."""
from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

from .conftest import ROOT


def run(args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workers", *args], input=stdin, capture_output=True,
                          cwd=ROOT, timeout=300, check=True)


def test_process_gives_one_line_per_input_line_and_never_stops(tmp_path, seed_text, dev_pages, validators):
    pages = tmp_path / "pages.jsonl"
    lines = [
        json.dumps({"url": "https://example.cn/seed", "id": "seed", "text": seed_text}, ensure_ascii=False),
        "{this is not json",
        json.dumps({"url": "https://example.cn/empty", "id": "empty", "text": "  "}),
        json.dumps([1, 2, 3]),
        *(json.dumps({"url": p["url"], "id": p["id"], "text": p["text"]}, ensure_ascii=False) for p in dev_pages[:5]),
    ]
    pages.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = tmp_path / "results.jsonl"

    done = run(["process", "--input", str(pages), "--output", str(results)])

    out = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    assert len(out) == len(lines)
    assert [o["id"] for o in out] == ["seed", None, "empty", None, *(p["id"] for p in dev_pages[:5])]
    assert [o.get("error", {}).get("reason") for o in out[:4]] == [None, "not_json", "empty_text", "not_object"]
    seed = out[0]
    assert not list(validators["article"].iter_errors(seed["article"]))
    for record in seed["metrics"]:
        assert not list(validators["metric"].iter_errors(record))
    for segment in seed["segments"]:
        assert not list(validators["segment"].iter_errors(segment))
    assert seed["article"]["source"] == "吉林日报"
    assert {s["label"] for s in seed["segments"]} >= {"title", "heading", "paragraph", "source", "recommendation"}
    # stderr is a pipe here, as in CI logs: the progress bar is off, and the summary still counts every line
    assert f"{len(lines)} pages, 3 rejected" in done.stderr.decode()


def test_facts_reads_lines_and_writes_one_json_line_each(validators):
    lines = [
        "1至8月，长春汽开区规上工业产值实现2940.8亿元，同比增长14.3%。",
        "",
        "10月的北国长春，多姿多彩。",
        "\ufffd\x00 绿地面积62万平方米",
    ]
    done = run(["facts", "--year", "2020"], "\n".join(lines).encode() + b"\n")
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [o["text"] for o in out] == lines
    first = out[0]["metrics"][0]
    assert (Decimal(first["value"]), first["unit"], first["period"]["start"], first["change"]["value"]) == (
        Decimal("294080000000"), "CNY", "2020-01", "14.3")
    assert out[1]["metrics"] == [] and out[2]["metrics"] == []
    assert [(m["value"], m["unit"]) for m in out[3]["metrics"]] == [("620000", "m2")]
    schema = validators["metric"].schema
    page_fields = {"article_id", "page_id", "url"}
    for record in (m for o in out for m in o["metrics"]):
        assert set(record) - page_fields <= set(schema["properties"])
        assert set(schema["required"]) - page_fields <= set(record)
