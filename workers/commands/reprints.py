"""`reprints`: how well the reprint index marks reprints, and what it costs.

From the dev corpus it builds reprints: each article's gold body set inside the chrome of a page of
another site (that page's lines outside its own gold body), under a URL of its own, once in each of
the three renderings (as the corpus has it, one text node a line, hard-wrapped). It mixes them into
the corpus, each after its original at a seeded random place, runs the pipeline over the stream in
order with the reprint index folded as it goes (as `process` and the worker do), and prints:

- precision and recall on the pairs: a mark is right when it names an article of the same story
  (stories: the corpus pages whose gold bodies are near-identical, and the reprints made of them);
- the false-positive rate on distinct articles of one site: of all pairs of different stories from
  one site, the share whose bodies' signatures the index takes for one story (the finance news
  file, whose sites have about a hundred articles each, and all files);
- the CPU time the reprint stage (signature, lookup, fold) takes against the pipeline's, a page,
  median of the rounds and their range;
- the index's memory at WINDOW_ARTICLES articles, per 100,000 articles, and its lookup and fold time
  when full (`--memory`).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from tqdm import tqdm

from ..evaluate import read_pages
from ..pipeline import Memory, load_dictionary, process_page
from ..pipeline.records import PageResult, RawPage, Signature
from ..pipeline.reprints import (
    NUM_PERM,
    SHINGLE_CHARS,
    SIMILARITY_THRESHOLD,
    WINDOW_ARTICLES,
    IndexEntry,
    ReprintIndex,
    alike as one_story,
    band_keys,
    body_signature,
    fold,
    index_entry,
)
from .. import renderings

RENDERINGS = {"as_is": lambda text: text, **renderings.RENDERINGS}
TARGETS = (  # (figure, bound, True when the figure must be at least the bound)
    ("precision", 0.99, True),
    ("recall", 0.95, True),
    ("false-positive rate, finance news", 0.001, False),
    ("reprint stage / pipeline CPU", 0.05, False),
)
SEED = 22
CHROME_COVERAGE = 0.95  # a page lends its chrome when lines wholly of its gold body cover this much of it
SAME_STORY_JACCARD = 0.8  # corpus pages whose gold bodies share this much of their shingles are one story
DEV_FILES = ("magic-html-article.jsonl", "magic-html-forum.jsonl", "xmu-finance-news.jsonl", "cleaneval-zh.jsonl")
FINANCE_FILE = "xmu-finance-news.jsonl"


@dataclass(frozen=True, slots=True)
class StreamPage:
    raw: RawPage
    story: int  # corpus pages of one story, and the reprints made of them, share it
    site: str
    rendering: str | None  # None for a corpus page; the rendering of a reprint
    source_file: str


def site_of(page: dict) -> str:
    return page.get("site") or urlsplit(page.get("url", "")).netloc or page.get("origin", "")


def chrome_around_body(page: dict) -> tuple[list[str], list[str]] | None:
    """A page's lines outside its gold body: those before its first body line, and those after it. A
    line is of the body when its text, whitespace aside, is part of the gold body. None for a page whose
    body lines do not cover its gold body (CHROME_COVERAGE): what is left of its own body would make a
    second article in the reprint."""
    gold = "".join(page["gold"]["body"].split())
    lines = page["text"].splitlines()
    in_body = [bool(text) and text in gold for text in ("".join(line.split()) for line in lines)]
    covered = sum(len("".join(line.split())) for line, body in zip(lines, in_body) if body)
    if not gold or covered < CHROME_COVERAGE * len(gold):
        return None
    first = in_body.index(True)
    return ([line for line, body in zip(lines[:first], in_body) if not body],
            [line for line, body in zip(lines[first:], in_body[first:]) if not body])


def shingle_set(text: str) -> set[str]:
    text = "".join(text.split())
    return {text[i:i + SHINGLE_CHARS] for i in range(len(text) - SHINGLE_CHARS + 1)}


def corpus_stories(pages: list[dict]) -> list[int]:
    """Each corpus page's story: pages whose gold bodies reach SAME_STORY_JACCARD (exact, on the shingle
    sets; the MinHash estimate only picks the pairs worth computing) are one story."""
    story = list(range(len(pages)))

    def root(i: int) -> int:
        while story[i] != i:
            i = story[i]
        return i

    signed = [(i, sig) for i, page in enumerate(pages) if (sig := body_signature(page["gold"]["body"]))]
    matrix = np.stack([sig.minhash for _, sig in signed])
    for row, (i, sig) in enumerate(signed):
        alike = np.count_nonzero(matrix[row + 1:] == sig.minhash, axis=1) / NUM_PERM
        for offset in np.flatnonzero(alike >= SAME_STORY_JACCARD / 2):
            j = signed[row + 1 + offset][0]
            a, b = shingle_set(pages[i]["gold"]["body"]), shingle_set(pages[j]["gold"]["body"])
            if len(a & b) / len(a | b) >= SAME_STORY_JACCARD:
                story[root(j)] = root(i)
    return [root(i) for i in range(len(pages))]


def reprint_stream(corpus: list[tuple[str, dict]], seed: int = SEED) -> tuple[list[StreamPage], int]:
    """The corpus pages in order, and three reprints of every article with a body long enough to sign,
    each placed at a random point after its original. Also returns how many articles were too short."""
    rng = random.Random(seed)
    pages = [page for _, page in corpus]
    stories = corpus_stories(pages)
    stream = [(float(i), StreamPage(RawPage(url=page["url"], text=page["text"], page_id=page.get("id")),
                                    stories[i], site_of(page), None, name))
              for i, (name, page) in enumerate(corpus)]
    chrome = [(site_of(page), around) for page in pages if (around := chrome_around_body(page)) is not None]
    too_short = 0
    for i, (name, page) in enumerate(corpus):
        body = page["gold"]["body"]
        if body_signature(body) is None:
            too_short += 1
            continue
        lenders = [(site, around) for site, around in chrome if site != site_of(page)]
        if not lenders:
            raise ValueError("no page of another site to lend its chrome")
        for rendering, render in RENDERINGS.items():
            chrome_site, (before, after) = rng.choice(lenders)
            text = render("\n".join([*before, *body.splitlines(), *after]))
            url = f"https://reprints.example/{chrome_site}/{i}/{rendering}"
            stream.append((rng.uniform(i + 0.01, len(corpus)),
                           StreamPage(RawPage(url=url, text=text), stories[i], chrome_site, rendering, name)))
    stream.sort(key=lambda item: item[0])
    return [page for _, page in stream], too_short


@dataclass(slots=True)
class Round:
    results: list[PageResult]
    pipeline_cpu: float  # seconds, pipeline and fold, all pages
    reprint_cpu: float  # seconds of it in the reprint stage: signature, lookup and fold


def run_round(stream: list[StreamPage], show: bool) -> Round:
    """The pipeline over the stream in order, the index folded after each page, as `process` does. The
    reprint stage is timed again on its own beside each page: its signature and lookup (against the
    same index the page saw) and the fold."""
    index = ReprintIndex()
    memory = Memory(reprints=index)
    results, pipeline_cpu, reprint_cpu = [], 0.0, 0.0
    for page in tqdm(stream, desc="pages", file=sys.stderr, disable=None if show else True, leave=False):
        started = time.process_time()
        result = process_page(page.raw, memory)
        entry = index_entry(result, page.raw.fetched_at)
        pipeline_cpu += time.process_time() - started
        started = time.process_time()
        if (signature := body_signature(result.article.body)) is not None:
            index.match(signature, result.article.id, page.raw.url, None)
        folded = time.process_time()
        fold(index, entry)
        ended = time.process_time()
        reprint_cpu += ended - started
        pipeline_cpu += ended - folded
        results.append(result)
    return Round(results, pipeline_cpu, reprint_cpu)


def pair_scores(stream: list[StreamPage], results: list[PageResult]) -> dict[str, float]:
    story_of = {result.article.id: page.story for page, result in zip(stream, results)}
    marks = [(page, result.article.duplicate_of) for page, result in zip(stream, results)
             if result.article.duplicate_of is not None]
    right = sum(story_of.get(original) == page.story for page, original in marks)
    reprints = [(page, result) for page, result in zip(stream, results) if page.rendering is not None]
    found = sum(story_of.get(result.article.duplicate_of) == page.story for page, result in reprints)
    corpus_marked = sum(page.rendering is None for page, _ in marks)
    return {"marks": len(marks), "right": right, "precision": right / len(marks) if marks else 1.0,
            "reprints": len(reprints), "found": found, "recall": found / len(reprints) if reprints else 0.0,
            "corpus pages marked": corpus_marked}


def distinct_pair_rate(stream: list[StreamPage], results: list[PageResult], source_file: str | None) -> tuple[int, int]:
    """(pairs of different stories from one site whose signatures `alike` takes for one story, all such
    pairs), over the corpus pages of one file (or of all files)."""
    by_site: dict[str, list[tuple[int, Signature]]] = {}
    for page, result in zip(stream, results):
        if page.rendering is None and (source_file is None or page.source_file == source_file):
            if (signature := result.observations.signature) is not None:
                by_site.setdefault(page.site, []).append((page.story, signature))
    alike = pairs = 0
    for articles in by_site.values():
        for (story_a, a), (story_b, b) in combinations(articles, 2):
            if story_a != story_b:
                pairs += 1
                alike += bool(one_story(np.count_nonzero(a.minhash == b.minhash) / NUM_PERM, a.shingles, b.shingles))
    return alike, pairs


def reprint_similarities(stream: list[StreamPage], results: list[PageResult]) -> list[float]:
    return sorted(result.article.similarity for page, result in zip(stream, results)
                  if page.rendering is not None and result.article.similarity is not None)


def memory_report(articles: int = WINDOW_ARTICLES) -> list[str]:
    """Fill an index of `articles` with random signatures (each band key distinct: the most the sorted
    arrays hold), and measure what it holds and how long a lookup and a fold take when it is full."""
    rng = np.random.default_rng(SEED)
    tracemalloc.start()
    index = ReprintIndex(capacity=articles)
    entries = []
    for n in range(articles + 2000):
        minhash = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)
        entry = IndexEntry(f"{n:032x}", n, Signature(minhash, band_keys(minhash), 2000), f"{n:032x}", 1.0, None)
        if n < articles:
            fold(index, entry)
        else:
            entries.append(entry)
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.process_time()
    for entry in entries[:1000]:
        index.match(entry.signature, entry.article_id, "", None)
    lookup = (time.process_time() - started) / 1000
    started = time.process_time()
    for entry in entries[1000:]:
        fold(index, entry)
    folding = (time.process_time() - started) / 1000
    per = 100_000 / articles
    return [f"index of {articles:,} articles: arrays {index.nbytes / 1e6:.1f} MB, allocated {traced / 1e6:.1f} MB"
            f" ({traced * per / 1e6:.1f} MB per 100,000 articles, {traced / articles:.0f} bytes an article)",
            f"full index: lookup {lookup * 1e3:.3f} ms, fold {folding * 1e3:.3f} ms CPU an article"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers reprints", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[3] / "shared/corpus/dev",
                        help="folder of the dev corpus files")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the stream for the CPU figure")
    parser.add_argument("--memory", action="store_true", help="also measure the index's memory and speed when full")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    load_dictionary()
    corpus = [(name, page) for name in DEV_FILES for page in read_pages(args.corpus / name)]
    stream, too_short = reprint_stream(corpus)
    reprints = sum(page.rendering is not None for page in stream)
    print(f"stream: {len(corpus)} corpus pages, {reprints} reprints "
          f"({too_short} articles too short to sign, left without reprints)")
    rounds = [run_round(stream, show=True) for _ in range(args.rounds)]
    results = rounds[0].results
    if any([r.article.duplicate_of for r in later.results] != [r.article.duplicate_of for r in results]
           for later in rounds[1:]):
        print("marks differ between rounds: the index is not deterministic")
        return 1
    scores = pair_scores(stream, results)
    print(f"pairs: {scores['marks']} marks, {scores['right']} right: precision {scores['precision']:.4f}; "
          f"{scores['found']} of {scores['reprints']} reprints found: recall {scores['recall']:.4f}; "
          f"{scores['corpus pages marked']} corpus pages marked")
    for rendering in RENDERINGS:
        subset = [(p, r) for p, r in zip(stream, results) if p.rendering == rendering]
        found = sum(r.article.duplicate_of is not None for _, r in subset)
        print(f"  {rendering:<18} {found} of {len(subset)} found")
    similarities = reprint_similarities(stream, results)
    if similarities:
        print(f"reprint similarity: min {similarities[0]:.3f}, 1st percentile "
              f"{similarities[len(similarities) // 100]:.3f}, median {statistics.median(similarities):.3f}")
    figures = {"precision": scores["precision"], "recall": scores["recall"]}
    for name, source_file in (("finance news", FINANCE_FILE), ("all files", None)):
        alike, pairs = distinct_pair_rate(stream, results, source_file)
        figures[f"false-positive rate, {name}"] = alike / pairs if pairs else 0.0
        print(f"distinct articles of one site, {name}: {alike} of {pairs} pairs one story by the index's rule "
              f"(similarity >= {SIMILARITY_THRESHOLD}, or nearly all inside): false-positive rate "
              f"{alike / pairs if pairs else 0.0:.5f}")
    shares = sorted(r.reprint_cpu / r.pipeline_cpu for r in rounds)
    figures["reprint stage / pipeline CPU"] = statistics.median(shares)
    pipeline_ms = statistics.median(r.pipeline_cpu for r in rounds) / len(stream) * 1e3
    reprint_ms = statistics.median(r.reprint_cpu for r in rounds) / len(stream) * 1e3
    print(f"CPU a page: pipeline {pipeline_ms:.3f} ms, reprint stage {reprint_ms:.4f} ms: "
          f"{statistics.median(shares):.2%} (range {shares[0]:.2%}–{shares[-1]:.2%} over {len(rounds)} rounds)")
    if args.memory:
        for line in memory_report():
            print(line)
    missed = 0
    for name, bound, at_least in TARGETS:
        value = figures[name]
        met = value >= bound if at_least else value <= bound
        missed += not met
        print(f"target {name:<34} {value:.4f} {'met' if met else 'MISSED'} ({'>=' if at_least else '<='} {bound})")
    return 1 if args.check and missed else 0
