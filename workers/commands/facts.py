"""`facts`: plain text lines on stdin, each treated as article body text; one JSON line out per line."""
from __future__ import annotations

import argparse
import sys

import orjson

from ..messages import metric_record
from ..pipeline import stable_id
from ..pipeline.facts import extract_facts


def facts_line(text: str, reference_year: int | None) -> dict:
    try:
        found = extract_facts(text, reference_year)
    except Exception as exc:  # report the line and go on
        return {"text": text, "metrics": [], "error": f"{type(exc).__name__}: {exc}"}
    line_id = stable_id(text)
    return {"text": text, "metrics": [metric_record(fact, line_id, None) for fact in found]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers facts", description=__doc__)
    parser.add_argument("--year", type=int, default=None, help="reference year for periods such as 1至8月")
    args = parser.parse_args(argv)
    out = sys.stdout.buffer
    for raw_line in sys.stdin.buffer:
        text = raw_line.decode("utf-8", errors="replace").rstrip("\r\n")
        out.write(orjson.dumps(facts_line(text, args.year)) + b"\n")
        out.flush()
    return 0
