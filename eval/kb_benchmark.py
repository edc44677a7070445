"""A knowledge-base benchmark built from Banking77: one article per intent, users with histories.

Construction (deterministic, no model involved in building the articles):

- **Articles** come from the *train* split only. For each intent, the train queries are scored by
  TF-IDF cosine to the intent's TF-IDF centroid and picked greedily with maximal marginal relevance
  (0.7 centrality, 0.3 novelty) until ARTICLE_SENTENCES (10) are chosen: the most typical questions,
  not ten rewordings of one. The title is the intent name ("card arrival"), the body those
  questions, one paragraph each (extractive: nothing is written by hand or by a model).
- **Queries** are the *test* split (40 per intent). Even positions within an intent form the dev
  half (used to set the ranking weights), odd positions the held-out half (reported, never tuned on).
- **Histories** (for the settings with history) use train queries *not* picked for the article:
  a simulated user who asks test query q of intent I earlier reported two other train queries of I
  (3 days and 1 day before) and, 20 days before, one train query of a random other intent (an old,
  unrelated problem). Every user is a separate `user_id`; all histories stream through the real
  engine, so narratives form across users as in production.
"""
from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

ARTICLE_SENTENCES = 10
MMR_CENTRALITY = 0.7
HISTORY_SAME_INTENT = 2


@dataclass(frozen=True)
class BenchArticle:
    """One knowledge-base article built from an intent's train queries."""

    id: str
    title: str
    body: str


@dataclass(frozen=True)
class BenchQuery:
    """A test query, its gold article, its half, and the simulated user's earlier reports (oldest first)."""

    id: str
    text: str
    gold: str
    half: str  # "dev" or "heldout"
    history: tuple[str, ...]


def read_split(path: Path) -> dict[str, list[str]]:
    """Banking77 CSV (text, category) as intent -> texts in file order."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            by_intent[row["category"]].append(row["text"].strip())
    return dict(by_intent)


def pick_typical(texts: list[str], count: int) -> list[int]:
    """Indices of `count` texts, central to the group yet different from each other (TF-IDF MMR)."""
    matrix = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    centroid = np.asarray(matrix.mean(axis=0)).ravel()
    centrality = matrix @ centroid / max(1e-12, float(np.linalg.norm(centroid)))
    similarity = (matrix @ matrix.T).toarray()
    chosen: list[int] = []
    while len(chosen) < min(count, len(texts)):
        novelty = similarity[:, chosen].max(axis=1) if chosen else np.zeros(len(texts))
        gain = MMR_CENTRALITY * centrality - (1 - MMR_CENTRALITY) * novelty
        gain[chosen] = -np.inf
        chosen.append(int(np.argmax(gain)))
    return chosen


def build_articles(train: dict[str, list[str]]) -> tuple[list[BenchArticle], dict[str, list[str]]]:
    """One article per intent, and each intent's train queries left over for histories."""
    articles, leftover = [], {}
    for intent in sorted(train):
        texts = train[intent]
        if len(texts) < 2 * HISTORY_SAME_INTENT + 1:
            raise ValueError(f"intent {intent!r} has {len(texts)} train queries; the benchmark needs at least "
                             f"{2 * HISTORY_SAME_INTENT + 1}")
        chosen = pick_typical(texts, min(ARTICLE_SENTENCES, len(texts) - 2 * HISTORY_SAME_INTENT))
        body = "\n\n".join(texts[i] for i in chosen)
        articles.append(BenchArticle(intent, intent.replace("_", " "), body))
        leftover[intent] = [t for i, t in enumerate(texts) if i not in set(chosen)]
    return articles, leftover


def build_queries(test: dict[str, list[str]], leftover: dict[str, list[str]], seed: int = 0,
                  per_intent: int | None = None) -> list[BenchQuery]:
    """Test queries with their simulated histories; `per_intent` keeps the first n of each intent."""
    rng = random.Random(seed)
    intents = sorted(test)
    queries = []
    for intent in intents:
        for position, text in enumerate(test[intent][:per_intent]):
            same = rng.sample(leftover[intent], HISTORY_SAME_INTENT)
            other = rng.choice([i for i in intents if i != intent])
            queries.append(BenchQuery(f"{intent}-{position:02d}", text, intent,
                                      "dev" if position % 2 == 0 else "heldout",
                                      (rng.choice(leftover[other]), *same)))
    return queries


def load_benchmark(folder: Path, per_intent: int | None = None) -> tuple[list[BenchArticle], list[BenchQuery]]:
    """Articles and queries from a Banking77 folder (train.csv, test.csv)."""
    missing = [n for n in ("train.csv", "test.csv") if not (folder / n).exists()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)} (expected the Banking77 CSV files)")
    articles, leftover = build_articles(read_split(folder / "train.csv"))
    return articles, build_queries(read_split(folder / "test.csv"), leftover, per_intent=per_intent)
