"""The FastAPI application: the engine is built once at start-up and closed at shutdown."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.mcp.access import KeyVerifier
from api.mcp.http import mount_mcp
from api.protection import protect
from api.routes import admin, anomalies, events, health, kb, narratives, operations, people, topology, triage
from api.schemas import EventBatchIn
from context_store.api_keys import KeyTable
from engine import Engine, EventIn, Settings
from engine.heap import freeze_loaded_state
from engine.ops.alertmanager import AlertmanagerWebhook
from engine.ops.changes import ChangeIn
from engine.ops.topology import TopologyIn

log = logging.getLogger("hypercorr.api")


def create_app(settings: Settings | None = None, engine_factory: Callable[[Settings], Engine] | None = None,
               on_ready: Callable[[Engine], None] | None = None, mcp_verifier: KeyVerifier | None = None,
               bind_host: str = "127.0.0.1", keys: KeyTable | None = None) -> FastAPI:
    """Build the app; `engine_factory` lets tests inject an engine, `on_ready` runs after start-up.

    `bind_host` is the address the server listens on (open without keys only on loopback);
    `keys` the API key table (default: the data directory's); `mcp_verifier` maps an API key to
    its scopes for /mcp (default: the same keys and scopes as the rest of the API).
    """
    settings = settings or Settings()
    factory = engine_factory or (lambda s: Engine(s))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = factory(settings)
        app.state.engine = engine
        try:
            if on_ready is not None:
                on_ready(engine)
            freeze_loaded_state()  # the loaded indexes live as long as the process
            log.info("hypercorr ready", extra={"fields": {"events": engine.stats().events, "backend": settings.backend}})
            async with mcp.running():
                yield
        finally:
            engine.close()

    app = FastAPI(title="hypercorr", version="0.1.0", lifespan=lifespan,
                  description="Context-aware correlation of hypercare reports: related reports with evidence.")
    install_error_handlers(app)
    protect(app, settings, bind_host, keys)
    for router in (events.router, narratives.router, people.router, health.router, anomalies.router,
                   operations.router, topology.router, triage.router, kb.router, admin.router):
        app.include_router(router)
    _register_request_models(app)
    mcp = mount_mcp(app, mcp_verifier or app.state.auth.scopes_for, settings.mcp_allowed_hosts)
    return app


def _register_request_models(app: FastAPI) -> None:
    """Expose the event models in the OpenAPI components (the ingest body refers to them)."""
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (EventIn, EventBatchIn, AlertmanagerWebhook, ChangeIn, TopologyIn):
            definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(definition.pop("$defs", {}))
            components[model.__name__] = definition
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
