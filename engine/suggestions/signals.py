"""Relevance signals over the article matrix: each article's best match among a set of sources."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from context_store.kb_matrix import ArticleMatrix


@dataclass(frozen=True)
class Signal:
    """One signal's score per article (matrix column order), and what produced each score.

    `source[j]` is the index of the source row (a history event, a narrative, ...) that gave
    article j its score; `passage[j]` the article passage it matched (0 is the title).
    """

    name: str
    scores: np.ndarray
    raw: np.ndarray  # the cosine before source weights
    source: np.ndarray
    passage: np.ndarray


def best_match(name: str, matrix: ArticleMatrix, vectors: np.ndarray, weights: np.ndarray | None = None) -> Signal:
    """For every article: the best weighted cosine between one of `vectors` and one of its passages."""
    _, sims, passages = matrix.score(vectors)
    weights = np.ones(len(sims), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
    weighted = sims * weights[:, None]
    source = np.argmax(weighted, axis=0) if len(sims) else np.zeros(sims.shape[1], dtype=np.int64)
    columns = np.arange(sims.shape[1])
    if not len(sims):
        zeros = np.zeros(sims.shape[1], dtype=np.float32)
        return Signal(name, zeros, zeros, source, source)
    return Signal(name, weighted[source, columns], sims[source, columns], source, passages[source, columns])
