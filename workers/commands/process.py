"""`process`: the worker's pipeline offline, JSONL of raw pages in, one JSONL result per line out."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import orjson
from tqdm import tqdm

from ..messages import page_messages
from ..pipeline import Memory, RejectedPage, decode_page, load_dictionary, process_page
from ..pipeline.reprints import ReprintIndex, fold, index_entry
from ..settings import get_settings, reprint_index


def result_line(line: bytes, max_bytes: int, reprints: ReprintIndex, drop_reprints: bool = False) -> dict:
    """The offline output for one input line; a rejected or failing line gives an `error` record. The
    reprint index learns each article after its line, in input order, as the worker's would; a reprint
    under REPRINT_ACTION=drop gives a `dropped` record in place of its article and facts."""
    url, page_id = page_identity(line)
    try:
        raw = decode_page(line, max_bytes)
        result = process_page(raw, Memory(reprints=reprints))
    except RejectedPage as exc:
        return {"url": url, "id": page_id, "error": {"reason": exc.reason, "detail": exc.detail}}
    except Exception as exc:  # one bad page must not stop a backfill
        return {"url": url, "id": page_id, "error": {"reason": "pipeline_error", "detail": f"{type(exc).__name__}: {exc}"}}
    fold(reprints, index_entry(result, raw.fetched_at))
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
    args = parser.parse_args(argv)
    settings = get_settings()
    max_bytes, reprints, drop_reprints = settings.max_page_bytes, reprint_index(settings), settings.reprint_action == "drop"
    load_dictionary()
    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    pages = errors = marked = 0  # counted here: a progress bar that is off (no terminal) counts nothing
    with out, tqdm(desc="pages", unit="page", file=sys.stderr, disable=None) as progress:
        for line in read_lines(args.input):
            record = result_line(line, max_bytes, reprints, drop_reprints)
            pages += 1
            errors += "error" in record
            marked += record.get("article", record.get("dropped", {})).get("duplicate_of") is not None
            out.write(orjson.dumps(record) + b"\n")
            progress.update()
    print(f"{pages} pages, {errors} rejected, {marked} reprints", file=sys.stderr)
    return 0
