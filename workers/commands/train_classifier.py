"""`train-classifier`: fit the content model's weights on corpus pages and report how it generalises.

Training labels come from the gold bodies: a segment is content when its text (whitespace aside)
occurs in `gold.body` (a short one only next to where the previous match ended: the gold is read
in order, and a menu word the article happens to use is not the article), or, for segments long
enough that chance overlap is unlikely, when nearly all of its word tokens occur there
(bag-of-words containment: the renderer and the person copying the gold may differ in spacing and
punctuation; a looser share takes a row of headlines on the article's subject for the article). The reference page uses its hand labels. Each
segment is weighted by its share of its page's tokens, so every page of a file counts the same, as
in the macro-averaged score, and every file counts the same as the largest. Every page is also read
in the other renderings a scraper may deliver (`workers/renderings.py`: one text node a line,
hard-wrapped), with the same gold: the weights must hold however the page's text was cut into lines.
A rendered copy weighs as its page does and is held out with it. The fit is a
standardised logistic regression (scikit-learn, liblinear, so the result is deterministic); the
written weights are unstandardised, so the worker needs only a dot product. Cross-validation is
grouped by site (`site_folds`), scored exactly like `workers eval` on the pages as the corpus has them.
"""
from __future__ import annotations

import argparse
import json
import math
import re
from collections import Counter
from pathlib import Path

from ..evaluate import _fmt, bag_of_words, counts_prf, macro, read_pages
from ..pipeline.assemble import assemble
from ..pipeline.classify import MODEL_PATH, ContentModel, analyse, classify, signals
from ..pipeline.records import CONTENT_LABELS
from ..pipeline.split import split_segments
from ..renderings import RENDERINGS

SHARED = Path(__file__).resolve().parents[3] / "shared"
DEV = SHARED / "corpus" / "dev"
SEED = SHARED / "corpus" / "seed"
# A segment not found verbatim in the gold body is content when it has at least this many word
# tokens and at least this share of them occur in the gold body.
CONTAINMENT_MIN_TOKENS = 12
CONTAINMENT = 0.9
# A segment shorter than this (characters) counts as found in the gold body only within this many
# characters of where the previous match there ended.
ALIGN_MIN_CHARS = 20
ALIGN_WINDOW = 10
# Inverse regularisation strength of the logistic regression.
C = 0.1
FOLDS = 5
# The reference page's lines weigh as much as this many corpus pages: it is the hand-checked one.
SEED_WEIGHT = 3.0
_SPACE = re.compile(r"\s+")


class Page:
    """One page's segments, signals, training labels and gold bag of words."""

    def __init__(self, group: str, text: str, gold_body: str, gold_lines: list[bool] | None = None,
                 origin: str = "", site: str = "", rendering: str = "") -> None:
        self.group = group
        self.rendering = rendering  # "" for the page as the corpus has it
        self.origin = origin or group
        self.site = site
        self.text = text
        self.gold = bag_of_words(gold_body)
        segments = split_segments(text)
        self.columns = signals(analyse(segments))
        bags = [bag_of_words(s.text) for s in segments]
        sizes = [sum(bag.values()) for bag in bags]
        if gold_lines is None:
            gold_lines = _gold_lines(segments, bags, gold_body, self.gold)
        self.labels = gold_lines
        total = sum(sizes) or 1
        self.weights = [n / total for n in sizes]

    def score(self, model: ContentModel) -> tuple[float, float, float]:
        segments = split_segments(self.text)
        classify(segments, model)
        body = "\n".join(text for _, text in assemble(segments).paragraphs)
        return counts_prf(bag_of_words(body), self.gold)


def _gold_lines(segments: list, bags: list, gold_body: str, gold: Counter) -> list[bool]:
    """Which segments are content: found in the gold body in reading order (a short segment only
    near where the gold body's text matched last, so that a menu word the article happens to use
    is not taken for it), or, failing that, long and made of the gold body's words."""
    flat = _SPACE.sub("", gold_body)
    labels, cursor = [], 0
    for segment, bag in zip(segments, bags):
        size = sum(bag.values())
        text = _SPACE.sub("", segment.text)
        at = flat.find(text) if size else -1
        if at >= 0 and len(text) < ALIGN_MIN_CHARS:
            at = flat.find(text, max(0, cursor - ALIGN_WINDOW), cursor + ALIGN_WINDOW + len(text))
        if at >= 0:
            cursor = max(cursor, at + len(text))
            labels.append(True)
            continue
        labels.append(size >= CONTAINMENT_MIN_TOKENS and sum(c for t, c in bag.items() if gold[t]) >= CONTAINMENT * size)
    return labels


def load_pages(corpora: list[Path]) -> list[Page]:
    """Every page of the corpora and its rendered copies, each with the site it is held out with in
    cross-validation: a file whose pages carry several origins is a set of sites (each origin one
    site, its pages held out together); a file of one origin gathers pages of many sites, each page
    (with its copies) a site of its own."""
    pages = []
    for path in corpora:
        objs = list(read_pages(path))
        several = len({obj.get("origin", "") for obj in objs}) > 1
        for i, obj in enumerate(objs):
            origin = obj.get("origin", path.stem)
            site = origin if several else f"{origin}#{i}"
            pages.append(Page(path.stem, obj["text"], obj["gold"]["body"], origin=origin, site=site))
            pages.extend(Page(path.stem, render(obj["text"]), obj["gold"]["body"], origin=origin, site=site,
                              rendering=name) for name, render in RENDERINGS.items())
    return _files_weigh_the_same(pages)


def _files_weigh_the_same(pages: list[Page]) -> list[Page]:
    """Scale each page's weights so that every corpus file weighs as much as the largest: the
    score is reported per file, and one kind of page should not drown the others in the fit."""
    sizes = Counter(p.group for p in pages)
    largest = max(sizes.values(), default=1)
    for page in pages:
        page.weights = [w * largest / sizes[page.group] for w in page.weights]
    return pages


def site_folds(pages: list[Page]) -> list[int]:
    """Each page's fold: one fold per site of the sites files, the pages of the other files dealt
    out over the same folds in turn, so every fold holds out one whole site and a share of pages.
    A page's rendered copies share its site, so its fold."""
    named = sorted({p.site for p in pages if "#" not in p.site})
    count = max(len(named), FOLDS)
    fold_of_site = {site: k for k, site in enumerate(named)}
    for page in pages:
        fold_of_site.setdefault(page.site, (len(fold_of_site) - len(named)) % count)
    return [fold_of_site[page.site] for page in pages]


def seed_page() -> Page:
    text = (SEED / "page.txt").read_text(encoding="utf-8")
    gold = [json.loads(line) for line in (SEED / "segments.gold.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    body = "\n".join(g["text"] for g in gold if g["label"] in CONTENT_LABELS)
    page = Page("seed", text, body, [g["label"] in CONTENT_LABELS for g in gold])
    page.weights = [w * SEED_WEIGHT for w in page.weights]
    return page


def fit(pages: list[Page]) -> tuple[ContentModel, dict[str, float]]:
    """The model, and its standardised coefficients (how much each signal moves the decision)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    names = sorted(pages[0].columns)
    x = [list(row) for page in pages for row in zip(*(page.columns[n] for n in names))]
    y = [int(label) for page in pages for label in page.labels]
    w = [weight for page in pages for weight in page.weights]
    scaler = StandardScaler().fit(x)
    lr = LogisticRegression(C=C, solver="liblinear", max_iter=1000)
    lr.fit(scaler.transform(x), y, sample_weight=w)
    scale = [s if s > 0 else 1.0 for s in scaler.scale_]
    weights = {n: float(c / s) for n, c, s in zip(names, lr.coef_[0], scale)}
    bias = float(lr.intercept_[0] - sum(c * m / s for c, m, s in zip(lr.coef_[0], scaler.mean_, scale)))
    return ContentModel(weights=weights, bias=bias), {n: float(c) for n, c in zip(names, lr.coef_[0])}


def report(title: str, scored: list[tuple[Page, tuple[float, float, float]]]) -> None:
    """P/R/F1 per file and per origin, then overall, as `workers eval` prints them."""
    print(title)
    for key in ("group", "origin"):
        for name in sorted({getattr(p, key) for p, _ in scored}):
            rows = [s for p, s in scored if getattr(p, key) == name]
            print(_fmt(name, len(rows), macro(rows)))
    print(_fmt("overall", len(scored), macro(s for _, s in scored)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workers train-classifier", description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="*", type=Path, default=sorted(DEV.glob("*.jsonl")))
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the weights")
    parser.add_argument("--no-cv", action="store_true", help="skip cross-validation")
    args = parser.parse_args(argv)

    pages = load_pages(args.corpora)
    seed = seed_page()
    model, standardised = fit(pages + [seed])

    if not args.no_cv:
        folds = site_folds(pages)
        scored: list[tuple[Page, tuple[float, float, float]]] = []
        for k in sorted(set(folds)):
            fold, _ = fit([p for p, f in zip(pages, folds) if f != k] + [seed])
            scored.extend((p, p.score(fold)) for p, f in zip(pages, folds) if f == k and not p.rendering)
        report(f"cross-validation grouped by site ({len(set(folds))} folds, {len(scored)} pages)", scored)

    ranked = sorted(model.weights.items(), key=lambda kv: -abs(standardised[kv[0]]))
    payload = {
        "about": "content model of workers/pipeline/classify.py; written by `python -m workers train-classifier`",
        "bias": round(model.bias, 6),
        "threshold": model.threshold,
        "weights": {n: round(w, 6) for n, w in ranked},
    }
    args.out.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    strongest = ", ".join(f"{n} {standardised[n]:+.2f}" for n, _ in ranked[:10])
    print(f"wrote {args.out} ({len(ranked)} signals); strongest (per standard deviation): {strongest}")
    return 0 if all(math.isfinite(w) for w in model.weights.values()) else 1
