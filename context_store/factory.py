"""The one place that turns a backend setting into a ContextStore."""
from __future__ import annotations

from pathlib import Path

from context_store.base import ContextStore
from context_store.embedded import EmbeddedStore
from context_store.analysis import Analyzer

BACKENDS = ("embedded", "memory")


def create_store(backend: str, data_dir: Path | None, dim: int, model_name: str,
                 hnsw_threshold: int = 50_000, snapshot_every: int = 5_000,
                 analyzer: Analyzer | None = None) -> ContextStore:
    """Build the configured backend.

    - ``embedded``: SQLite + FAISS snapshot + networkx under ``data_dir`` (the default).
    - ``memory``: the same engine entirely in memory; nothing survives the process.

    `analyzer` turns title and text into lexical terms (the engine passes its own; a plain
    word tokenizer otherwise).
    """
    if backend == "embedded":
        if data_dir is None:
            raise ValueError("the embedded backend needs a data directory")
        return EmbeddedStore(Path(data_dir), dim, model_name, hnsw_threshold, snapshot_every, analyzer)
    if backend == "memory":
        return EmbeddedStore(None, dim, model_name, hnsw_threshold, snapshot_every, analyzer)
    raise ValueError(f"unknown store backend {backend!r}; choose one of {', '.join(BACKENDS)}")
