"""`site-memory`: what the site memory does to content quality, and what it costs.

    eval   the dev news file with each site's pages in file order: macro bag-of-words F1 over each
           site's pages after its first WARMUP_PAGES, with the memory learnt from the pages before
           against the same pages without it; the one-page-a-site corpora with and without memory
    bench  the memory's size and the fold's CPU time over a stream of pages
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson
from tqdm import tqdm

from ..evaluate import bag_of_words_prf, macro, read_pages
from ..pipeline import process_page
from ..pipeline.records import NO_MEMORY, PageResult, RawPage
from ..memory import Templates, page_record, template_record
from ..pipeline.assemble import BODY_LABELS
from ..pipeline.sitememory import Limits, MemoryState, SiteState, fold, memory_for, normalise
from ..settings import get_settings, site_memory_limits

# A site's first pages teach its template; quality is measured on the pages after them.
WARMUP_PAGES = 20
# What the memory must gain on the news sites, and how far the one-page-a-site corpora may move.
MIN_GAIN = 0.015
MAX_DRIFT = 0.005
NEWS = "xmu-finance-news.jsonl"
ONE_PAGE_A_SITE = ("magic-html-article.jsonl", "magic-html-forum.jsonl", "cleaneval-zh.jsonl")


def raw_page(page: dict) -> RawPage:
    return RawPage(url=page.get("url", ""), text=page["text"], site=page.get("site"))


def with_memory(raws: Iterable[RawPage], limits: Limits) -> Iterator[PageResult]:
    """Each page's result with what the pages before it taught, as the stream would give it."""
    state = MemoryState(limits=limits)
    for raw in raws:
        result = process_page(raw, memory_for(state, raw))
        state = fold(state, result.observations.line_fingerprints)
        yield result


def _scores(pages: list[dict], results: Iterable[PageResult]) -> list[tuple[float, float, float]]:
    return [bag_of_words_prf(result.article.body, page["gold"]["body"]) for page, result in zip(pages, results)]


def _ceiling(pages: list[dict], results: list[PageResult], measured: int) -> list[tuple[float, float, float]]:
    """The scores of the last `measured` pages had every body line their site repeats (on two or more of
    its pages, all of them counted, later ones too) and their gold body lacks been dropped: the most a
    memory of the site's exact lines could give these pages."""
    repeats = Counter(line for result in results for line in {normalise(s.text) for s in result.segments})
    scores = []
    for page, result in list(zip(pages, results))[-measured:]:
        gold = page["gold"]["body"]
        squeezed = "".join(gold.split())
        kept = [s.text for s in result.segments if s.label in BODY_LABELS
                and not (repeats[normalise(s.text)] >= 2 and "".join(s.text.split()) not in squeezed)]
        scores.append(bag_of_words_prf("\n".join(kept), gold))
    return scores


def _fmt(name: str, n: int, without: tuple[float, float, float], memory: tuple[float, float, float]) -> str:
    return (f"{name:<32} pages {n:>4}  without P {without[0]:.4f} R {without[1]:.4f} F1 {without[2]:.4f}"
            f"  with P {memory[0]:.4f} R {memory[1]:.4f} F1 {memory[2]:.4f}  ΔF1 {memory[2] - without[2]:+.4f}")


def evaluate(corpus: Path, limits: Limits) -> int:
    """Print the figures and whether each target is met; the number of targets missed."""
    missed = 0
    by_site: dict[str, list[dict]] = defaultdict(list)
    for page in read_pages(corpus / NEWS):
        by_site[page.get("origin", "?")].append(page)
    without_all, memory_all, ceiling_all, lowered = [], [], [], []
    for site, pages in tqdm(by_site.items(), desc="sites", file=sys.stderr, leave=False):
        every = list(with_memory((raw_page(p) for p in pages), limits))
        results, measured = every[WARMUP_PAGES:], pages[WARMUP_PAGES:]
        memory = _scores(measured, results)
        ceiling_all += _ceiling(pages, every, len(measured))
        without = _scores(measured, (process_page(raw_page(p), NO_MEMORY) for p in measured))
        print(_fmt(site, len(measured), macro(without), macro(memory)))
        if macro(memory)[2] < macro(without)[2]:
            lowered.append(site)
        without_all += without
        memory_all += memory
    gain = macro(memory_all)[2] - macro(without_all)[2]
    print(_fmt(f"news after {WARMUP_PAGES} a site", len(memory_all), macro(without_all), macro(memory_all)))
    print(f"target news ΔF1 {gain:+.4f} {'>=' if gain >= MIN_GAIN else '< '} {MIN_GAIN}")
    print(f"target no news site lower: {'met' if not lowered else 'missed: ' + ', '.join(lowered)}")
    print(f"ceiling of a memory of exact lines (every repeated line the gold lacks dropped): F1 {macro(ceiling_all)[2]:.4f},"
          f" ΔF1 {macro(ceiling_all)[2] - macro(without_all)[2]:+.4f}")
    missed += (gain < MIN_GAIN) + bool(lowered)
    for name in ONE_PAGE_A_SITE:
        if not (corpus / name).exists():
            continue
        pages = list(read_pages(corpus / name))
        memory = macro(_scores(pages, with_memory((raw_page(p) for p in pages), limits)))
        without = macro(_scores(pages, (process_page(raw_page(p), NO_MEMORY) for p in pages)))
        drift = abs(memory[2] - without[2])
        print(_fmt(name, len(pages), without, memory))
        print(f"target {name} |ΔF1| {drift:.4f} {'<=' if drift <= MAX_DRIFT else '> '} {MAX_DRIFT}")
        missed += drift > MAX_DRIFT
    return missed


def bench(corpus: Path, rounds: int, limits: Limits) -> None:
    """The memory's size after the dev news file, and the CPU time of the fold and of a template
    lookup a page, the median of `rounds` rounds with their range."""
    pages = list(read_pages(corpus / NEWS))
    raws = [raw_page(p) for p in pages]
    observations = [process_page(raw).observations.line_fingerprints for raw in raws]
    fold_ms, lookup_ms = [], []
    for _ in range(rounds):
        state, started = MemoryState(limits=limits), time.process_time()
        for seen in observations:
            state = fold(state, seen)
        fold_ms.append((time.process_time() - started) * 1000 / len(raws))
        started = time.process_time()
        for raw in raws:
            memory_for(state, raw)
        lookup_ms.append((time.process_time() - started) * 1000 / len(raws))
    sites = state.sites
    fingerprints = sum(len(s.counts) for s in sites.values())
    template = {site: len(s.template) for site, s in sites.items()}
    size = sum(len(orjson.dumps([list(map(list, s.pages))])) for s in sites.values())
    print(f"pages {len(raws)}  sites known {len(sites)}  fingerprints {fingerprints}"
          f"  template lines {sum(template.values())} ({', '.join(f'{k} {v}' for k, v in template.items())})")
    print(f"state as JSON {size / 1024:.0f} KiB ({size / max(1, len(sites)) / 1024:.0f} KiB a site)")
    for name, values in (("fold", fold_ms), ("template lookup", lookup_ms)):
        values.sort()
        print(f"{name} CPU ms a page: median {values[len(values) // 2]:.4f} (range {values[0]:.4f}-{values[-1]:.4f})")
    stream_bench(sites, rounds, limits)


def stream_bench(sites: dict[str, SiteState], rounds: int, limits: Limits) -> None:
    """The stream layer's records (workers/memory.py) of each site's last state: their size, and the CPU time
    of writing a page's (the site's owner, each page that teaches something), of reading a template (every
    worker, each time a site's template changes) and of reading a window (the owner, once a site after a
    rebalance)."""
    settings = get_settings()
    windows = {site: [page_record(settings, site, SiteState(pages=state.pages[:n], taught=state.taught - len(state.pages) + n))
                      for n in range(1, len(state.pages) + 1)] for site, state in sites.items()}
    templates = {site: template_record(settings, site, state.template) for site, state in sites.items()}
    pages = sorted(len(value) for records in windows.values() for _, _, value in records)
    sizes = sorted(len(value) for _, _, value in templates.values())
    print(f"page records: {pages[0] / 1024:.1f}-{pages[-1] / 1024:.1f} KiB, mean {sum(pages) / len(pages) / 1024:.1f} KiB;"
          f" template records {sizes[0] / 1024:.1f}-{sizes[-1] / 1024:.1f} KiB")
    reader = Templates(settings)
    for records in windows.values():
        for _, key, value in records:
            reader.apply(key.decode(), value)
    steps = {"page record written": lambda: [page_record(settings, site, state) for site, state in sites.items()],
             "template read": lambda: [reader.apply(key.decode(), value) for _, key, value in templates.values()],
             "window read": lambda: [reader.site_state(site, limits) for site in sites]}
    for name, step in steps.items():
        values = []
        for _ in range(rounds):
            started = time.process_time()
            step()
            values.append((time.process_time() - started) * 1000 / len(sites))
        values.sort()
        print(f"{name} CPU ms: median {values[len(values) // 2]:.4f} (range {values[0]:.4f}-{values[-1]:.4f})")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers site-memory", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("eval", "bench"))
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "corpus" / "dev",
                        help="the dev corpus folder")
    parser.add_argument("--rounds", type=int, default=3, help="bench rounds")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    limits = site_memory_limits(get_settings())
    if args.what == "bench":
        bench(args.corpus, args.rounds, limits)
        return 0
    missed = evaluate(args.corpus, limits)
    return 1 if args.check and missed else 0
