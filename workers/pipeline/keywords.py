"""Article keywords: the top TF-IDF terms of the article's tokens, ranked with jieba's own IDF table as
`jieba.analyse.extract_tags` ranks them.

Tokens come from rjieba, the Python binding of jieba-rs: jieba's algorithm (the prefix dictionary's
DAG and its most probable path, no HMM for unknown words) over jieba's dictionary, in native code.
On the dev corpus it cuts every page into exactly the tokens `jieba.lcut(text, HMM=False)` gives, about
18 times as fast (`bench/tokens.py` measures both). jieba stays the reference: the IDF table is
jieba.analyse's, and jieba's dictionary format (word, frequency, tag) is what rjieba's `add_word` takes.

The article is the only text tokenised, once. A long article is tokenised in an even sample of its
paragraphs (every k-th one) of at most SAMPLE_CHARS characters: the term frequencies of an even
sample rank the same leading terms, and the work per page stays bounded however long the article.
"""
from __future__ import annotations

import gc
import heapq
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import accumulate, pairwise

import jieba
import jieba.analyse
import rjieba

KEYWORD_COUNT = 8
MIN_TOKEN_CHARS = 2
# At most this many characters are tokenised for keywords; 4 of the 81 dev pages have longer articles.
# rjieba takes about 0.1 µs a character here, so the stage stays around a millisecond.
SAMPLE_CHARS = 8000

_IDF = jieba.analyse.default_tfidf.idf_freq
_MEDIAN_IDF = jieba.analyse.default_tfidf.median_idf
_MAX_IDF = max(_IDF.values())
_WORDLIKE = re.compile(r"^[\u3400-\u9fffA-Za-z][\u3400-\u9fffA-Za-z0-9·\-]*$")


def load_dictionary() -> None:
    """Leave everything loaded so far (rjieba builds its dictionary and jieba.analyse its IDF table
    when imported) out of the garbage collector's full collections for the life of the process: they
    walked hundreds of thousands of entries, a 40 ms pause every few hundred pages in the worker
    (2.5 ms once frozen; bench/RESULTS.md). For a process that goes on to handle many pages."""
    gc.freeze()


def jieba_tokens(text: str) -> list[str]:
    """jieba's tokens of `text`, as `reference_tokens` cuts it, at native speed."""
    return rjieba.cut(text, hmm=False)


def reference_tokens(text: str) -> list[str]:
    """jieba's own cut, the reference `jieba_tokens` is measured against (it loads jieba's dictionary)."""
    return jieba.lcut(text, HMM=False)


def agreeing_tokens(reference: Sequence[str], candidate: Sequence[str]) -> int:
    """How many reference tokens the candidate cuts out too: the same characters, at the same place."""
    return len(_spans(reference) & _spans(candidate))


def keyword_overlap(reference: Sequence[str], candidate: Sequence[str]) -> float:
    """Shared keywords over all keywords of either (Jaccard); two empty sets agree."""
    either = set(reference) | set(candidate)
    return len(set(reference) & set(candidate)) / len(either) if either else 1.0


def article_keywords(paragraphs: Sequence[str], count: int = KEYWORD_COUNT) -> tuple[str, ...]:
    """The article's keywords, from one pass over its paragraphs (or an even sample of them)."""
    return top_keywords(jieba_tokens(keyword_text(paragraphs)), count)


def keyword_text(paragraphs: Sequence[str]) -> str:
    """The text keywords are counted in: every paragraph, or every k-th when they are too long."""
    step = max(1, -(-sum(map(len, paragraphs)) // SAMPLE_CHARS))  # ceiling division
    # Paragraphs of very unequal length can still exceed the budget: the cut loses one token.
    return "\n".join(paragraphs[::step])[:SAMPLE_CHARS]


def top_keywords(tokens: Iterable[str], count: int = KEYWORD_COUNT) -> tuple[str, ...]:
    """The `count` word-like tokens of the highest count × IDF, best first (ties: the smaller token)."""
    # Count first (in C), then look at the distinct tokens from the most frequent down, and stop once
    # even the largest IDF could not lift a token's count past the count-th best score so far: most
    # tokens occur once and are never looked up in the IDF table.
    scored: list[tuple[float, str]] = []
    leaders: list[float] = []  # the best `count` scores so far, the least first
    for token, n in Counter(tokens).most_common():
        if len(leaders) == count and n * _MAX_IDF < leaders[0]:
            break
        if len(token) >= MIN_TOKEN_CHARS and _WORDLIKE.match(token):
            score = n * _IDF.get(token, _MEDIAN_IDF)
            scored.append((-score, token))
            (heapq.heappushpop if len(leaders) == count else heapq.heappush)(leaders, score)
    return tuple(t for _, t in heapq.nsmallest(count, scored))


def _spans(tokens: Sequence[str]) -> set[tuple[int, int]]:
    return set(pairwise(accumulate(map(len, tokens), initial=0)))
