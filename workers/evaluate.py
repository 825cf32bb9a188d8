"""`eval`: measure the offline pipeline against gold bodies and the hand-labelled reference page.

Content score (DESIGN.md, "Measuring content"): tokenise the predicted body and `gold.body` with
`jieba.lcut(text, HMM=False)`, keep tokens containing a word character, count the multiset
overlap; precision, recall and F1 per page, macro-averaged over pages, reported per file and per
origin. The reference page is also scored line by line against its gold labels.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import jieba
import orjson
from tqdm import tqdm

from .pipeline import process_page
from .pipeline.records import CONTENT_LABELS, RawPage
from .renderings import RENDERINGS

_WORD = re.compile(r"\w")
# The content bar on the dev corpus: (what, origin or "overall", index into P/R/F1, least value).
TARGETS = (
    ("overall F1", "overall", 2, 0.90),
    ("overall precision", "overall", 0, 0.88),
    ("overall recall", "overall", 1, 0.88),
    ("article F1", "article", 2, 0.92),
    ("forum F1", "forum", 2, 0.80),
)
# The other layouts scrapers deliver (renderings.py), and how far below the original's F1 each may
# score on any corpus file.
MAX_RENDERING_GAP = 0.02
IN_ARTICLE_LABELS = CONTENT_LABELS  # a line belongs to the article text when labelled one of these


def bag_of_words(text: str) -> Counter[str]:
    return Counter(t for t in jieba.lcut(text, HMM=False) if _WORD.search(t))


def bag_of_words_prf(predicted: str, gold: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of the predicted body's words against the gold body's words."""
    return counts_prf(bag_of_words(predicted), bag_of_words(gold))


def counts_prf(pred: Counter[str], ref: Counter[str]) -> tuple[float, float, float]:
    """Precision, recall and F1 of one bag of words against another (multiset overlap)."""
    overlap = sum((pred & ref).values())
    n_pred, n_ref = sum(pred.values()), sum(ref.values())
    if n_pred == 0 and n_ref == 0:
        return 1.0, 1.0, 1.0
    precision = overlap / n_pred if n_pred else 0.0
    recall = overlap / n_ref if n_ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return precision, recall, f1


def macro(scores: Iterable[tuple[float, float, float]]) -> tuple[float, float, float]:
    rows = list(scores)
    if not rows:
        return 0.0, 0.0, 0.0
    return tuple(sum(col) / len(rows) for col in zip(*rows))  # type: ignore[return-value]


def extract_body(url: str, text: str) -> str:
    """The article body the pipeline produces for one page."""
    return process_page(RawPage(url=url, text=text)).article.body


def read_pages(path: Path) -> Iterator[dict]:
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


def score_pages(pages: list[dict], desc: str = "", render: Callable[[str], str] = str) -> list[tuple[dict, tuple[float, float, float]]]:
    """Each page with its P/R/F1, its text first re-rendered by `render`."""
    return [
        (page, bag_of_words_prf(extract_body(page.get("url", ""), render(page["text"])), page["gold"]["body"]))
        for page in tqdm(pages, desc=desc, file=sys.stderr, leave=False)
    ]


def rendering_gaps(pages: list[dict], original: float, desc: str = "") -> dict[str, tuple[float, float]]:
    """For every other rendering, the pages' macro F1 when re-rendered and its gap below `original`."""
    out = {}
    for name, render in RENDERINGS.items():
        f1 = macro(s for _, s in score_pages(pages, f"{desc} {name}", render))[2]
        out[name] = (f1, original - f1)
    return out


def line_labels(text: str) -> dict[int, str]:
    """The label the pipeline gives each non-empty line (1-based) of a page."""
    result = process_page(RawPage(url="", text=text))
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    labels: dict[int, str] = {}
    line = 0
    for segment in result.segments:
        while line + 1 < len(starts) and starts[line + 1] <= segment.start:
            line += 1
        first = line
        while first < len(starts) and starts[first] < segment.end:
            labels[first + 1] = segment.label
            first += 1
    return labels


def seed_report(shared: Path) -> list[str]:
    seed = shared / "corpus" / "seed"
    text = (seed / "page.txt").read_text(encoding="utf-8")
    gold = [orjson.loads(line) for line in (seed / "segments.gold.jsonl").read_bytes().splitlines() if line.strip()]
    labels = line_labels(text)
    same = sum(1 for g in gold if labels.get(g["line"]) == g["label"])
    side = sum(
        1 for g in gold if (labels.get(g["line"]) in IN_ARTICLE_LABELS) == (g["label"] in IN_ARTICLE_LABELS)
    )
    lines = [
        f"seed labels {same}/{len(gold)} = {same / len(gold):.4f}",
        f"seed in/out {side}/{len(gold)} = {side / len(gold):.4f}",
    ]
    for g in gold:
        got = labels.get(g["line"])
        if got != g["label"]:
            lines.append(f"  line {g['line']}: gold {g['label']} got {got}: {g['text'][:40]}")
    return lines


def _fmt(name: str, n: int, prf: tuple[float, float, float]) -> str:
    p, r, f = prf
    return f"{name:<40} pages {n:>4}  P {p:.4f}  R {r:.4f}  F1 {f:.4f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workers eval", description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="+", type=Path, help="JSONL files with text and gold.body")
    parser.add_argument("--shared", type=Path, default=None, help="shared data root (seed page)")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages")
    parser.add_argument("--pages", action="store_true", help="list every page's P/R/F1, worst first")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target of TARGETS is not met")
    parser.add_argument("--renderings", action="store_true",
                        help="also score every file re-rendered one text node a line and hard-wrapped, with the gap")
    args = parser.parse_args(argv)

    scored_all: list[tuple[dict, tuple[float, float, float]]] = []
    too_far = 0
    for path in args.corpora:
        pages = list(read_pages(path))
        scored = score_pages(pages, desc=path.name)
        figures = macro(s for _, s in scored)
        print(_fmt(path.name, len(scored), figures))
        scored_all.extend(scored)
        if args.renderings:
            for name, (f1, gap) in rendering_gaps(pages, figures[2], path.name).items():
                too_far += gap > MAX_RENDERING_GAP
                print(f"  rendering {name:<18} F1 {f1:.4f}  gap {gap:+.4f} {'>' if gap > MAX_RENDERING_GAP else '<='} {MAX_RENDERING_GAP:.2f}")
    by_origin: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for page, s in scored_all:
        by_origin[page.get("origin", "?")].append(s)
    for origin, rows in sorted(by_origin.items()):
        print(_fmt(origin, len(rows), macro(rows)))
    ranked = sorted(scored_all, key=lambda x: x[1][2])
    for page, (p, r, f) in ranked if args.pages else ranked[: args.worst]:
        print(f"  {'page' if args.pages else 'worst'} {page['id']}: P {p:.3f} R {r:.3f} F1 {f:.3f}")

    shared = args.shared or Path(__file__).resolve().parent.parent.parent / "shared"
    if (shared / "corpus" / "seed" / "page.txt").exists():
        for line in seed_report(shared):
            print(line)
    overall = macro(s for _, s in scored_all)
    figures = {"overall": overall} | {o.rsplit("/", 1)[-1]: macro(rows) for o, rows in by_origin.items()}
    missed = 0
    for name, origin, index, least in TARGETS:
        if origin in figures:
            value = figures[origin][index]
            missed += value < least
            print(f"target {name:<18} {value:.4f} {'>=' if value >= least else '< '} {least:.2f}")
    print(_fmt("overall", len(scored_all), overall))
    print(f"F1 {overall[2]:.4f}")
    return 1 if args.check and (missed or too_far) else 0


if __name__ == "__main__":
    raise SystemExit(main())
