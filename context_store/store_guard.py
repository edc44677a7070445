"""Guards a data directory is opened behind: one process at a time, and the embedder it was built with."""
from __future__ import annotations

import fcntl
import sqlite3
from pathlib import Path
from typing import IO

from context_store.records import StoreMismatchError
from context_store.sqlite_schema import get_meta, set_meta


class StoreLockedError(RuntimeError):
    """Another process holds this data directory."""


def acquire_dir_lock(data_dir: Path) -> IO[str]:
    """Take the directory's exclusive lock (held while the returned handle stays open)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / ".lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise StoreLockedError(
            f"{data_dir} is in use by another hypercorr process (a running server?). "
            "Stop it, or point the command at the server with --url.") from exc
    return handle


def check_model(conn: sqlite3.Connection, model_name: str, dim: int) -> None:
    """Record the embedder of a new store; refuse a store built with another one."""
    stored_model, stored_dim = get_meta(conn, "embedding_model"), get_meta(conn, "embedding_dim")
    if stored_model is None:
        set_meta(conn, "embedding_model", model_name)
        set_meta(conn, "embedding_dim", str(dim))
    elif stored_model != model_name or int(stored_dim or 0) != dim:
        raise StoreMismatchError(
            f"this data directory holds {stored_model} embeddings (dim {stored_dim}); the "
            f"configured embedder is {model_name} (dim {dim}). Use the original embedder or a new data dir.")
