"""How closely rjieba's tokens follow jieba's own on the dev corpus, and what each costs.

    .venv/bin/python bench/tokens.py

The keywords stage tokenises with rjieba (workers/pipeline/keywords.py) on two conditions, both
measured here with `jieba.lcut(text, HMM=False)` as the reference and jieba.analyse's IDF table on
both sides: at least TOKEN_AGREEMENT_MIN of the reference tokens are cut the same (same characters at
the same place), and the articles' keyword sets overlap (Jaccard) by at least KEYWORD_OVERLAP_MIN on
average. Three texts of every dev page are cut: the raw page, the article text the keywords stage
sees, and the gold body. Exits 1 when a condition is missed.
"""
from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import jieba
import orjson
import rjieba
from rich.console import Console
from rich.table import Table

from run import corpus_lines  # bench/ is the script's own folder, first on sys.path
from workers.pipeline import decode_page, process_page
from workers.pipeline.keywords import (agreeing_tokens, jieba_tokens, keyword_overlap, keyword_text,
                                       reference_tokens, top_keywords)
from workers.settings import Settings

TOKEN_AGREEMENT_MIN = 0.99
KEYWORD_OVERLAP_MIN = 0.97
ROUNDS = 3


def corpus_texts() -> dict[str, list[str]]:
    """Every dev page's raw text, the article text its keywords are counted in, and its gold body."""
    lines, max_bytes = corpus_lines(), Settings().max_page_bytes
    pages = [decode_page(line, max_bytes) for line in lines]
    return {"raw pages": [page.text for page in pages],
            "articles (keyword text)": [keyword_text(process_page(page).article.paragraphs) for page in pages],
            "gold bodies": [orjson.loads(line)["gold"]["body"] for line in lines]}


def agreement(texts: list[str]) -> dict[str, float]:
    reference = [reference_tokens(text) for text in texts]
    candidate = [jieba_tokens(text) for text in texts]
    agreeing = sum(agreeing_tokens(r, c) for r, c in zip(reference, candidate))
    overlaps = [keyword_overlap(top_keywords(r), top_keywords(c)) for r, c in zip(reference, candidate)]
    return {"texts": len(texts), "reference tokens": sum(map(len, reference)),
            "rjieba tokens": sum(map(len, candidate)),
            "token agreement": agreeing / max(1, sum(map(len, reference))),
            "keyword overlap, mean": statistics.fmean(overlaps), "keyword overlap, least": min(overlaps),
            "same keywords": sum(o == 1.0 for o in overlaps) / len(overlaps)}


def cpu_rounds(cut: Callable[[str], list[str]], texts: list[str]) -> list[float]:
    """CPU seconds of one pass over `texts`, ROUNDS times."""
    spent = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for text in texts:
            cut(text)
        spent.append(time.process_time() - started)
    return spent


def missing_words() -> int:
    """Words of jieba's dictionary that rjieba's does not hold."""
    with jieba.dt.get_dict_file() as dictionary:
        words = [line.split(b" ", 1)[0].decode("utf-8") for line in dictionary if line.strip()]
    return sum(not rjieba.has_word(word) for word in words)


def main() -> int:
    jieba.initialize()
    texts = corpus_texts()
    table = Table(title="rjieba against jieba.lcut(HMM=False), dev corpus")
    table.add_column("figure")
    for kind in texts:
        table.add_column(kind, justify="right")
    results = {kind: agreement(kind_texts) for kind, kind_texts in texts.items()}
    for figure in next(iter(results.values())):
        table.add_row(figure, *(f"{r[figure]:.4%}" if isinstance(r[figure], float) else f"{r[figure]:,}"
                                for r in results.values()))
    Console().print(table)

    articles = texts["articles (keyword text)"]  # what the keywords stage cuts
    jieba_cpu, rjieba_cpu = cpu_rounds(reference_tokens, articles), cpu_rounds(jieba_tokens, articles)
    characters = sum(map(len, articles))
    for name, spent in (("jieba.lcut", jieba_cpu), ("rjieba", rjieba_cpu)):
        print(f"{name:<10} CPU s a pass over the {len(articles)} articles' keyword text: median {statistics.median(spent):.3f} "
              f"(range {min(spent):.3f}–{max(spent):.3f}), {statistics.median(spent) / characters * 1e6:.3f} µs a character")
    print(f"jieba.lcut / rjieba CPU: {statistics.median(jieba_cpu) / statistics.median(rjieba_cpu):.1f} "
          f"(range {min(jieba_cpu) / max(rjieba_cpu):.1f}–{max(jieba_cpu) / min(rjieba_cpu):.1f})")
    print(f"words of jieba's dictionary missing from rjieba's: {missing_words()}")

    verdicts = []
    for kind in ("raw pages", "articles (keyword text)"):
        verdicts += [(f"{kind}: token agreement", results[kind]["token agreement"], TOKEN_AGREEMENT_MIN),
                     (f"{kind}: keyword overlap, mean", results[kind]["keyword overlap, mean"], KEYWORD_OVERLAP_MIN)]
    for name, value, bound in verdicts:
        print(f"target {name:<45} {value:.4f} >= {bound}  {'ok' if value >= bound else 'MISSED'}")
    return 0 if all(value >= bound for _, value, bound in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
