"""The compiled BM25 kernels (`bm25_kernels.py`), imported on first need.

Importing numba and loading the cached kernels takes about a second (the first process after an
install or a change of the kernels compiles them, for some seconds more), so it happens when a
lexical index is built, not when `context_store` is imported (a CLI command that opens no store
never pays for it). It is not done in a background thread: a thread holding the GIL for that
long made a concurrent store open more than twice as slow.
"""
from __future__ import annotations

import threading
from types import ModuleType

_lock = threading.Lock()
_module: list[ModuleType] = []


def loaded() -> ModuleType:
    """The kernels module, compiled or loaded from the cache (once per process)."""
    if not _module:
        with _lock:
            if not _module:
                from context_store import bm25_kernels
                bm25_kernels.warm_up()
                _module.append(bm25_kernels)
    return _module[0]
