"""Category by similarity to labelled descriptions (prototypes), sharpened by cue words.

The event's stored vector is compared with the normalised prototype vectors (embedded once per
process); each category scores the mean of its two best prototype similarities, plus a bonus
when its cue words occur in the text; `other` (the fallback) carries a handicap, and so does
`documentation_error` unless the text names documentation (its descriptions otherwise attract
any technical report). A softmax over the scores gives the confidence.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.embedder import Embedder
from engine.triage.category_lexicon import CUES, PROTOTYPES
from engine.triage.model import Category, Inferred

CUE_BONUS = 0.06  # one cue match is worth this much cosine
OTHER_MARGIN = 0.08  # "other" is the fallback: it wins only by this much over a real category
NEEDS_CUE = (Category.documentation_error,)  # only when the text names documentation (else handicapped)
TEMPERATURE = 0.04  # softmax temperature over cosine-scale scores
CUE_CHARS = 1_500  # cue words are read from the start of the text (titles and first lines)


def cue_hits(text: str) -> dict[Category, int]:
    """How many distinct cue words of each category occur (capped at 2)."""
    head = text[:CUE_CHARS].lower()
    return {c: min(2, len({m.group(0).lower() for m in pattern.finditer(head)})) for c, pattern in CUES.items()}


def keyword_category(text: str) -> Category:
    """The keyword-rules baseline: the category with most cue words, `other` when none."""
    hits = cue_hits(text)
    best = max(hits, key=lambda c: hits[c])
    return best if hits[best] else Category.other


class CategoryClassifier:
    """Zero-shot category from the report vector (no extra embedding per report)."""

    def __init__(self, embedder: Embedder):
        self._embedder = embedder
        self._matrix: np.ndarray | None = None
        self._columns: dict[Category, np.ndarray] = {}

    def _prototypes(self) -> np.ndarray:
        if self._matrix is None:
            texts = [t for texts in PROTOTYPES.values() for t in texts]
            owners = [c for c, texts in PROTOTYPES.items() for _ in texts]
            self._columns = {c: np.array([i for i, o in enumerate(owners) if o is c]) for c in Category}
            vectors = np.asarray(self._embedder.embed(texts), dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            self._matrix = vectors / np.where(norms == 0, 1.0, norms)
        return self._matrix

    def score_matrix(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Scores (reports x categories, in `Category` order): mean of the best two prototype
        cosines, plus the cue bonus, minus the handicaps."""
        sims = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1) @ self._prototypes().T
        out = np.zeros((len(texts), len(Category)), dtype=np.float64)
        for j, category in enumerate(Category):
            own = np.sort(sims[:, self._columns[category]], axis=1)[:, ::-1][:, :2]
            out[:, j] = own.mean(axis=1)
        for row, text in enumerate(texts):
            hits = cue_hits(text)
            for j, category in enumerate(Category):
                out[row, j] += CUE_BONUS * hits.get(category, 0)
                if category is Category.other or (category in NEEDS_CUE and not hits.get(category)):
                    out[row, j] -= OTHER_MARGIN
        return out

    def scores(self, vector: np.ndarray, text: str) -> dict[Category, float]:
        """One report's score per category."""
        return dict(zip(Category, self.score_matrix(np.asarray(vector)[None, :], [text])[0].tolist()))

    def classify(self, vectors: np.ndarray, texts: Sequence[str]) -> list[Inferred]:
        """One category per report, with the softmax confidence and the top three."""
        if not len(texts):
            return []
        values = self.score_matrix(vectors, texts)
        weights = np.exp((values - values.max(axis=1, keepdims=True)) / TEMPERATURE)
        probs = weights / weights.sum(axis=1, keepdims=True)
        categories = list(Category)
        results: list[Inferred] = []
        for row in probs:
            order = np.argsort(-row)[:3]
            results.append(Inferred(categories[order[0]].value, float(row[order[0]]),
                                    {"ranking": {categories[k].value: round(float(row[k]), 3) for k in order}}))
        return results
