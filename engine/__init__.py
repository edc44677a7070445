"""engine: embedding, hybrid context-aware relevance and ingest over a context store."""
from engine.engine import Engine
from engine.events import EventIn, EventKind, Level
from engine.filters import RelatedFilters
from engine.relevance import Evidence, RelatedHit, RelevanceWeights
from engine.settings import Settings

__all__ = ["Engine", "EventIn", "EventKind", "Evidence", "Level", "RelatedFilters", "RelatedHit",
           "RelevanceWeights", "Settings"]
