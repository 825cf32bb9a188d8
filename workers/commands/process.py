"""`process`: the worker's pipeline offline, JSONL of raw pages in, one JSONL result per line out."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from tqdm import tqdm

from ..messages import page_messages
from ..pipeline import Memory, PageResult, RawPage, RejectedPage, decode_page, load_dictionary, process_page
from ..pipeline import reprints, sitememory
from ..settings import get_settings, reprint_index, site_memory_limits


@dataclass
class OfflineMemory:
    """What the pages before taught, kept over the input in order, as the worker keeps it over the
    stream: the site templates (None: off) and the articles already published."""

    reprints: reprints.ReprintIndex
    sites: sitememory.MemoryState | None = None

    def for_page(self, raw: RawPage) -> Memory:
        template = self.sites.template(sitememory.site_of(raw)) if self.sites is not None else frozenset()
        return Memory(site_template=template, reprints=self.reprints)

    def learn(self, raw: RawPage, result: PageResult) -> None:
        if self.sites is not None:
            self.sites = sitememory.fold(self.sites, result.observations.line_fingerprints)
        reprints.fold(self.reprints, reprints.index_entry(result, raw.fetched_at))


def result_line(line: bytes, max_bytes: int, memory: OfflineMemory, drop_reprints: bool = False) -> dict:
    """The offline output for one input line; a rejected or failing line gives an `error` record. The
    memory learns from each page after its line; a reprint under REPRINT_ACTION=drop gives a `dropped`
    record in place of its article and facts."""
    url, page_id = page_identity(line)
    try:
        raw = decode_page(line, max_bytes)
        result = process_page(raw, memory.for_page(raw))
    except RejectedPage as exc:
        return {"url": url, "id": page_id, "error": {"reason": exc.reason, "detail": exc.detail}}
    except Exception as exc:  # one bad page must not stop a backfill
        return {"url": url, "id": page_id, "error": {"reason": "pipeline_error", "detail": f"{type(exc).__name__}: {exc}"}}
    memory.learn(raw, result)
    article = result.article
    if drop_reprints and article.duplicate_of is not None:
        return {"url": raw.url, "id": page_id, "dropped": {"reason": "reprint", "article_id": article.id,
                                                           "duplicate_of": article.duplicate_of,
                                                           "similarity": article.similarity}}
    return {
        "url": raw.url,
        "id": page_id,
        **page_messages(result),
    }


def page_identity(line: bytes) -> tuple[str | None, str | None]:
    """The url and page id of a raw-page line, where it has them (also the key `feed` sends it with)."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(obj, dict):
        return None, None
    url, page_id = obj.get("url"), obj.get("id", obj.get("page_id"))
    return (url if isinstance(url, str) else None), (page_id if isinstance(page_id, str) else None)


def read_lines(path: str) -> Iterator[bytes]:
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    with stream:
        for line in stream:
            if line.strip():
                yield line.rstrip(b"\r\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers process", description=__doc__)
    parser.add_argument("--input", "-i", default="-", help="JSONL of raw page messages (- for stdin)")
    parser.add_argument("--output", "-o", default="-", help="JSONL results (- for stdout)")
    parser.add_argument("--no-site-memory", action="store_true",
                        help="clean every page on its own (by default each site's template is learnt from the pages before)")
    args = parser.parse_args(argv)
    settings = get_settings()
    max_bytes, drop_reprints = settings.max_page_bytes, settings.reprint_action == "drop"
    memory = OfflineMemory(reprint_index(settings), None if args.no_site_memory else sitememory.MemoryState(limits=site_memory_limits(settings)))
    load_dictionary()
    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    pages = errors = marked = 0  # counted here: a progress bar that is off (no terminal) counts nothing
    with out, tqdm(desc="pages", unit="page", file=sys.stderr, disable=None) as progress:
        for line in read_lines(args.input):
            record = result_line(line, max_bytes, memory, drop_reprints)
            pages += 1
            errors += "error" in record
            marked += record.get("article", record.get("dropped", {})).get("duplicate_of") is not None
            out.write(orjson.dumps(record) + b"\n")
            progress.update()
    print(f"{pages} pages, {errors} rejected, {marked} reprints", file=sys.stderr)
    return 0
