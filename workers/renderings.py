"""Deterministic re-renderings of a page text in the other styles scrapers deliver.

* `one_node_per_line`: every text node on a line of its own and no blank lines: sentences break
  after inline punctuation, bracketed spans (link texts, 【】, 《》, （）) and standalone counters
  stand alone, and space-separated CJK items (menu entries, buttons) split apart.
* `hard_wrap`: every line longer than `width` characters is cut into lines of `width`
  characters, mid-sentence, without splitting an ASCII word when it can be avoided.
"""
from __future__ import annotations

import re

# Break after inline punctuation (the mark stays with the text before it).
_AFTER_MARK = re.compile(r"(?<=[，。；！？：,;!?])")
# A bracketed span or a standalone number gets a line of its own.
_ISLAND = re.compile(r"(【[^】\n]{1,40}】|《[^》\n]{1,40}》|（[^）\n]{1,40}）|\([^)\n]{1,40}\)|(?<!\S)\d[\d,.]*(?!\S))")
# Whitespace with a non-ASCII character on either side separates two text nodes.
_NODE_GAP = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])|\s{2,}")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
# A list marker is not a text node of its own: it stays with the item it marks.
_MARKER = re.compile(r"^(?:[•·●○◆■▪\-*+]|\d{1,3}[.、])$")


def one_node_per_line(text: str) -> str:
    out: list[str] = []
    for line in text.splitlines():
        for clause in _AFTER_MARK.split(line):
            for piece in _ISLAND.split(clause):
                for node in _NODE_GAP.split(piece or ""):
                    node = node.strip()
                    if out and _MARKER.match(out[-1]) and node:
                        out[-1] = f"{out[-1]} {node}"
                    elif node:
                        out.append(node)
    return "\n".join(out) + "\n"


def _cut(line: str, width: int) -> list[str]:
    pieces: list[str] = []
    while len(line) > width:
        cut = width
        # Step back out of an ASCII word, but never further than a quarter of the width.
        while cut > width * 3 // 4 and _ASCII_WORD.match(line[cut]) and _ASCII_WORD.match(line[cut - 1]):
            cut -= 1
        if _ASCII_WORD.match(line[cut]) and _ASCII_WORD.match(line[cut - 1]):
            cut = width
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    if line:
        pieces.append(line)
    return pieces


def hard_wrap(text: str, width: int = 38) -> str:
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        out.extend(_cut(stripped, width) if stripped else [""])
    return "\n".join(out) + "\n"


# The other renderings every content figure is also taken in, by name.
RENDERINGS = {"one_node_per_line": one_node_per_line, "hard_wrap_38": hard_wrap}
