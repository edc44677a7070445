"""`hypercorr eval suggestions`: knowledge-base suggestion quality on the Banking77 benchmark.

Settings (every one ranks all 77 articles for each test query; see eval/kb_benchmark.py):

- text, no history: the query from a user the engine knows nothing about;
- text + history: the same query from a user whose earlier reports carry signal;
- history only: no text (the support widget opens on the user's page);
- vague text + history: the query replaced by a vague phrase ("it still doesn't work"), so the
  history is the only signal;
- text + unrelated history: the query from a user whose recent reports are about another intent
  (history must not drown a clear question);
- vague text, no history: the floor (every user gets the same answer; chance is 1/77).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine import Engine, EventIn, Settings
from engine.kb.articles import ArticleIn
from eval.datasets import SHARED_DATASETS
from eval.kb_benchmark import BenchQuery, load_benchmark
from eval.report import print_table

BANKING77 = SHARED_DATASETS / "banking77"
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=timezone.utc)
HISTORY_OFFSETS = (timedelta(days=20), timedelta(days=3), timedelta(days=1))  # noise, then two same-intent
# Vague phrases: the dev half's set tuned the text gate; the held-out half gets phrases never tuned on.
VAGUE = {"dev": ("it still doesn't work", "any update on this?", "I have the same problem again",
                 "this is still not fixed"),
         "heldout": ("it's not working", "same issue as before", "please fix this", "why is this happening again?")}


@dataclass(frozen=True)
class Setting:
    """What a query carries: its own text, a vague phrase, or none; and whether the user has history."""

    name: str
    text: str | None  # "query", "vague" or None
    history: str | None  # "own" (carries signal), "other" (another intent's user: misleading) or None


SETTINGS = (Setting("text, no history", "query", None), Setting("text + history", "query", "own"),
            Setting("history only (no text)", None, "own"), Setting("vague text + history", "vague", "own"),
            Setting("text + unrelated history", "query", "other"), Setting("vague text, no history", "vague", None))


def rank_metrics(ranks: Sequence[int]) -> dict[str, float]:
    """hit@1, hit@5 and MRR from 1-based ranks of the gold article (0: not returned)."""
    n = max(1, len(ranks))
    return {"hit@1": sum(r == 1 for r in ranks) / n, "hit@5": sum(0 < r <= 5 for r in ranks) / n,
            "MRR": sum(1.0 / r for r in ranks if r > 0) / n}


def load_histories(engine: Engine, queries: Sequence[BenchQuery], batch: int = 256) -> None:
    """Every simulated user's earlier reports, streamed in time order (all old ones first)."""
    events = []
    for step, offset in enumerate(HISTORY_OFFSETS):
        for i, query in enumerate(queries):
            events.append(EventIn(id=f"{query.id}-h{step}", text=query.history[step], user_id=f"user-{query.id}",
                                  channel="chat", occurred_at=NOW - offset + timedelta(seconds=i)))
    for start in tqdm(range(0, len(events), batch), desc="histories", unit="batch", leave=False):
        engine.ingest(events[start:start + batch])


@dataclass(frozen=True)
class Prepared:
    """An engine holding the benchmark's articles and histories, and the queries' vectors."""

    engine: Engine
    articles: int
    queries: list[BenchQuery]
    query_vectors: np.ndarray
    vague_vectors: dict[str, np.ndarray]


def prepare(folder: Path = BANKING77, per_intent: int | None = None, engine: Engine | None = None) -> Prepared:
    """Build the benchmark into an engine (articles through the knowledge base, histories through ingest)."""
    articles, queries = load_benchmark(folder, per_intent)
    engine = engine or Engine(Settings(backend="memory"))
    engine.kb.add([ArticleIn(id=a.id, title=a.title, body=a.body) for a in articles])
    load_histories(engine, queries)
    return Prepared(engine, len(articles), queries, engine.embedder.embed([q.text for q in queries]),
                    {half: engine.embedder.embed(list(phrases)) for half, phrases in VAGUE.items()})


def _unrelated(queries: Sequence[BenchQuery], i: int) -> BenchQuery:
    """The query half the list away (another intent), whose user's history misleads for query i."""
    other = queries[(i + len(queries) // 2) % len(queries)]
    return other if other.gold != queries[i].gold else queries[(i + 1) % len(queries)]


def score(prepared: Prepared, settings: Sequence[Setting] = SETTINGS) -> dict[str, dict[str, dict[str, float]]]:
    """hit@1, hit@5 and MRR per setting, over all queries and per half."""
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for setting in settings:
        ranks: dict[str, list[int]] = {"dev": [], "heldout": []}
        for i, query in enumerate(tqdm(prepared.queries, desc=setting.name, unit="query", leave=False)):
            vague = prepared.vague_vectors[query.half]
            vector = {"query": prepared.query_vectors[i], "vague": vague[i % len(vague)], None: None}[setting.text]
            user = {"own": f"user-{query.id}", "other": f"user-{_unrelated(prepared.queries, i).id}",
                    None: f"nobody-{query.id}"}[setting.history]
            result = prepared.engine.suggester.for_user(user, k=prepared.articles, text_vector=vector)
            ranked = [s.article.id for s in result.suggestions]
            ranks[query.half].append(ranked.index(query.gold) + 1 if query.gold in ranked else 0)
        figures[setting.name] = {"all": rank_metrics(ranks["dev"] + ranks["heldout"]),
                                 "dev": rank_metrics(ranks["dev"]), "heldout": rank_metrics(ranks["heldout"])}
    return figures


def evaluate(folder: Path = BANKING77, per_intent: int | None = None) -> dict:
    """Build the benchmark and score every setting on the dev and held-out halves."""
    prepared = prepare(folder, per_intent)
    return {"articles": prepared.articles, "queries": len(prepared.queries), "settings": score(prepared)}


def run_suggestions_eval(folder: Path = BANKING77, per_intent: int | None = None, as_json: bool = False) -> dict:
    """Evaluate, print a table, and (with `as_json`) end with one JSON line."""
    result = evaluate(folder, per_intent)
    print(f"Knowledge-base suggestions on Banking77 ({result['articles']} articles from the train split, "
          f"{result['queries']} test queries; dev = even, held-out = odd positions per intent)")
    rows = []
    for name, halves in result["settings"].items():
        rows.append([name, *(f"{halves[h][m]:.3f}" for h in ("all", "heldout") for m in ("hit@1", "hit@5", "MRR"))])
    print_table(["setting", "hit@1", "hit@5", "MRR", "held-out hit@1", "held-out hit@5", "held-out MRR"], rows)
    if as_json:
        print(json.dumps(result))
    return result
