"""The worker's web server: health, readiness, Prometheus metrics and the inspection page.

    GET  /healthz        the process is alive
    GET  /readyz         200 when partitions are assigned and the broker answers, else 503 with why
    GET  /metrics        Prometheus text exposition (consumer lag is measured at each scrape)
    GET  /inspect        a page to paste a raw page into (or pick a recent one) and see how it is cleaned
    GET  /inspect/recent the last pages this worker took from the input topic
    POST /inspect/api    a raw-page message in (JSON, as on the input topic), the worker's outputs out

Health, readiness and metrics answer anyone who reaches the port. The inspection views show the full text of
the pages the worker took and run the pipeline for the caller: with INSPECT_TOKEN set they answer requests
that carry it (`Authorization: Bearer TOKEN`), without it callers on the worker's own host only.
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections import deque
from pathlib import Path

from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import __version__, telemetry
from .app import app, settings
from .messages import page_messages
from .pipeline import RejectedPage, decode_page, process_page
from .pipeline.records import RawPage

BROKER_TIMEOUT_S = 5.0
RECENT_PAGES = 20
INSPECT_HTML = Path(__file__).with_name("inspect.html")

recent_pages: deque[RawPage] = deque(maxlen=RECENT_PAGES)


def remember_page(raw: RawPage) -> None:
    """Keep a page the worker took, for the inspection page (bounded: only the last few)."""
    recent_pages.append(raw)


async def measure_consumer_lag() -> dict[str, int]:
    """Set CONSUMER_LAG for each assigned partition (end offset − consumer position) and return it.

    Asks the broker for the end offsets, so it raises when the broker does not answer in time.
    """
    consumer = app.consumer
    # Input partitions only: the group's leader is also assigned faust's internal assignor topic.
    assigned = {tp for tp in consumer.assignment() if tp.topic == settings.topic_raw}
    ends = await asyncio.wait_for(consumer.highwaters(*assigned), BROKER_TIMEOUT_S) if assigned else {}
    lags = {}
    for tp, end in ends.items():
        position = await asyncio.wait_for(consumer.position(tp), BROKER_TIMEOUT_S)
        lags[f"{tp.topic}/{tp.partition}"] = max(0, end - position) if position is not None else end
    telemetry.CONSUMER_LAG.clear()  # partitions revoked since the last scrape disappear
    for name, lag in lags.items():
        topic, partition = name.rsplit("/", 1)
        telemetry.CONSUMER_LAG.labels(topic, partition).set(lag)
    return lags


@app.page("/healthz")
class Health(View):
    async def get(self, request: Request) -> Response:
        return self.json({"status": "ok", "app": settings.app_id, "version": __version__})


@app.page("/readyz")
class Readiness(View):
    async def get(self, request: Request) -> Response:
        try:
            lags = await measure_consumer_lag()
        except asyncio.TimeoutError:
            return self.json({"ready": False, "why": "the broker did not answer"}, status=503)
        except Exception as exc:  # e.g. the consumer is not started yet
            return self.json({"ready": False, "why": f"{type(exc).__name__}: {exc}"}, status=503)
        if not lags:
            return self.json({"ready": False, "why": "no partitions assigned"}, status=503)
        return self.json({"ready": True, "partitions": sorted(lags)})


@app.page("/metrics")
class Metrics(View):
    async def get(self, request: Request) -> Response:
        try:
            await measure_consumer_lag()
        except Exception:  # the other metrics are worth serving while the broker is away
            telemetry.CONSUMER_LAG.clear()
        return self.bytes(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


LOCAL_ONLY = ("forbidden", "inspection answers the worker's own host; set INSPECT_TOKEN to serve it to others")


def is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return ip.is_loopback or (ip.version == 6 and ip.ipv4_mapped is not None and ip.ipv4_mapped.is_loopback)


class InspectionView(View):
    """A view of what the worker reads, or one that runs its pipeline: only for the callers described above."""

    async def dispatch(self, request: Request) -> Response:
        token = settings.inspect_token
        if token is not None:
            expected = f"Bearer {token.get_secret_value()}".encode()
            if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
                return refusal(self, 401, "unauthorized", "send the worker's INSPECT_TOKEN as a bearer token",
                               headers={"WWW-Authenticate": "Bearer"})
        elif not is_loopback(request.remote):
            return refusal(self, 403, *LOCAL_ONLY)
        return await super().dispatch(request)


def refusal(view: View, status: int, reason: str, detail: str, headers: dict | None = None) -> Response:
    """An error in the shape the inspection page shows: {"error": {"reason", "detail"}}."""
    return view.json({"error": {"reason": reason, "detail": detail}}, status=status, headers=headers)


async def read_body(request: Request, max_bytes: int) -> bytes | None:
    """The request's body, or None once it is known to be over `max_bytes`: by its Content-Length before
    anything is read, or after reading one byte past the cap (a chunked body has no length). The rest is
    never read into memory."""
    if request.content_length is not None and request.content_length > max_bytes:
        return None
    body = bytearray()
    while len(body) <= max_bytes and (chunk := await request.content.read(max_bytes + 1 - len(body))):
        body += chunk
    return bytes(body) if len(body) <= max_bytes else None


@app.page("/inspect")
class Inspect(View):
    """The page holds no data itself (its views below do): with a token set it is served to every caller, so
    that one who has the token can type it in."""

    async def get(self, request: Request) -> Response:
        if settings.inspect_token is None and not is_loopback(request.remote):
            return refusal(self, 403, *LOCAL_ONLY)
        return self.html(INSPECT_HTML.read_text(encoding="utf-8"))


@app.page("/inspect/recent")
class RecentPages(InspectionView):
    async def get(self, request: Request) -> Response:
        return self.json([{"url": raw.url, "text": raw.text} for raw in reversed(recent_pages)])


@app.page("/inspect/api")
class InspectApi(InspectionView):
    async def post(self, request: Request) -> Response:
        body = await read_body(request, settings.max_page_bytes)
        if body is None:
            return refusal(self, 413, "too_large", f"the body is over the page cap, {settings.max_page_bytes} bytes")
        try:
            raw = decode_page(body, settings.max_page_bytes)
        except RejectedPage as exc:
            return refusal(self, 400, exc.reason, exc.detail)
        # The pipeline is CPU work: off the event loop, as in the agent.
        result = await asyncio.get_running_loop().run_in_executor(None, process_page, raw)
        return self.json(page_messages(result))
