"""Loading the bundled demo stream into an engine (idempotent: known ids are skipped)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from engine import Engine, EventIn

log = logging.getLogger("hypercorr.demo")


def load_demo(engine: Engine, path: Path) -> int:
    """Ingest the demo events; returns how many were new."""
    events = [EventIn.model_validate(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    size = engine.settings.max_batch_events
    created = sum(o.status == "created" for start in range(0, len(events), size)
                  for o in engine.ingest(events[start:start + size]))
    log.info("demo stream: %d events, %d new", len(events), created)
    return created
