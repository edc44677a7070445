"""Operational context in: Alertmanager notifications and change events."""
from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ValidationError

from api.auth import INGEST
from api.deps import EngineDep
from api.errors import request_errors
from api.ops_schemas import AlertResultOut, AlertWebhookOut
from api.schemas import IngestItemOut, IngestOut
from engine.ops.alertmanager import AlertmanagerWebhook
from engine.ops.changes import ChangeIn

router = APIRouter(prefix="/v1", tags=["operations"], dependencies=[INGEST])
Model = TypeVar("Model", bound=BaseModel)


def _validated(model: type[Model], payload: Any) -> Model:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise request_errors(exc, "body") from exc


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The request body documented by reference (api/app.py registers the model's schema)."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


@router.post("/webhooks/alertmanager", response_model=AlertWebhookOut, openapi_extra=_body_schema(AlertmanagerWebhook))
def alertmanager_webhook(engine: EngineDep, payload: Annotated[Any, Body(include_in_schema=False)]) -> AlertWebhookOut:
    """Prometheus Alertmanager's webhook (payload version 4): each alert becomes an `alert` event;
    a re-sent alert is a no-op and a resolved one updates its event (status, ends_at)."""
    outcomes = engine.ingest_alertmanager(_validated(AlertmanagerWebhook, payload))
    counts = {s: sum(o.status == s for o in outcomes) for s in ("created", "updated", "unchanged")}
    return AlertWebhookOut(**counts, results=[AlertResultOut(id=o.id, status=o.status, alert_status=o.alert_status,
                                                             narrative_id=o.narrative_id) for o in outcomes])


@router.post("/changes", response_model=IngestOut, status_code=201, openapi_extra=_body_schema(ChangeIn),
             responses={200: {"model": IngestOut, "description": "The change was already stored"}})
def post_change(engine: EngineDep, response: Response,
                payload: Annotated[Any, Body(include_in_schema=False)]) -> IngestOut:
    """A deployment, configuration change or feature flag as a `change` event (201; 200 when already stored)."""
    change = _validated(ChangeIn, payload)
    try:
        event = change.to_event()
    except ValidationError as exc:
        raise request_errors(exc, "body") from exc
    outcome = engine.ingest([event])[0]
    if outcome.status == "unchanged":
        response.status_code = 200
    return IngestOut(created=int(outcome.status == "created"), unchanged=int(outcome.status == "unchanged"),
                     results=[IngestItemOut(id=outcome.id, status=outcome.status, narrative_id=outcome.narrative_id)])
