"""`process`: the worker's pipeline offline, JSONL of raw pages in, one JSONL result per line out."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import orjson
from tqdm import tqdm

from ..messages import page_messages
from ..pipeline import RejectedPage, decode_page, load_dictionary, process_page
from ..pipeline.records import NO_MEMORY
from ..pipeline.sitememory import MemoryState, fold, memory_for
from ..settings import get_settings


def result_line(line: bytes, max_bytes: int, memory: MemoryState | None = None) -> tuple[dict, MemoryState | None]:
    """The offline output for one input line (a rejected or failing line gives an `error` record), and
    the site memory after it (None: no memory kept)."""
    url, page_id = page_identity(line)
    try:
        raw = decode_page(line, max_bytes)
        result = process_page(raw, NO_MEMORY if memory is None else memory_for(memory, raw))
    except RejectedPage as exc:
        return {"url": url, "id": page_id, "error": {"reason": exc.reason, "detail": exc.detail}}, memory
    except Exception as exc:  # one bad page must not stop a backfill
        return {"url": url, "id": page_id, "error": {"reason": "pipeline_error", "detail": f"{type(exc).__name__}: {exc}"}}, memory
    if memory is not None:
        memory = fold(memory, result.observations.line_fingerprints)
    return {
        "url": raw.url,
        "id": page_id,
        **page_messages(result),
    }, memory


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
    memory = None if args.no_site_memory else MemoryState()
    max_bytes = get_settings().max_page_bytes
    load_dictionary()
    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    pages = errors = 0
    # Counted here: the progress bar turns itself off, and stops counting, when stderr is not a terminal.
    with out, tqdm(desc="pages", unit="page", file=sys.stderr, disable=None) as progress:
        for line in read_lines(args.input):
            record, memory = result_line(line, max_bytes, memory)
            pages += 1
            errors += "error" in record
            out.write(orjson.dumps(record) + b"\n")
            progress.update()
    print(f"{pages} pages, {errors} rejected", file=sys.stderr)
    return 0
