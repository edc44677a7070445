"""`hypercorr eval retrieval`: related-earlier-report retrieval on a duplicate-bug set.

The reports are ingested through the engine in time order (in-memory store, real model);
each query then asks the engine for related reports created strictly before it. Two plain
baselines run on the same data in the same process: TF-IDF cosine and MiniLM cosine (the
engine's own stored vectors, so both sides see identical embeddings).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from tqdm import tqdm

from engine import Engine, EventIn, RelatedFilters, RelevanceWeights, Settings
from engine.events import MAX_TEXT_CHARS, MAX_TITLE_CHARS
from eval.datasets import Report, RetrievalQuery, load_retrieval_set
from eval.metrics import summarise
from eval.report import print_table

RANK_DEPTH = 100  # MAP counts gold ids found in the first RANK_DEPTH results


def _as_event(report: Report) -> EventIn:
    return EventIn(id=report.id, kind="feedback", channel="ticket", occurred_at=report.created,
                   title=report.title[:MAX_TITLE_CHARS], text=report.description[:MAX_TEXT_CHARS] or report.title)


def ingest_reports(engine: Engine, reports: Sequence[Report], batch: int = 128) -> None:
    """Stream the reports through the engine in time order."""
    for start in tqdm(range(0, len(reports), batch), desc="ingest", unit="batch", leave=False):
        engine.ingest([_as_event(r) for r in reports[start:start + batch]])


def _baseline_rankings(reports: Sequence[Report], queries: Sequence[RetrievalQuery],
                       vectors: np.ndarray) -> dict[str, list[tuple[list[str], set[str]]]]:
    ids = [r.id for r in reports]
    position = {rid: i for i, rid in enumerate(ids)}
    created = np.array([r.created.timestamp() for r in reports])
    tfidf = TfidfVectorizer(sublinear_tf=True).fit_transform([f"{r.title}\n{r.description}" for r in reports])
    out: dict[str, list[tuple[list[str], set[str]]]] = {"tfidf": [], "minilm": []}
    for query in queries:
        row = position[query.query_id]
        earlier = np.flatnonzero(created < query.created.timestamp())
        for name, scores in (("tfidf", (tfidf[earlier] @ tfidf[row].T).toarray().ravel()),
                             ("minilm", vectors[earlier] @ vectors[row])):
            order = earlier[np.argsort(-scores, kind="stable")][:RANK_DEPTH]
            out[name].append(([ids[i] for i in order], set(query.gold)))
    return out


def evaluate(folder: Path, weights: RelevanceWeights | None = None,
             engine: Engine | None = None) -> dict[str, object]:
    """Run the evaluation; returns the figures (fractions 0-1) with the baselines."""
    reports, queries = load_retrieval_set(folder)
    known = {r.id for r in reports}
    queries = [q for q in queries if q.query_id in known]
    engine = engine or Engine(Settings(backend="memory"), weights=weights)
    if engine.stats().events == 0:
        ingest_reports(engine, reports)
    elif weights is not None:
        engine.ranker.weights = weights
    rankings = []
    for query in tqdm(queries, desc="queries", unit="query", leave=False):
        hits = engine.related(query.query_id, RANK_DEPTH, RelatedFilters(earlier_only=True))
        rankings.append(([h.event.id for h in hits], set(query.gold)))
    seqs = [engine.store.get_event(r.id).seq for r in reports]  # type: ignore[union-attr]
    baselines = _baseline_rankings(reports, queries, engine.store.get_vectors(seqs))
    return {**summarise(rankings), "queries": len(queries),
            "baselines": {name: summarise(r) for name, r in baselines.items()}}


def run_retrieval_eval(folder: Path, as_json: bool = False) -> dict[str, object]:
    """Evaluate, print a table, and (with `as_json`) end with one JSON line."""
    result = evaluate(folder)
    columns = ["RR@1", "RR@5", "RR@10", "MAP"]
    rows = [["hypercorr (hybrid + context)", *(f"{result[c]:.3f}" for c in columns)]]
    for name, figures in result["baselines"].items():  # type: ignore[union-attr]
        rows.append([f"baseline: {name}", *(f"{figures[c]:.3f}" for c in columns)])
    print(f"Related-report retrieval on {folder} ({result['queries']} queries, ranked over earlier reports)")
    print_table(["system", *columns], rows)
    if as_json:
        print(json.dumps(result))
    return result
