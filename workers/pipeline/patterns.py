"""Regex building blocks shared by the classifier and the fact extractor."""
from __future__ import annotations

import re
from collections.abc import Iterable


def starting_with(firsts: str, pattern: str) -> str:
    """`pattern`, every match of which starts with a character of the class `firsts`. Python's re
    tries every alternative at every position; a lookahead on those characters skips at once the
    positions where none can start."""
    return f"(?=[{firsts}])(?:{pattern})"


def any_word(words: Iterable[str]) -> str:
    """A pattern for any of `words`, tried in the order given."""
    words = list(words)
    return starting_with(re.escape("".join(sorted({w[0] for w in words}))), "|".join(map(re.escape, words)))
