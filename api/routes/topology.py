"""The service dependency graph: replace it (JSON or YAML) and read it back."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.auth import ADMIN, READ
from api.deps import EngineDep
from api.errors import request_errors
from api.ops_schemas import TopologyOut
from engine.ops.topology import YAML_TYPES, TopologyFormatError, TopologyIn, parse_document

router = APIRouter(prefix="/v1", tags=["operations"])
MAX_BODY_BYTES = 5_000_000
_SCHEMA = {"$ref": "#/components/schemas/TopologyIn"}  # registered in api/app.py
_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    kind: {"schema": _SCHEMA} for kind in ("application/json", *YAML_TYPES[:1])}}}


@router.put("/topology", dependencies=[ADMIN], response_model=TopologyOut, openapi_extra=_BODY)
async def put_topology(engine: EngineDep, request: Request) -> TopologyOut:
    """Replace the dependency graph: `{"systems": {"web": {"depends_on": ["api"]}, "api": ["db"]}}`,
    as JSON or (Content-Type application/yaml) YAML. Linking and suspect changes use it at once."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise RequestValidationError([{"type": "too_long", "loc": ("body",),
                                       "msg": f"topology documents are limited to {MAX_BODY_BYTES} bytes"}])
    try:
        document = parse_document(body, request.headers.get("content-type", "application/json"))
        topology = TopologyIn.model_validate(document)
    except TopologyFormatError as exc:
        raise RequestValidationError([{"type": "format", "loc": ("body",), "msg": str(exc)}]) from exc
    except ValidationError as exc:
        raise request_errors(exc, "body") from exc
    engine.set_topology(topology.as_mapping())
    return TopologyOut.of(*engine.topology())


@router.get("/topology", dependencies=[READ], response_model=TopologyOut)
def get_topology(engine: EngineDep) -> TopologyOut:
    """The stored dependency graph (empty until one was PUT)."""
    return TopologyOut.of(*engine.topology())
