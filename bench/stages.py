"""Each stage's share of the pipeline's time over the dev corpus: the sum of `PageResult.timings`.

    .venv/bin/python bench/stages.py [--rounds 3] [--passes 1]

A round runs every dev page through `process_page` `--passes` times and adds up the seconds each stage
took (the laps `process_page` records); a stage's share is its seconds over the sum of all stages.
Prints every round, then each share as the median of the rounds with their range.
"""
from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

from run import corpus_lines  # bench/ is the script's own folder, first on sys.path
from workers.pipeline import decode_page, load_dictionary, process_page
from workers.pipeline.classify import forget_lines
from workers.settings import Settings


def stage_seconds(pages: list, passes: int) -> dict[str, float]:
    spent: dict[str, float] = defaultdict(float)
    for _ in range(passes):
        forget_lines()  # every pass of pages new to the classifier, as measure_offline's
        for page in pages:
            for stage, seconds in process_page(page).timings.items():
                spent[stage] += seconds
    return dict(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each share is their median")
    parser.add_argument("--passes", type=int, default=1, help="times over the corpus in a round")
    args = parser.parse_args()
    max_bytes = Settings().max_page_bytes
    pages = [decode_page(line, max_bytes) for line in corpus_lines()]
    load_dictionary()  # as the worker does
    process_page(pages[0])  # loads the classifier's model off the clock
    shares: dict[str, list[float]] = defaultdict(list)
    for number in range(1, args.rounds + 1):
        spent = stage_seconds(pages, args.passes)
        total = sum(spent.values())
        for stage, seconds in spent.items():
            shares[stage].append(seconds / total)
        print(f"round {number}: {total:.2f} s; " + ", ".join(f"{s} {v / total:.2%}" for s, v in spent.items()))
    print(f"{'stage':<10} {'median':>8} {'range':>16}   ({len(pages)} pages, {args.rounds} rounds of {args.passes} pass(es))")
    for stage, values in shares.items():
        print(f"{stage:<10} {statistics.median(values):>8.2%} {min(values):>7.2%}–{max(values):.2%}")


if __name__ == "__main__":
    main()
