"""Article keywords: TF-IDF over tokens the classifier already made, with jieba's IDF table.

jieba.analyse.extract_tags would tokenise the body a second time; this reuses the tokens.
"""
from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable

import jieba.analyse

KEYWORD_COUNT = 8
MIN_TOKEN_CHARS = 2

_IDF = jieba.analyse.default_tfidf.idf_freq
_MEDIAN_IDF = jieba.analyse.default_tfidf.median_idf
_WORDLIKE = re.compile(r"^[\u3400-\u9fffA-Za-z][\u3400-\u9fffA-Za-z0-9·\-]*$")


def top_keywords(tokens: Iterable[str], count: int = KEYWORD_COUNT) -> tuple[str, ...]:
    # Count first (in C), then test each distinct token once rather than each occurrence,
    # and keep only the best `count` instead of sorting them all.
    counts = Counter(tokens)
    best = heapq.nsmallest(count, ((-n * _IDF.get(t, _MEDIAN_IDF), t) for t, n in counts.items()
                                   if len(t) >= MIN_TOKEN_CHARS and _WORDLIKE.match(t)))
    return tuple(t for _, t in best)
