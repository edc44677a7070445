"""Knowledge base: articles, verdicts, coverage gaps; suggestions for a user or a narrative."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.auth import ADMIN, INGEST, READ
from api.deps import EngineDep
from api.errors import request_errors
from api.kb_schemas import (ArticleBatchIn, ArticleItemOut, ArticleListOut, ArticleOut, ArticlePutIn, ArticleWriteOut,
                            GapOut, GapsOut, KbFeedbackOut, SuggestionsOut)
from engine.events import MAX_TEXT_CHARS
from engine.kb.articles import ArticleContent, ArticleIn, KbFeedbackIn
from engine.suggestions.gaps import DEFAULT_COVERAGE, coverage_gaps

router = APIRouter(prefix="/v1", tags=["knowledge base"])
K = Annotated[int, Query(ge=1, le=100)]


def _article_schema() -> dict[str, Any]:
    single = ArticleIn.model_json_schema()
    batch = {"type": "object", "required": ["articles"], "additionalProperties": False,
             "properties": {"articles": {"type": "array", "items": single, "minItems": 1, "maxItems": 1000}}}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [single, batch]}}}}}


def _parse_articles(payload: Any) -> list[ArticleIn]:
    model = ArticleBatchIn if isinstance(payload, dict) and "articles" in payload else ArticleIn
    try:
        parsed = model.model_validate(payload)
    except ValidationError as exc:
        raise request_errors(exc, "body") from exc
    return parsed.articles if isinstance(parsed, ArticleBatchIn) else [parsed]


@router.post("/kb/articles", dependencies=[ADMIN], response_model=ArticleWriteOut, status_code=201, openapi_extra=_article_schema(),
             responses={200: {"model": ArticleWriteOut, "description": "Nothing new: every article was already stored"}})
def post_articles(engine: EngineDep, response: Response,
                  payload: Annotated[Any, Body(include_in_schema=False)]) -> ArticleWriteOut:
    """Store one article, or `{"articles": [...]}` all-or-nothing. The same content again is a no-op;
    other content under a stored id is 409 (use PUT to change an article)."""
    outcomes = engine.kb.add(_parse_articles(payload))
    created = sum(o.status == "created" for o in outcomes)
    if not created:
        response.status_code = 200
    return ArticleWriteOut(created=created, unchanged=len(outcomes) - created,
                           results=[ArticleItemOut.of(o) for o in outcomes])


@router.get("/kb/articles", dependencies=[READ], response_model=ArticleListOut)
def list_articles(engine: EngineDep, system: str | None = None, tag: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50,
                  offset: Annotated[int, Query(ge=0)] = 0) -> ArticleListOut:
    """Articles in id order, optionally only those about a system or carrying a tag."""
    page, total = engine.kb.page(limit, offset, system, tag)
    return ArticleListOut(articles=[ArticleOut.of(a) for a in page], total=total, limit=limit, offset=offset)


@router.get("/kb/articles/{article_id}", dependencies=[READ], response_model=ArticleOut)
def get_article(engine: EngineDep, article_id: str) -> ArticleOut:
    """One article."""
    return ArticleOut.of(engine.kb.get(article_id))


@router.put("/kb/articles/{article_id}", dependencies=[ADMIN], response_model=ArticleItemOut,
            responses={201: {"model": ArticleItemOut, "description": "The article did not exist and was created"}})
def put_article(engine: EngineDep, article_id: str, body: ArticlePutIn, response: Response) -> ArticleItemOut:
    """Create or replace an article; its passages are re-embedded only when title or body changed."""
    if body.id is not None and body.id != article_id:
        raise RequestValidationError([{"type": "value_error", "loc": ("body", "id"),
                                       "msg": f"id {body.id!r} does not match the path's {article_id!r}"}])
    try:
        ArticleIn(id=article_id, **body.model_dump(exclude={"id"}))
    except ValidationError as exc:
        raise request_errors(exc, "path") from exc
    outcome = engine.kb.put(article_id, ArticleContent(**body.model_dump(exclude={"id"})))
    if outcome.status == "created":
        response.status_code = 201
    return ArticleItemOut.of(outcome)


@router.delete("/kb/articles/{article_id}", dependencies=[ADMIN], response_model=ArticleItemOut)
def delete_article(engine: EngineDep, article_id: str) -> ArticleItemOut:
    """Remove an article, its vectors and the verdicts on it (404 when unknown)."""
    engine.kb.delete(article_id)
    return ArticleItemOut(id=article_id, status="deleted")


@router.post("/kb/feedback", dependencies=[INGEST], response_model=KbFeedbackOut, status_code=201)
def post_feedback(engine: EngineDep, body: KbFeedbackIn) -> KbFeedbackOut:
    """Record that a user found an article helpful, not helpful, or saw it; later suggestions use it."""
    return KbFeedbackOut.of(engine.kb.feedback(body))


@router.get("/kb/gaps", dependencies=[READ], response_model=GapsOut)
def gaps(engine: EngineDep, threshold: Annotated[float, Query(gt=0, le=1)] = DEFAULT_COVERAGE,
         min_size: Annotated[int, Query(ge=1)] = 2, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> GapsOut:
    """Emerging and active narratives whose best article fits below `threshold` (cosine), largest first."""
    found = coverage_gaps(engine.suggester, engine.narrative_reader, threshold, min_size, limit)
    return GapsOut(threshold=threshold, gaps=[GapOut.of(g) for g in found])


@router.get("/users/{user_id}/suggestions", dependencies=[READ], response_model=SuggestionsOut)
def user_suggestions(engine: EngineDep, user_id: str, k: K = 5,
                     text: Annotated[str | None, Query(max_length=MAX_TEXT_CHARS)] = None,
                     systems: Annotated[list[str], Query(max_length=50)] = []) -> SuggestionsOut:  # noqa: B006
    """Articles for this user now, each with its reasons: fit to `text` (optional), to their recent
    reports and open narratives, and to their systems; trending on their systems when nothing is known."""
    return SuggestionsOut.of(user_id, engine.suggester.for_user(user_id, text, k, systems))


@router.get("/narratives/{narrative_id}/suggestions", dependencies=[READ], response_model=SuggestionsOut)
def narrative_suggestions(engine: EngineDep, narrative_id: str, k: K = 5) -> SuggestionsOut:
    """Articles that fit a narrative, raised where they helped people with similar narratives."""
    return SuggestionsOut.of(narrative_id, engine.suggester.for_narrative(narrative_id, k))
