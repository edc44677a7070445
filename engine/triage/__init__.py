"""Triage enrichment of feedback events: category, sentiment, priority and routing, each with a
confidence, inferred offline at ingest from the vectors already computed, overridable by a person."""
