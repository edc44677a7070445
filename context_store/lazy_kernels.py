"""The compiled BM25 kernels (`bm25_kernels.py`), loaded off the caller's thread.

Importing numba and loading (or, after an install, compiling) the kernels takes from a second to
many seconds; a store starts that in the background when it builds its lexical index, and the
first search waits for it only if it is not done yet.
"""
from __future__ import annotations

import threading
from types import ModuleType

_lock = threading.Lock()
_loader: threading.Thread | None = None
_module: list[ModuleType] = []


def start_loading() -> None:
    """Begin loading the kernels in a daemon thread (once per process)."""
    global _loader
    with _lock:
        if _loader is None:
            _loader = threading.Thread(target=_load, name="bm25-kernels", daemon=True)
            _loader.start()


def loaded() -> ModuleType:
    """The kernels module, waiting for the background load the first time."""
    if not _module:
        start_loading()
        assert _loader is not None
        _loader.join()
        if not _module:  # the load failed in the thread: load here, so the error reaches the caller
            _load()
    return _module[0]


def _load() -> None:
    from context_store import bm25_kernels
    bm25_kernels.warm_up()
    _module.append(bm25_kernels)
