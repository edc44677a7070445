"""Every error leaves the API as JSON: {"detail": ...} with the offending field named."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from engine.errors import BatchTooLargeError, ConflictError, NotFoundError, NotTriagedError
from engine.narratives.editing import EditError

log = logging.getLogger("hypercorr.api")


def request_errors(exc: ValidationError, *prefix: str | int) -> RequestValidationError:
    """A pydantic error re-rooted at `prefix` (e.g. "body"), with only JSON-safe parts kept."""
    return RequestValidationError([
        {"type": e["type"], "loc": (*prefix, *e["loc"]), "msg": e["msg"]} for e in exc.errors()
    ])


def install_error_handlers(app: FastAPI) -> None:
    """Map engine errors to HTTP statuses and never leak a stack trace."""

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": {
            "message": "these ids already exist with different content; nothing was stored",
            "ids": exc.ids}})

    @app.exception_handler(EditError)
    async def _edit(_: Request, exc: EditError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(NotTriagedError)
    async def _not_triaged(_: Request, exc: NotTriagedError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(BatchTooLargeError)
    async def _too_large(_: Request, exc: BatchTooLargeError) -> JSONResponse:
        return JSONResponse(status_code=413, content={"detail": str(exc)})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", "unmatched")  # a template: no ids from the path
        log.exception("unhandled error", extra={"fields": {"method": request.method, "route": route}})
        return JSONResponse(status_code=500, content={"detail": "internal error; see the server log"})
