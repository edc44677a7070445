"""A tiny deterministic embedder for narrow unit tests (never a stand-in for the real model)."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from engine.text import tokens


class HashingEmbedder:
    """Bag-of-words hashed into `dim` buckets, L2-normalised."""

    def __init__(self, dim: int = 64):
        self.dim = dim
        self.name = f"test-hashing-{dim}"
        self.calls = 0
        self.texts: list[str] = []  # everything embedded so far

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Deterministic vectors: texts sharing words point the same way."""
        self.calls += 1
        self.texts.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokens(text):
                bucket = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little")
                out[row, bucket % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out
