"""A growable float32 matrix addressed by event seq: title vectors served from memory."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

GROWTH_ROWS = 8192


class SeqMatrix:
    """Row `seq` holds that event's vector; unknown or erased seqs read as zeros."""

    def __init__(self, dim: int):
        self.dim = dim
        self._rows = np.zeros((0, dim), dtype=np.float32)

    def _ensure(self, max_seq: int) -> None:
        if max_seq >= len(self._rows):
            size = max(max_seq + 1, len(self._rows) + max(GROWTH_ROWS, len(self._rows) // 4))
            grown = np.zeros((size, self.dim), dtype=np.float32)
            grown[: len(self._rows)] = self._rows
            self._rows = grown

    def put(self, seqs: Sequence[int], vectors: np.ndarray) -> None:
        """Set the rows of `seqs`."""
        if len(seqs):
            self._ensure(int(max(seqs)))
            self._rows[np.asarray(seqs, dtype=np.int64)] = vectors

    def clear(self, seqs: Sequence[int]) -> None:
        """Zero the rows of `seqs` (erasure)."""
        inside = [s for s in seqs if 0 <= s < len(self._rows)]
        self._rows[inside] = 0.0

    def get(self, seqs: Sequence[int]) -> np.ndarray:
        """Rows of `seqs` in order (zeros for unknown seqs)."""
        index = np.asarray(seqs, dtype=np.int64)
        out = np.zeros((len(index), self.dim), dtype=np.float32)
        inside = (index >= 0) & (index < len(self._rows))
        out[inside] = self._rows[index[inside]]
        return out
