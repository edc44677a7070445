"""Knowledge-base calls for the CLI: in-process on a data directory, or a running server by URL."""
from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from api.client import ClientError, HttpClient
from api.kb_schemas import ArticleItemOut, ArticleListOut, ArticleOut, GapOut, GapsOut, SuggestionsOut
from engine import Engine
from engine.errors import ConflictError, NotFoundError
from engine.kb.articles import ArticleContent, ArticleIn
from engine.suggestions.gaps import coverage_gaps


class KbClient(Protocol):
    """What the `kb` commands need."""

    def add(self, articles: list[ArticleIn]) -> list[dict[str, Any]]: ...
    def put(self, article: ArticleIn) -> dict[str, Any]: ...
    def articles(self, params: dict[str, Any]) -> dict[str, Any]: ...
    def suggestions(self, user_id: str, params: dict[str, Any]) -> dict[str, Any]: ...
    def gaps(self, params: dict[str, Any]) -> dict[str, Any]: ...
    def close(self) -> None: ...


class LocalKbClient:
    """The engine in this process."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, articles: list[ArticleIn]) -> list[dict[str, Any]]:
        """Store new articles all-or-nothing (409 names conflicting ids)."""
        try:
            return [ArticleItemOut.of(o).model_dump() for o in self.engine.kb.add(articles)]
        except ConflictError as exc:
            raise ClientError(409, {"ids": exc.ids}) from exc

    def put(self, article: ArticleIn) -> dict[str, Any]:
        """Create or replace one article."""
        content = ArticleContent(**article.model_dump(exclude={"id"}))
        return ArticleItemOut.of(self.engine.kb.put(article.id, content)).model_dump()

    def articles(self, params: dict[str, Any]) -> dict[str, Any]:
        """A page of articles."""
        page, total = self.engine.kb.page(params["limit"], params["offset"], params.get("system"), params.get("tag"))
        return ArticleListOut(articles=[ArticleOut.of(a) for a in page], total=total, limit=params["limit"],
                              offset=params["offset"]).model_dump(mode="json")

    def suggestions(self, user_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Suggestions for a user."""
        result = self.engine.suggester.for_user(user_id, params.get("text"), params["k"], params.get("systems") or ())
        return SuggestionsOut.of(user_id, result).model_dump(mode="json")

    def gaps(self, params: dict[str, Any]) -> dict[str, Any]:
        """Uncovered active narratives."""
        try:
            found = coverage_gaps(self.engine.suggester, self.engine.narrative_reader, **params)
        except NotFoundError as exc:
            raise ClientError(404, str(exc)) from exc
        return GapsOut(threshold=params["threshold"], gaps=[GapOut.of(g) for g in found]).model_dump(mode="json")

    def close(self) -> None:
        """Close the engine."""
        self.engine.close()


class HttpKbClient(HttpClient):
    """A running hypercorr server (transport, API key and errors as `HttpClient`)."""

    def add(self, articles: list[ArticleIn]) -> list[dict[str, Any]]:
        """POST a batch."""
        return self._call("POST", "/v1/kb/articles",
                          json={"articles": [a.model_dump(mode="json") for a in articles]})["results"]

    def put(self, article: ArticleIn) -> dict[str, Any]:
        """PUT one article."""
        return self._call("PUT", f"/v1/kb/articles/{quote(article.id, safe='')}",
                          json=article.model_dump(mode="json", exclude={"id"}))

    def articles(self, params: dict[str, Any]) -> dict[str, Any]:
        """GET a page of articles."""
        return self._call("GET", "/v1/kb/articles", params={k: v for k, v in params.items() if v is not None})

    def suggestions(self, user_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """GET suggestions for a user."""
        return self._call("GET", f"/v1/users/{quote(user_id, safe='')}/suggestions",
                          params={k: v for k, v in params.items() if v is not None})

    def gaps(self, params: dict[str, Any]) -> dict[str, Any]:
        """GET knowledge-base gaps."""
        return self._call("GET", "/v1/kb/gaps", params=params)
