"""Article keywords: the top TF-IDF terms of the article's jieba tokens, ranked with jieba's own IDF
table as `jieba.analyse.extract_tags` ranks them.

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

import jieba
import jieba.analyse

KEYWORD_COUNT = 8
MIN_TOKEN_CHARS = 2
# At most this many characters are tokenised for keywords. jieba takes about 1.6 µs a character
# here, so this bounds the stage at about 13 ms; 4 of the 81 dev pages have longer articles.
SAMPLE_CHARS = 8000

_IDF = jieba.analyse.default_tfidf.idf_freq
_MEDIAN_IDF = jieba.analyse.default_tfidf.median_idf
_WORDLIKE = re.compile(r"^[\u3400-\u9fffA-Za-z][\u3400-\u9fffA-Za-z0-9·\-]*$")


def load_dictionary() -> None:
    """Load jieba's dictionary now rather than on the first page, and leave everything loaded so far
    out of the garbage collector's full collections for the life of the process: they walked the
    dictionary's hundreds of thousands of entries, a 40 ms pause every few hundred pages in the worker
    (2.5 ms once frozen; bench/RESULTS.md). For a process that goes on to handle many pages."""
    jieba.initialize()
    gc.freeze()


def article_keywords(paragraphs: Sequence[str], count: int = KEYWORD_COUNT) -> tuple[str, ...]:
    """The article's keywords, from one jieba pass over its paragraphs (or an even sample of them)."""
    return top_keywords(jieba.lcut(keyword_text(paragraphs), HMM=False), count)


def keyword_text(paragraphs: Sequence[str]) -> str:
    """The text keywords are counted in: every paragraph, or every k-th when they are too long."""
    step = max(1, -(-sum(map(len, paragraphs)) // SAMPLE_CHARS))  # ceiling division
    # Paragraphs of very unequal length can still exceed the budget: the cut loses one token.
    return "\n".join(paragraphs[::step])[:SAMPLE_CHARS]


def top_keywords(tokens: Iterable[str], count: int = KEYWORD_COUNT) -> tuple[str, ...]:
    # Count first (in C), then test each distinct token once rather than each occurrence,
    # and keep only the best `count` instead of sorting them all.
    counts = Counter(tokens)
    best = heapq.nsmallest(count, ((-n * _IDF.get(t, _MEDIAN_IDF), t) for t, n in counts.items()
                                   if len(t) >= MIN_TOKEN_CHARS and _WORDLIKE.match(t)))
    return tuple(t for _, t in best)
