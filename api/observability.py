"""Prometheus metrics and the access log, labelled by route template (never by concrete path).

A concrete path carries user ids and event ids (`/v1/users/alice/history`); the template
(`/v1/users/{user_id}/history`) does not, and keeps label cardinality bounded. Requests that
match no route are labelled `unmatched`.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hypercorr.access")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class StoreSizes:
    """A collector that reads the store's sizes from the running engine at scrape time."""

    def __init__(self, app: object):
        self.app = app

    def collect(self) -> Iterable[Metric]:
        engine = getattr(getattr(self.app, "state", None), "engine", None)
        if engine is None:
            return
        stats = engine.stats()
        for name, value, doc in (("events", stats.events, "Stored events (SQLite rows)."),
                                 ("vectors", stats.vectors, "Vectors in the FAISS index."),
                                 ("graph_nodes", stats.graph_nodes, "Nodes of the issue graph."),
                                 ("graph_edges", stats.graph_edges, "Edges of the issue graph.")):
            yield GaugeMetricFamily(f"hypercorr_store_{name}", doc, value=value)


class Metrics:
    """The app's own registry (several apps in one process do not collide)."""

    def __init__(self, app: object):
        self.registry = CollectorRegistry()
        self.requests = Counter("hypercorr_http_requests", "HTTP requests by route template and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("hypercorr_http_request_duration_seconds", "Request latency by route template.",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.ingested = Counter("hypercorr_events_ingested", "Events accepted at ingest, by outcome.",
                                ["outcome"], registry=self.registry)
        self.registry.register(StoreSizes(app))

    def record_ingest(self, statuses: Sequence[str]) -> None:
        """Count one ingest call's outcomes ('created', 'unchanged')."""
        for outcome in ("created", "unchanged"):
            count = sum(s == outcome for s in statuses)
            if count:
                self.ingested.labels(outcome).inc(count)


class RequestObserver:
    """ASGI middleware: latency and count per route template, and one access-log line per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            state = scope.get("state")
            key_id = state.get("key_id") if isinstance(state, dict) else None
            log.info("request", extra={"fields": {"method": method, "route": route, "status": status,
                                                  "ms": round(elapsed * 1000, 2), "key": key_id}})


router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                                                                     "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    """Prometheus metrics: request counts and latency per route, ingest and query counters, store sizes."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
