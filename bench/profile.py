"""Where the pipeline's time goes: pyinstrument over process_page and the worker's message building.

    .venv/bin/python bench/profile.py [--passes 5] [--html profile.html]

Runs the dev corpus `--passes` times in-process and prints pyinstrument's call tree.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from pyinstrument import Profiler

from run import corpus_lines  # bench/ is the script's own folder, first on sys.path
from workers.agents import page_outputs
from workers.pipeline import decode_page, load_dictionary, process_page
from workers.pipeline.classify import forget_lines
from workers.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5, help="times over the corpus")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML view here")
    args = parser.parse_args()
    lines, max_bytes = corpus_lines(), Settings().max_page_bytes
    load_dictionary()  # as the worker does
    process_page(decode_page(lines[0], max_bytes))  # loads the classifier's model off the clock
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(args.passes):
            forget_lines()  # every pass of pages new to the classifier, as the benchmark's offline figures
            for line in lines:
                page_outputs(process_page(decode_page(line, max_bytes)))
    print(profiler.output_text(color=False))
    if args.html:
        args.html.write_text(profiler.output_html())


if __name__ == "__main__":
    main()
