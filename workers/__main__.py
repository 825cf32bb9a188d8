"""python -m workers COMMAND [ARGS]

  worker    run the stream worker (faust's own worker command; creates missing topics first)
  topics    create the worker's topics if missing
  process   the offline pipeline: JSONL raw pages in, JSONL results out
  eval      content quality (bag-of-words P/R/F1) on corpus JSONL files
  site-memory eval | bench  content quality with and without site memory; its size and cost
  train-classifier  fit the content model's weights on the dev corpus, with cross-validation by page
  reprints  reprint detection on a reprint set built from the dev corpus: precision, recall, cost
  facts     facts of plain text lines from stdin, one JSON line out per line
  feed      send raw pages (JSONL or .txt files, folders) to the input topic, keyed by URL
  tail      print the worker's articles, metrics, dead letters or segments as they arrive
  demo      the main job: local broker, a worker, the reference page fed in, outputs printed
  broker    start | stop | status the local Kafka broker
"""
from __future__ import annotations

import sys
from importlib import import_module

COMMANDS = {
    "worker": "workers.commands.worker",
    "topics": "workers.commands.topics",
    "process": "workers.commands.process",
    "eval": "workers.evaluate",
    "site-memory": "workers.commands.site_memory",
    "train-classifier": "workers.commands.train_classifier",
    "reprints": "workers.commands.reprints",
    "facts": "workers.commands.facts",
    "feed": "workers.commands.feed",
    "tail": "workers.commands.tail",
    "demo": "workers.commands.demo",
    "broker": "workers.localkafka",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return import_module(COMMANDS[argv[0]]).main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
