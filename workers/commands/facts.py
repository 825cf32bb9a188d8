"""`facts`: plain text lines on stdin, each treated as article body text; one JSON line out per line.

    python -m workers facts [--year 2020]               facts of each stdin line
    python -m workers facts --suite tests/data/quantity_suite.jsonl
                                                        recall per category of a labelled sentence suite
    python -m workers facts --sample tests/data/fact_sample.jsonl
                                                        precision and recall on labelled paragraphs

A suite line: {"category", "sentence", "source", "expected": [{"surface", "value", "unit", "qualifier"}],
"not": [surfaces that must not be facts], "no_facts": true when the sentence has none}. An expected
quantity is found when a fact has its surface, value, unit and qualifier, or when a fact carries it as
its change (同比增长14.3% attached to the figure it qualifies). A sample line: {"text", "source",
"facts": [...]}, every fact of the text labelled; precision counts every fact the extractor reports.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import orjson

from ..messages import metric_record
from ..pipeline import stable_id
from ..pipeline.facts import extract_facts
from ..pipeline.records import Fact


def facts_line(text: str, reference_year: int | None) -> dict:
    try:
        found = extract_facts(text, reference_year)
    except Exception as exc:  # report the line and go on
        return {"text": text, "metrics": [], "error": f"{type(exc).__name__}: {exc}"}
    line_id = stable_id(text)
    return {"text": text, "metrics": [metric_record(fact, line_id, None) for fact in found]}


def found(want: dict, facts: list[Fact]) -> bool:
    """A labelled quantity among the facts of its sentence, as a fact or as a fact's change."""
    value, unit = Decimal(want["value"]), want["unit"]
    return any(
        (f.surface == want["surface"] and f.value == value and f.unit == unit and f.qualifier == want["qualifier"])
        or (f.change is not None and f.change.value == value and f.change.unit == unit)
        for f in facts
    )


def suite_failures(case: dict) -> list[str]:
    """What one suite sentence gets wrong: missing quantities, and figures taken that are not facts."""
    facts = extract_facts(case["sentence"])
    surfaces = {f.surface for f in facts}
    problems = [f"missing {w['surface']}" for w in case["expected"] if not found(w, facts)]
    problems += [f"not a fact: {s}" for s in case.get("not", []) if s in surfaces]
    if case.get("no_facts") and facts:
        problems += [f"not a fact: {f.surface}" for f in facts]
    return problems


def run_suite(path: Path) -> int:
    cases = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    hits, totals, failing = Counter(), Counter(), []
    for case in cases:
        problems = suite_failures(case)
        category = case["category"]
        wanted = len(case["expected"]) if case["expected"] else 1  # a negative counts once
        totals[category] += wanted
        hits[category] += wanted - min(wanted, len(problems))
        if problems:
            failing.append((case["sentence"], problems))
    print(f"{'category':<20} {'found':>6} {'of':>6} {'recall':>7}")
    for category in sorted(totals):
        print(f"{category:<20} {hits[category]:>6} {totals[category]:>6} {hits[category] / totals[category]:>7.3f}")
    print(f"{'all':<20} {sum(hits.values()):>6} {sum(totals.values()):>6} "
          f"{sum(hits.values()) / sum(totals.values()):>7.3f}   sentences: {len(cases)} "
          f"({sum(1 for c in cases if c['expected'])} with quantities, {sum(1 for c in cases if not c['expected'])} negative)")
    for sentence, problems in failing:
        print(f"FAIL {sentence[:60]}: {'; '.join(problems)}")
    return 1 if failing else 0


def sample_scores(records: list[dict]) -> tuple[int, int, int]:
    """(facts labelled, facts reported, facts reported that match a label) over labelled paragraphs."""
    labelled = reported = correct = 0
    for record in records:
        facts = extract_facts(record["text"], record.get("reference_year"))
        unused = list(record["facts"])
        labelled += len(unused)
        reported += len(facts)
        for fact in facts:
            match = next((w for w in unused if found(w, [fact])), None)
            if match is not None:
                unused.remove(match)
                correct += 1
    return labelled, reported, correct


def run_sample(path: Path) -> int:
    records = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    labelled, reported, correct = sample_scores(records)
    precision = correct / reported if reported else 0.0
    recall = correct / labelled if labelled else 0.0
    pages = len({r["source"]["page"] for r in records})
    print(f"paragraphs {len(records)} from {pages} pages; facts labelled {labelled}, reported {reported}, "
          f"correct {correct}")
    print(f"precision {precision:.3f}  recall {recall:.3f}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers facts", description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=None, help="reference year for periods such as 1至8月")
    parser.add_argument("--suite", type=Path, help="print recall per category of a labelled sentence suite")
    parser.add_argument("--sample", type=Path, help="print precision and recall on labelled paragraphs")
    args = parser.parse_args(argv)
    if args.suite:
        return run_suite(args.suite)
    if args.sample:
        return run_sample(args.sample)
    out = sys.stdout.buffer
    for raw_line in sys.stdin.buffer:
        text = raw_line.decode("utf-8", errors="replace").rstrip("\r\n")
        out.write(orjson.dumps(facts_line(text, args.year)) + b"\n")
        out.flush()
    return 0
