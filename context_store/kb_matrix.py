"""Article passage vectors in memory: an exact matrix, scored as the best passage per article."""
from __future__ import annotations

import numpy as np


class ArticleMatrix:
    """Each article owns one or more passage vectors (normalised); a query scores its best passage.

    Knowledge bases are small (thousands of articles), so an exact matrix product beats any index.
    The stacked matrix is rebuilt lazily after a change.
    """

    def __init__(self, dim: int):
        self.dim = dim
        self._vectors: dict[str, np.ndarray] = {}
        self._ids: list[str] = []
        self._stacked = np.zeros((0, dim), dtype=np.float32)
        self._starts = np.zeros(0, dtype=np.int64)
        self._owners = np.zeros(0, dtype=np.int64)  # matrix column of each passage row
        self._dirty = False

    def put(self, article_id: str, vectors: np.ndarray) -> None:
        """Set an article's passage vectors (rows)."""
        self._vectors[article_id] = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        self._dirty = True

    def remove(self, article_id: str) -> None:
        """Forget an article's vectors."""
        if self._vectors.pop(article_id, None) is not None:
            self._dirty = True

    def _refresh(self) -> None:
        if not self._dirty:
            return
        self._ids = sorted(a for a, v in self._vectors.items() if len(v))
        blocks = [self._vectors[a] for a in self._ids]
        self._stacked = np.concatenate(blocks) if blocks else np.zeros((0, self.dim), dtype=np.float32)
        self._starts = np.cumsum([0] + [len(b) for b in blocks[:-1]]).astype(np.int64) if blocks \
            else np.zeros(0, dtype=np.int64)
        self._owners = np.repeat(np.arange(len(blocks)), [len(b) for b in blocks]).astype(np.int64)
        self._dirty = False

    @property
    def ids(self) -> list[str]:
        """Article ids in matrix column order."""
        self._refresh()
        return list(self._ids)

    def passages(self, article_id: str) -> np.ndarray:
        """One article's passage vectors (empty when unknown)."""
        return self._vectors.get(article_id, np.zeros((0, self.dim), dtype=np.float32))

    def score(self, queries: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Cosine of each query row to each article's best passage.

        Returns (article ids, scores of shape (queries, articles), best passage number per cell).
        """
        self._refresh()
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
        if not self._ids or not len(queries):
            empty = np.zeros((len(queries), len(self._ids)), dtype=np.float32)
            return list(self._ids), empty, empty.astype(np.int64)
        sims = queries @ self._stacked.T
        best = np.maximum.reduceat(sims, self._starts, axis=1)
        local = np.arange(sims.shape[1]) - np.repeat(self._starts, np.diff(np.append(self._starts, sims.shape[1])))
        at_best = np.where(sims >= best[:, self._owners], local[None, :], np.iinfo(np.int64).max)
        which = np.minimum.reduceat(at_best, self._starts, axis=1)  # the first passage reaching the best
        return list(self._ids), best, which

    def __len__(self) -> int:
        return len(self._vectors)

