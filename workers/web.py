"""The worker's web server: health, readiness, Prometheus metrics and the inspection page.

    GET  /healthz        the process is alive
    GET  /readyz         200 when partitions are assigned and the broker answers, else 503 with why
    GET  /metrics        Prometheus text exposition (consumer lag is measured at each scrape)
    GET  /inspect        a page to paste a raw page into (or pick a recent one) and see how it is cleaned
    GET  /inspect/recent the last pages this worker took from the input topic
    POST /inspect/api    a raw-page message in (JSON, as on the input topic), the worker's outputs out
"""
from __future__ import annotations

import asyncio
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
    assigned = consumer.assignment()
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


@app.page("/inspect")
class Inspect(View):
    async def get(self, request: Request) -> Response:
        return self.html(INSPECT_HTML.read_text(encoding="utf-8"))


@app.page("/inspect/recent")
class RecentPages(View):
    async def get(self, request: Request) -> Response:
        return self.json([{"url": raw.url, "text": raw.text} for raw in reversed(recent_pages)])


@app.page("/inspect/api")
class InspectApi(View):
    async def post(self, request: Request) -> Response:
        body = await self.read_request_content(request)
        try:
            raw = decode_page(body, settings.max_page_bytes)
        except RejectedPage as exc:
            return self.json({"error": {"reason": exc.reason, "detail": exc.detail}}, status=400)
        # The pipeline is CPU work: off the event loop, as in the agent.
        result = await asyncio.get_running_loop().run_in_executor(None, process_page, raw)
        return self.json(page_messages(result))

