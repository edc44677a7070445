"""Declare the error answers every operation can give in the served OpenAPI document.

They come from shared machinery (auth, limits, engine errors mapped in `api/errors.py`), not
from the routes, so they are added here to every operation, including routes added later.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA = {"title": "ErrorOut", "type": "object", "required": ["detail"],
                "properties": {"detail": {"title": "Detail"}}}
SECURED = {"401": "No API key, or an unknown or revoked one", "403": "The key lacks the scope this operation needs",
           "404": "An id in the path or body does not exist", "429": "The key's rate limit is exceeded (see Retry-After)"}
WITH_BODY = {"400": "The body could not be read (e.g. not UTF-8)", "413": "Body larger than the limit, or too many events",
             "422": "A field is invalid; `detail` names it (routes that parse their own body declare no 422)"}
WRITES = {"409": "Conflicts with stored state (an id with other content, or an edit that cannot apply)"}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}


def _error(description: str, status: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description,
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    if status == "429":
        answer["headers"] = RETRY_AFTER
    return answer


def add_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Add 4xx answers to each operation by what it has: security, a body, a write method."""
    schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = ERROR_SCHEMA
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors: dict[str, str] = {}
            if operation.get("security"):
                errors |= SECURED
            if "requestBody" in operation:
                errors |= WITH_BODY
            if method in ("post", "put", "patch"):
                errors |= WRITES
            for status, description in errors.items():
                operation["responses"].setdefault(status, _error(description, status))
    return schema


def document_errors(app: FastAPI) -> None:
    """Wrap `app.openapi` so the generated document carries the shared error answers."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        app.openapi_schema = add_error_responses(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
