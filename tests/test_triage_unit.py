"""Triage parts one by one: priority matrix, routing, sentiment, category mechanics, tables."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from context_store import EmbeddedStore
from engine.triage.categories import CategoryClassifier, cue_hits, keyword_category
from engine.triage.category_lexicon import PROTOTYPES
from engine.triage.model import Category
from engine.triage.priority import LEVELS, infer_impact, infer_urgency, matrix, suggest_priority
from engine.triage.routing import DEFAULT_CONFIDENCE, RoutingRules, suggest_team
from engine.triage.sentiment import SentimentScorer, WindowedVader
from tests.fakes import HashingEmbedder

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


# ---- priority -----------------------------------------------------------------------
def test_matrix_cells_as_documented() -> None:
    """Rows impact critical..low, columns urgency critical..low."""
    expected = [["P1", "P1", "P2", "P2"], ["P1", "P2", "P2", "P3"], ["P2", "P2", "P3", "P4"], ["P2", "P3", "P4", "P4"]]
    assert [[matrix(i, u) for u in LEVELS] for i in LEVELS] == expected


def test_matrix_is_symmetric_and_monotone() -> None:
    """Raising either level never lowers the priority."""
    number = {lvl: i for i, lvl in enumerate(LEVELS)}
    for i in LEVELS:
        for u in LEVELS:
            assert matrix(i, u) == matrix(u, i)
            for worse in LEVELS[number[u]:]:
                assert matrix(i, worse) >= matrix(i, u)


def test_given_levels_win_with_full_confidence() -> None:
    """What the reporter said is used as is, whatever the text says."""
    impact = infer_impact("low", "production down for all users", similar_reporters=9)
    urgency = infer_urgency("critical", "no rush", Category.enhancement_request)
    result = suggest_priority(impact, urgency)
    assert (result.value, result.confidence) == ("P2", 1.0)
    assert result.detail["impact_source"] == "reporter"


def test_inferred_levels_from_text_and_context() -> None:
    """Scope and time-pressure words, then how many others reported similar things, then the category."""
    assert infer_impact(None, "Production is down, nobody can log in", 0).value == "critical"
    assert infer_impact(None, "the export button is misaligned, cosmetic", 0).value == "low"
    assert infer_impact(None, "cannot save the invoice", 6).value == "high"
    assert infer_impact(None, "cannot save the invoice", 0).value == "low"
    assert infer_urgency(None, "urgent: payroll is blocked", Category.software_bug).value == "high"
    assert infer_urgency(None, "add dark mode", Category.enhancement_request).value == "low"
    inferred = suggest_priority(infer_impact(None, "whatever", 0), infer_urgency(None, "whatever", Category.other))
    assert inferred.confidence < 0.5


# ---- routing ------------------------------------------------------------------------
RULES = RoutingRules({"Payroll": "hr-systems", "payments": "fin-apps", "auth": "identity"})


def test_map_routes_case_insensitively_and_splits_systems() -> None:
    """One mapped system decides; two mapped systems share the confidence."""
    one = suggest_team(RULES, ["payroll"], [])
    assert (one.value, one.confidence) == ("hr-systems", 1.0)
    two = suggest_team(RULES, ["payments", "auth"], [])
    assert two.confidence == pytest.approx(0.5) and two.value in {"fin-apps", "identity"}


def test_unmapped_falls_back_to_default_team() -> None:
    result = suggest_team(RULES, ["warehouse"], [])
    assert (result.value, result.confidence) == ("service-desk", DEFAULT_CONFIDENCE)


def test_learned_teams_refine_the_map() -> None:
    """Similar reports resolved by another team outvote the map; dissimilar ones are ignored."""
    learned = [("payroll-l2", 0.9), ("payroll-l2", 0.8)]
    refined = suggest_team(RULES, ["payroll"], learned)
    assert refined.value == "payroll-l2" and refined.confidence == pytest.approx(2.55 / 3.55)
    assert any("handled by payroll-l2" in r for r in refined.detail["reasons"])
    assert suggest_team(RULES, ["payroll"], [("payroll-l2", 0.3)]).value == "hr-systems"
    assert suggest_team(RULES, [], [("payroll-l2", 0.7)]).value == "payroll-l2"


# ---- sentiment ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def scorer() -> SentimentScorer:
    return SentimentScorer()


@pytest.mark.parametrize("text,label", [
    ("My card stopped working and nobody helps, this is ridiculous", "negative"),
    ("The transfer did not go through", "negative"),
    ("The new screen is great, thank you so much!", "positive"),
    ("Please can you help me change my address?", "neutral"),
    ("How do I export the report?", "neutral"),
])
def test_sentiment_labels(scorer: SentimentScorer, text: str, label: str) -> None:
    result = scorer.classify(text)
    assert result.value == label and 0.5 <= result.confidence <= 1.0
    assert -1.0 <= result.detail["score"] <= 1.0


def test_negated_failure_moves_the_score_down(scorer: SentimentScorer) -> None:
    """VADER has no valence for "work"; a negated one is a complaint."""
    assert scorer.score("The app doesn't work") < scorer.score("The app works") - 0.3


def test_windowed_vader_scores_exactly_like_stock_vader() -> None:
    """The negation check that reads only the words it needs changes no score, negations and
    idioms included, however long the text."""
    stock, windowed = SentimentIntensityAnalyzer(), WindowedVader()
    texts = ["I am NOT happy, never so good!!", "no good at all", "not bad, not bad at all", "without doubt great",
             "at least it works", "never this bad", "It isn't really that helpful", "nor is it nice", "GOOD"]
    texts.append(" ".join(texts * 20))
    for text in texts:
        assert windowed.polarity_scores(text) == stock.polarity_scores(text), text


# ---- category -----------------------------------------------------------------------
def test_cues_and_keyword_baseline() -> None:
    assert cue_hits("It crashes with an error")[Category.software_bug] == 2
    assert keyword_category("Typo in the user guide") is Category.documentation_error
    assert keyword_category("Hello there") is Category.other


def test_prototype_vectors_classify_to_their_category() -> None:
    """A report worded like a category's description lands in that category, confidently."""
    embedder = HashingEmbedder(256)
    classifier = CategoryClassifier(embedder)
    for category, texts in PROTOTYPES.items():
        result = classifier.classify(embedder.embed([texts[0]]), [texts[0]])[0]
        assert result.value == category.value, (texts[0], result)
        assert result.confidence > 0.3 and result.detail["ranking"][category.value] == pytest.approx(
            result.confidence, abs=1e-3)


def test_prototypes_are_embedded_once() -> None:
    embedder = HashingEmbedder(64)
    classifier = CategoryClassifier(embedder)
    vectors = embedder.embed(["a", "b"])
    classifier.classify(vectors, ["a", "b"])
    classifier.classify(vectors, ["a", "b"])
    assert embedder.calls == 2  # the test's own call + one for the prototypes


# ---- tables -------------------------------------------------------------------------
def test_tables_store_overrides_and_labels() -> None:
    """Overrides upsert and clear; team labels upsert; rows go with their event."""
    from context_store import EventRecord, NewEvent

    store = EmbeddedStore(None, 4, "test", 100)
    record = EventRecord("e1", "feedback", "t", "x", "u", (), None, NOW, None, None, {}, "h", NOW)
    vector = np.array([1, 0, 0, 0], dtype=np.float32)
    [seq] = store.add_events([NewEvent(record, vector)],
                             lambda seqs: store.triage.put_inferred([(seqs[0], {"k": 1})], NOW))
    assert store.triage.inferred([seq]) == {seq: {"k": 1}}
    store.triage.set_override(seq, "team", "a", "ann", NOW)
    store.triage.set_override(seq, "team", "b", "bob", NOW)
    assert [(o.value, o.by) for o in store.triage.overrides([seq])[seq]] == [("b", "bob")]
    store.triage.set_override(seq, "team", None, "bob", NOW)
    assert store.triage.overrides([seq]) == {}
    store.triage.set_team_labels([seq], "x", "resolved", NOW)
    assert store.triage.team_labels([seq, 99]) == {seq: "x"} and store.triage.has_team_labels()
    store.triage.set_override(seq, "category", "other", "ann", NOW)
    store.delete_user("u")
    assert store.triage.inferred([seq]) == {} and store.triage.team_labels([seq]) == {}
    assert store.triage.overrides([seq]) == {}


def test_failing_companion_writer_stores_nothing() -> None:
    """Triage rows commit with the events: a failure in between leaves no event behind."""
    from context_store import EventRecord, NewEvent

    store = EmbeddedStore(None, 4, "test", 100)
    record = EventRecord("e1", "feedback", "t", "x", "u", (), None, NOW, None, None, {}, "h", NOW)

    def broken(_seqs: list[int]) -> None:
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        store.add_events([NewEvent(record, np.ones(4, dtype=np.float32) / 2)], broken)
    assert store.count() == 0 and store.get_event("e1") is None


def test_routes_file_must_be_one_object_of_strings(tmp_path) -> None:
    """A malformed routing file stops start-up with a message naming the file."""
    from engine.triage.service import load_routes

    good = tmp_path / "good.json"
    good.write_text('{"payroll": "hr", "auth": "identity"}')
    assert load_routes({"auth": "iam"}, good) == {"payroll": "hr", "auth": "iam"}
    bad = tmp_path / "bad.json"
    bad.write_text('{"payroll": ["hr"]}')
    with pytest.raises(ValueError, match="bad.json"):
        load_routes({}, bad)
