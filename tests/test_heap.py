"""The loaded state is taken out of the cyclic collector's scans."""
from __future__ import annotations

import gc

from engine.heap import freeze_loaded_state


class _Node:
    def __init__(self) -> None:
        self.peer: _Node | None = None


def test_objects_alive_at_freeze_are_no_longer_scanned() -> None:
    loaded = _Node()
    loaded.peer = loaded  # a cycle: only the cyclic collector could ever free it
    gc.unfreeze()
    try:
        assert any(o is loaded for o in gc.get_objects())
        frozen = freeze_loaded_state()
        assert frozen >= 1
        assert not any(o is loaded for o in gc.get_objects())  # permanent generation: never scanned
        later = _Node()
        assert any(o is later for o in gc.get_objects())  # new objects are collected as usual
    finally:
        gc.unfreeze()
