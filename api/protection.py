"""Wire authentication, limits and observability into an app (one call from `create_app`)."""
from __future__ import annotations

from fastapi import FastAPI

from api import observability
from api.auth import Authenticator, is_loopback
from api.body_limit import BodySizeLimit
from api.openapi_errors import document_errors
from api.rate_limit import RateLimiter
from context_store.api_keys import KeyTable
from engine import Settings


def protect(app: FastAPI, settings: Settings, bind_host: str, keys: KeyTable | None = None) -> None:
    """Keys and scopes (`app.state.auth`), body-size limit, per-route metrics and access log, `/metrics`.

    The key table defaults to the data directory's database (in memory for the memory backend).
    """
    keys = keys or KeyTable.open(settings.data_dir if settings.backend == "embedded" else None)
    app.state.auth = Authenticator(keys, is_loopback(bind_host),
                                   RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst))
    app.state.metrics = observability.Metrics(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(observability.RequestObserver, metrics=app.state.metrics)  # outermost: sees 413s too
    app.include_router(observability.router)
    document_errors(app)
