"""context_store: the durable model context (SQLite truth, FAISS vectors, networkx graph).

It imports nothing from the floors above it (engine, api, eval).
"""
from context_store.base import ContextStore
from context_store.embedded import EmbeddedStore
from context_store.store_guard import StoreLockedError
from context_store.factory import BACKENDS, create_store
from context_store.narrative_tables import LineageRow, LinkRow, MemberRow, NarrativeRow, NarrativeTables
from context_store.operational_tables import AttributeUpdate, OperationalTables, StaleUpdateError
from context_store.triage_tables import OverrideRow, TriageTables
from context_store.analysis import Analyzer, LexicalTerms
from context_store.records import (ConflictError, EventContext, EventFilter, EventRecord, NewEvent, ScoredSeq,
                                   StoreMismatchError, StoreStats)

__all__ = [
    "Analyzer", "BACKENDS", "LexicalTerms", "ConflictError", "EventContext", "LineageRow", "LinkRow", "MemberRow", "NarrativeRow", "NarrativeTables", "ContextStore", "EmbeddedStore", "EventFilter", "EventRecord",
    "NewEvent", "OverrideRow", "ScoredSeq", "TriageTables", "StoreLockedError", "StoreMismatchError", "StoreStats",
    "create_store", "AttributeUpdate", "OperationalTables", "StaleUpdateError",
]
