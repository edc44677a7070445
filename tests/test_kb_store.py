"""The knowledge base in the context store: persistence without re-embedding, atomic writes, passages, combination."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from context_store import ConflictError
from engine import Engine, Settings
from engine.kb.articles import ArticleContent, ArticleIn, KbFeedbackIn
from engine.kb.passages import MAX_PASSAGE_WORDS, passages
from engine.suggestions.combine import combine, text_gate
from engine.suggestions.model import SuggestionWeights
from engine.suggestions.signals import Signal
from tests.fakes import HashingEmbedder

ARTICLES = [ArticleIn(id="pay", title="Card payment declined", body="Check the card limit.\n\nRetry later.",
                      systems=["checkout"]),
            ArticleIn(id="vpn", title="VPN drops", body="Update the VPN client.", tags=["remote"])]


def engine_at(data: Path | None, embedder: HashingEmbedder) -> Engine:
    """An engine on a data directory (embedded) or in memory."""
    settings = Settings(data_dir=data) if data else Settings(backend="memory")
    return Engine(settings, embedder=embedder)


@pytest.mark.parametrize("backend", ["embedded", "memory"])
def test_articles_verdicts_and_vectors_round_trip(tmp_path: Path, backend: str) -> None:
    """Both backends store articles and verdicts; the embedded one reloads them without embedding again."""
    embedder = HashingEmbedder()
    engine = engine_at(tmp_path / "data" if backend == "embedded" else None, embedder)
    engine.kb.add(ARTICLES)
    engine.kb.feedback(KbFeedbackIn(user_id="u1", article_id="vpn", verdict="seen"))
    vectors = engine.store.kb.matrix.passages("pay").copy()
    assert engine.store.kb.count() == 2 and vectors.shape == (3, embedder.dim)
    engine.close()
    if backend == "memory":
        return
    fresh = HashingEmbedder()
    reopened = engine_at(tmp_path / "data", fresh)
    assert reopened.kb.get("pay").systems == ("checkout",) and reopened.kb.get("vpn").tags == ("remote",)
    np.testing.assert_array_equal(reopened.store.kb.matrix.passages("pay"), vectors)
    assert [r.verdict for r in reopened.store.kb.feedback_of_user("u1")] == ["seen"]
    assert fresh.calls == 0  # nothing was embedded at start
    reopened.close()


def test_batches_are_all_or_nothing_and_metadata_edits_do_not_re_embed() -> None:
    """A conflicting id rejects the whole batch; changing only systems or tags reuses the vectors."""
    embedder = HashingEmbedder()
    engine = engine_at(None, embedder)
    engine.kb.add(ARTICLES[:1])
    with pytest.raises(ConflictError) as refused:
        engine.kb.add([ArticleIn(id="new", title="New", body="New."),
                       ArticleIn(id="pay", title="Other", body="Other content.")])
    assert refused.value.ids == ["pay"] and engine.store.kb.get("new") is None
    calls = embedder.calls
    outcome = engine.kb.put("pay", ArticleContent(title="Card payment declined", body="Check the card limit.\n\nRetry later.",
                                                  systems=["checkout", "billing"]))
    assert outcome.status == "updated" and embedder.calls == calls
    assert engine.kb.get("pay").systems == ("checkout", "billing")
    assert engine.kb.put("pay", ArticleContent(title="Changed", body="New text.")).status == "updated"
    assert embedder.calls == calls + 1 and engine.store.kb.matrix.passages("pay").shape[0] == 2


def test_passages_split_markdown_into_readable_pieces() -> None:
    """Title first; headings, list items and paragraphs stand alone; long paragraphs are cut at sentences."""
    body = "## Steps\n- open settings\n- click reset\n\n" + " ".join(["A sentence with five words."] * 30)
    parts = passages("Reset", body)
    assert parts[:4] == ["Reset", "Steps", "open settings", "click reset"]
    assert all(len(p.split()) <= MAX_PASSAGE_WORDS for p in parts) and len(parts) == 4 + 3
    assert parts[4].endswith("words.")


def _signal(scores: list[float]) -> Signal:
    values = np.array(scores, dtype=np.float32)
    zeros = np.zeros(len(scores), dtype=np.int64)
    return Signal("text", values, values, zeros, zeros)


def test_a_clear_question_keeps_its_answer_and_a_vague_one_follows_the_context() -> None:
    """Context breaks ties for a clear question but cannot overturn it; a vague question follows the context."""
    weights = SuggestionWeights()
    context = np.array([0.1, 0.9, 0.2], dtype=np.float32)
    clear = _signal([0.85, 0.35, 0.3])
    assert text_gate(clear, weights) == 1.0 and int(np.argmax(combine(clear, context, weights))) == 0
    close_call = _signal([0.80, 0.78, 0.3])
    assert int(np.argmax(combine(close_call, context, weights))) == 1
    vague = _signal([0.45, 0.30, 0.42])
    assert text_gate(vague, weights) == 0.0 and int(np.argmax(combine(vague, context, weights))) == 1
    assert combine(None, None, weights) is None
    np.testing.assert_array_equal(combine(clear, None, weights), clear.scores)
