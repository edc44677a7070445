"""One client facade for the CLI: in-process on a data directory, or a running server by URL.

Both return the same JSON-shaped dicts as the HTTP API, so the CLI prints one format.
"""
from __future__ import annotations

from typing import Any, Protocol

from urllib.parse import quote

import httpx

from api.narrative_schemas import NarrativeListOut, NarrativeOut, NarrativeSummaryOut
from api.schemas import IngestItemOut, IngestOut, RelatedOut
from engine import Engine, EventIn, RelatedFilters
from engine.narratives.queries import NarrativeQuery
from engine.errors import BatchTooLargeError, ConflictError, NotFoundError


class ClientError(Exception):
    """A request the service refused, with its status and message."""

    def __init__(self, status: int, detail: Any):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class HypercorrClient(Protocol):
    """What the CLI needs from hypercorr."""

    def ingest(self, events: list[EventIn]) -> dict[str, Any]: ...
    def related(self, event_id: str, k: int) -> list[dict[str, Any]]: ...
    def search(self, text: str, k: int) -> list[dict[str, Any]]: ...
    def narratives(self, params: dict[str, Any]) -> dict[str, Any]: ...
    def narrative(self, narrative_id: str) -> dict[str, Any]: ...
    def close(self) -> None: ...


class LocalClient:
    """Runs the engine in this process (the data directory must not be served meanwhile)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def ingest(self, events: list[EventIn]) -> dict[str, Any]:
        """Store a batch all-or-nothing."""
        try:
            outcomes = self.engine.ingest(events)
        except ConflictError as exc:
            raise ClientError(409, {"ids": exc.ids}) from exc
        except BatchTooLargeError as exc:
            raise ClientError(413, str(exc)) from exc
        created = sum(o.status == "created" for o in outcomes)
        return IngestOut(created=created, unchanged=len(outcomes) - created,
                         results=[IngestItemOut(id=o.id, status=o.status, narrative_id=o.narrative_id) for o in outcomes]).model_dump(mode="json")

    def related(self, event_id: str, k: int) -> list[dict[str, Any]]:
        """Related reports of a stored event."""
        try:
            hits = self.engine.related(event_id, k, RelatedFilters())
        except NotFoundError as exc:
            raise ClientError(404, str(exc)) from exc
        return [RelatedOut.of(h).model_dump(mode="json") for h in hits]

    def search(self, text: str, k: int) -> list[dict[str, Any]]:
        """Related reports of a free text."""
        return [RelatedOut.of(h).model_dump(mode="json") for h in self.engine.search(text, k)]

    def narratives(self, params: dict[str, Any]) -> dict[str, Any]:
        """A page of narratives (same parameters as GET /v1/narratives)."""
        query = NarrativeQuery(**params)
        found = self.engine.list_narratives(query)
        return NarrativeListOut(narratives=[NarrativeSummaryOut.of(r, v) for r, v in found], limit=query.limit,
                                offset=query.offset).model_dump(mode="json")

    def narrative(self, narrative_id: str) -> dict[str, Any]:
        """One narrative in full."""
        try:
            return NarrativeOut.of_detail(self.engine.narrative(narrative_id)).model_dump(mode="json")
        except NotFoundError as exc:
            raise ClientError(404, str(exc)) from exc

    def close(self) -> None:
        """Close the engine (writes the vector snapshot)."""
        self.engine.close()


class HttpClient:
    """Talks to a running hypercorr server."""

    def __init__(self, url: str, timeout: float = 120.0, api_key: str | None = None):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers=headers)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text
            raise ClientError(response.status_code, detail)
        return response.json()

    def ingest(self, events: list[EventIn]) -> dict[str, Any]:
        """POST a batch."""
        return self._call("POST", "/v1/events",
                          json={"events": [e.model_dump(mode="json", exclude_none=True) for e in events]})

    def related(self, event_id: str, k: int) -> list[dict[str, Any]]:
        """GET related reports."""
        return self._call("GET", f"/v1/events/{quote(event_id, safe='')}/related", params={"k": k})

    def search(self, text: str, k: int) -> list[dict[str, Any]]:
        """POST a search."""
        return self._call("POST", "/v1/search", json={"text": text, "k": k})

    def narratives(self, params: dict[str, Any]) -> dict[str, Any]:
        """GET a page of narratives."""
        return self._call("GET", "/v1/narratives", params={k: v for k, v in params.items() if v is not None})

    def narrative(self, narrative_id: str) -> dict[str, Any]:
        """GET one narrative."""
        return self._call("GET", f"/v1/narratives/{quote(narrative_id, safe='')}")

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()
