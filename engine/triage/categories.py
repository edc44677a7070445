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
CUE_CHARS = 2_000  # cue words are read from the start of the text (titles and first lines)


def cue_hits(text: str) -> dict[Category, int]:
    """How many distinct cue words of each category occur (capped at 2)."""
    head = text[:CUE_CHARS]
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
        self._owners: list[Category] = []

    def _prototypes(self) -> np.ndarray:
        if self._matrix is None:
            texts = [t for texts in PROTOTYPES.values() for t in texts]
            self._owners = [c for c, texts in PROTOTYPES.items() for _ in texts]
            vectors = np.asarray(self._embedder.embed(texts), dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            self._matrix = vectors / np.where(norms == 0, 1.0, norms)
        return self._matrix

    def scores(self, vector: np.ndarray, text: str) -> dict[Category, float]:
        """Each category's score: mean of its best two prototype cosines plus the cue bonus."""
        sims = self._prototypes() @ np.asarray(vector, dtype=np.float32)
        hits = cue_hits(text)
        out: dict[Category, float] = {}
        for category in Category:
            own = np.sort(sims[[i for i, c in enumerate(self._owners) if c is category]])[::-1][:2]
            out[category] = float(own.mean()) + CUE_BONUS * hits.get(category, 0)
        out[Category.other] -= OTHER_MARGIN
        for category in NEEDS_CUE:
            if not hits.get(category):
                out[category] -= OTHER_MARGIN
        return out

    def classify(self, vectors: np.ndarray, texts: Sequence[str]) -> list[Inferred]:
        """One category per report, with the softmax confidence and the top scores."""
        results: list[Inferred] = []
        for vector, text in zip(vectors, texts):
            scores = self.scores(vector, text)
            values = np.array(list(scores.values()))
            weights = np.exp((values - values.max()) / TEMPERATURE)
            probs = weights / weights.sum()
            ranked = sorted(zip(scores, probs), key=lambda pair: -pair[1])
            results.append(Inferred(ranked[0][0].value, float(ranked[0][1]),
                                    {"ranking": {c.value: round(float(p), 3) for c, p in ranked[:3]}}))
        return results
