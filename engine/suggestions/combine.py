"""How the question and the user's context combine into one relevance per article.

    context   = (w_history * history + w_narrative * narrative) / (sum of present weights)
    relevance = g * text * (1 + boost * context) / (1 + boost) + (1 - g) * context

`g` (the text gate) says how well the question matches anything in the knowledge base: a clear
question keeps the ranking to articles that answer it and lets context break ties between
them; a vague one ("it still doesn't work", g near 0) leaves the ranking to the context. With
only a question, relevance is its text score; with only context, the context score.
"""
from __future__ import annotations

import numpy as np

from engine.suggestions.model import SuggestionWeights
from engine.suggestions.signals import Signal


def text_gate(text: Signal, weights: SuggestionWeights) -> float:
    """0 when the question's best article cosine is at or below `text_floor`, 1 from `text_full` up."""
    best = float(text.raw.max()) if len(text.raw) else 0.0
    return float(np.clip((best - weights.text_floor) / (weights.text_full - weights.text_floor), 0.0, 1.0))


def context_relevance(history: Signal | None, narrative: Signal | None, weights: SuggestionWeights) -> np.ndarray | None:
    """The weighted mean of the context signals present (None when there is no context)."""
    present = [(s, w) for s, w in ((history, weights.history), (narrative, weights.narrative)) if s is not None]
    if not present:
        return None
    return sum(s.scores * w for s, w in present) / sum(w for _, w in present)


def combine(text: Signal | None, context: np.ndarray | None, weights: SuggestionWeights) -> np.ndarray | None:
    """Relevance per article from the question's signal and the context relevance (None: neither)."""
    if text is None:
        return context
    if context is None:
        return text.scores
    gate = text_gate(text, weights)
    boosted = text.scores * (1.0 + weights.context_boost * context) / (1.0 + weights.context_boost)
    return gate * boosted + (1.0 - gate) * context
