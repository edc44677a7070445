"""The in-memory BM25 index and its durable term rows: scores, removal, restart, migration, erasure."""
from __future__ import annotations

import logging
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from context_store import EmbeddedStore, EventFilter, LexicalTerms, create_store
from context_store.analysis import PlainAnalyzer
from context_store import maxscore
from context_store.term_index import TermIndex, rounded_mean_length
from engine import text as textprep
from tests.test_store_contract import DIM, MODEL, corpus, make_event, unit

DOCS = {
    1: LexicalTerms({"disk": (1, 0), "full": (0, 2)}, 6),
    2: LexicalTerms({"disk": (0, 1), "quota": (0, 1)}, 10),
    3: LexicalTerms({"login": (1, 1)}, 3),
    5: LexicalTerms({"disk": (0, 3), "login": (0, 1)}, 20),
}


def reference_bm25(terms: list[str], seq: int, weights: tuple[float, float]) -> float:
    """Okapi BM25 written out term by term, independently of the index's numpy code."""
    n_docs = len(DOCS)
    mean_length = sum(d.length for d in DOCS.values()) / n_docs
    mean_length = 2.0 ** (round(64 * math.log2(mean_length)) / 64)  # rounded to 1/64 of an octave
    total = 0.0
    for term in terms:
        if term not in DOCS[seq].counts:
            continue
        hits = sum(term in d.counts for d in DOCS.values())
        idf = max(1e-6, math.log((n_docs - hits + 0.5) / (hits + 0.5)))
        title, body = DOCS[seq].counts[term]
        tf = weights[0] * title + weights[1] * body
        total += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * DOCS[seq].length / mean_length))
    return total


@pytest.fixture
def index() -> TermIndex:
    """The four DOCS indexed."""
    built = TermIndex()
    for seq, terms in DOCS.items():
        built.add(seq, terms)
    return built


@pytest.mark.parametrize("weights", [(1.0, 1.0), (2.0, 1.0), (0.5, 3.0)])
def test_scores_match_the_bm25_formula(index: TermIndex, weights: tuple[float, float]) -> None:
    """Every event's search score and self score equal the written-out formula."""
    query = ["disk", "login", "quota", "absent"]
    hits = index.search(query, 10, weights=weights)
    expected = {seq: reference_bm25(query, seq, weights) for seq in DOCS}
    assert {h.seq for h in hits} == {s for s, v in expected.items() if v > 0}
    for hit in hits:
        assert hit.score == pytest.approx(expected[hit.seq], rel=1e-5)
        assert index.self_score(query, hit.seq, weights) == pytest.approx(hit.score, rel=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_search_honours_k_allowed_and_exclude(index: TermIndex) -> None:
    """k caps the answer; `allowed` and `exclude` remove events before ranking."""
    assert len(index.search(["disk"], 2)) == 2
    assert {h.seq for h in index.search(["disk"], 10, allowed=np.array([2, 3, 99]))} == {2}
    assert {h.seq for h in index.search(["disk"], 10, exclude=[1, 5])} == {2}
    assert index.search([], 5) == [] and index.search(["disk"], 0) == [] and index.search(["nope"], 5) == []


def test_remove_updates_statistics_and_reports_emptied_terms(index: TermIndex) -> None:
    """Removing events drops their postings, lengths and terms nobody else uses."""
    emptied = index.remove([2], ["disk", "quota"])
    assert emptied == ["quota"]
    assert index.document_frequencies(["disk", "quota"]) == {"disk": 2, "quota": 0}
    assert index.documents == 3 and index.self_score(["disk"], 2) == 0.0
    fresh = TermIndex()
    for seq in (1, 3, 5):
        fresh.add(seq, DOCS[seq])
    assert index.search(["disk", "login"], 5) == fresh.search(["disk", "login"], 5)


def test_plain_analyzer_counts_per_column() -> None:
    """The store's default analyzer: lower-cased tokens counted per column, all tokens in the length."""
    terms = PlainAnalyzer()("Disk full", "the disk is FULL, full")
    assert terms.counts == {"disk": (1, 1), "full": (1, 2), "the": (0, 1), "is": (0, 1)}
    assert terms.length == 7


def test_engine_analyzer_keeps_content_terms_and_identifier_parts() -> None:
    """Identifiers count whole and in parts, words as stems; stopwords only count towards the length."""
    terms = textprep.ANALYZER("NativeAzureFs fails", "the stream of NativeAzureFs, failing")
    assert terms.counts[textprep.stem("nativeazurefs")] == (1, 1) and terms.counts["azur"] == (1, 1)
    assert "the" not in terms.counts and terms.counts["fail"] == (1, 1)  # 'fails' and 'failing'
    assert textprep.stem("hadoop3") == "hadoop3"  # words with digits stay whole
    assert terms.length == 2 + 3 + 5 + 3  # title: 2 words + 3 parts; body: 5 words + 3 parts


def open_store(data_dir: Path) -> EmbeddedStore:
    """An embedded store with the engine's analyzer."""
    store = create_store("embedded", data_dir, DIM, MODEL, analyzer=textprep.ANALYZER)
    assert isinstance(store, EmbeddedStore)
    return store


def test_restart_serves_identical_lexical_answers(tmp_path: Path) -> None:
    """Postings rebuilt from the SQLite term rows answer exactly as before the restart."""
    store = open_store(tmp_path / "d")
    store.add_events(corpus())
    query = ["payments", "transaction", "loop", "declined"]
    before = store.lexical_search(query, 10, column_weights=(2.0, 1.0))
    frequencies = store.document_frequencies(query)
    store.close()
    store = open_store(tmp_path / "d")
    assert store.lexical_search(query, 10, column_weights=(2.0, 1.0)) == before
    assert store.document_frequencies(query) == frequencies
    assert store.lexical_search(query, 10, EventFilter(user_id="u2")) == \
        [h for h in store.lexical_search(query, 10) if store.get_events([h.seq])[h.seq].user_id == "u2"]
    store.close()


def test_events_without_term_rows_are_analysed_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A store written before term rows existed (or by another analyzer) is indexed again on open."""
    store = open_store(tmp_path / "d")
    seqs = store.add_events(corpus())
    expected = store.lexical_search(["payments", "loop"], 10)
    store.close()
    with sqlite3.connect(tmp_path / "d" / "hypercorr.sqlite3") as conn:
        conn.execute("DELETE FROM event_terms WHERE seq IN (?, ?)", (seqs[1], seqs[3]))
    with caplog.at_level(logging.WARNING):
        store = open_store(tmp_path / "d")
    assert "indexing the terms of 2 stored events" in caplog.text
    assert store.lexical_search(["payments", "loop"], 10) == expected
    store.close()
    assert store.document_frequencies(["at"]) == {"at": 0}  # a stopword for the engine's analyzer
    store.close()
    plain = create_store("embedded", tmp_path / "d", DIM, MODEL)  # another analyzer: everything again
    assert plain.document_frequencies(["at", "payments"]) == {"at": 1, "payments": 2}
    plain.close()


def test_failed_batch_leaves_no_terms_behind(tmp_path: Path) -> None:
    """A batch that rolls back (duplicate id) adds no postings and no vocabulary."""
    store = open_store(tmp_path / "d")
    store.add_events(corpus())
    with pytest.raises(Exception):
        store.add_events([make_event("fresh", unit((5, 1)), text="zanzibar"), make_event("e1", unit((0, 1)))])
    assert store.document_frequencies(["zanzibar"]) == {"zanzibar": 0}
    store.add_events([make_event("fresh", unit((5, 1)), text="zanzibar")])
    assert store.document_frequencies(["zanzibar"]) == {"zanzibar": 1}
    store.close()


def test_erasure_removes_the_users_words(tmp_path: Path) -> None:
    """Erasing a user deletes their postings and the words only they used, in memory and on disk."""
    store = open_store(tmp_path / "d")
    store.add_events(corpus())
    assert store.delete_user("u2") == 2
    assert store.document_frequencies(["sso", "payment"]) == {"sso": 0, "payment": 2}  # e1 and e2 remain
    store.close()
    with sqlite3.connect(tmp_path / "d" / "hypercorr.sqlite3") as conn:
        words = {row[0] for row in conn.execute("SELECT term FROM terms")}
    assert "sso" not in words and "hotfix" not in words and "payment" in words
    store = open_store(tmp_path / "d")
    assert sorted(store.get_events([h.seq])[h.seq].id for h in store.lexical_search(["payment"], 10)) == ["e1", "e2"]
    store.close()


@pytest.mark.parametrize("lookup_cost", [0, 32, 10**9])  # complete by lookups only, mixed, by list scans only
def test_pruned_top_k_equals_exhaustive_ranking(lookup_cost: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """MaxScore pruning returns exactly the top k of scoring every event (with and without filters),
    however the remaining lists are read, and leaves its scratch space clean."""
    monkeypatch.setattr(maxscore, "LOOKUP_COST", lookup_cost)
    rng = np.random.default_rng(5)
    vocabulary = [f"w{i}" for i in range(400)]
    popularity = 1.0 / np.arange(1, 401)  # Zipf: a few terms in most events, many rare ones
    index = TermIndex()
    for seq in range(1, 3001):
        words = rng.choice(400, size=rng.integers(3, 30), p=popularity / popularity.sum())
        counts: dict[str, tuple[int, int]] = {}
        for position, w in enumerate(words):
            title, body = counts.get(vocabulary[w], (0, 0))
            counts[vocabulary[w]] = (title + (position < 3), body + (position >= 3))
        index.add(seq, LexicalTerms(counts, len(words) + 2))
    allowed = np.arange(1, 3001, 3)
    for trial in range(20):
        query = [vocabulary[w] for w in rng.choice(400, size=rng.integers(2, 40), replace=False)]
        for k, keep, exclude in ((10, None, ()), (100, None, (1, 2, 3)), (25, allowed, (4,))):
            candidates = range(1, 3001) if keep is None else keep.tolist()
            scores = {s: index.self_score(query, s, (2.0, 1.0)) for s in candidates if s not in exclude}
            expected = sorted((s for s, v in scores.items() if v > 0), key=lambda s: (-scores[s], s))[:k]
            hits = index.search(query, k, keep, exclude, (2.0, 1.0))
            assert [h.seq for h in hits] == expected, (trial, k)
            assert [h.score for h in hits] == pytest.approx([scores[s] for s in expected], rel=1e-6)
    scratch = index._scratch
    assert not scratch.totals.any() and not scratch.marked.any()


def test_mean_length_is_rounded_to_a_sixty_fourth_of_an_octave() -> None:
    """BM25's avgdl is the mean length rounded to 1/64 of an octave (never more than 0.6 % off), so a
    few more events of ordinary length leave every cached term weight valid."""
    for mean in (1.0, 7.3, 9.75, 120.0, 5000.0):
        assert abs(rounded_mean_length(mean * 1000, 1000) / mean - 1) < 0.006
    assert rounded_mean_length(9.75 * 400, 400) == rounded_mean_length(9.75 * 400 + 10, 401)
    assert rounded_mean_length(0, 0) == 1.0


def test_prepared_lists_answer_like_lists_weighed_on_demand() -> None:
    """Weighing every list up front (at engine start) changes no answer, for these or other weights,
    and lists that grow afterwards are weighed again."""
    def build() -> TermIndex:
        built = TermIndex()
        for seq in range(1, 41):
            built.add(seq, LexicalTerms({"common": (seq % 2, 1), f"w{seq % 5}": (1, seq % 3)}, 5 + seq % 7))
        return built
    prepared, fresh = build(), build()
    prepared.prepare((2.0, 1.0))
    query = ["common", "w1", "w3"]
    for weights in ((2.0, 1.0), (1.0, 1.0)):
        assert prepared.search(query, 10, weights=weights) == fresh.search(query, 10, weights=weights)
    for index in (prepared, fresh):
        index.add(41, LexicalTerms({"common": (3, 3), "w1": (2, 2)}, 6))
    assert prepared.search(query, 41, weights=(2.0, 1.0)) == fresh.search(query, 41, weights=(2.0, 1.0))
    assert 41 in {h.seq for h in prepared.search(query, 41, weights=(2.0, 1.0))}


def test_refresh_reweighs_kept_lists_when_the_rounded_mean_moves() -> None:
    """After events that move the rounded mean length, kept lists are weighed again at once and
    answers equal those of an index weighed from scratch."""
    index = TermIndex()
    for seq in range(1, 21):
        index.add(seq, LexicalTerms({"common": (1, 1), f"w{seq % 3}": (0, 1)}, 4))
    index.search(["common", "w1"], 5, weights=(2.0, 1.0))  # weighs and keeps the list of "common"
    for seq in range(21, 41):
        index.add(seq, LexicalTerms({"common": (0, 2), "w1": (1, 0)}, 40))  # the mean goes from 4 to 22
    index.refresh()
    assert not index._decoded.stale(index._mean_length())
    fresh = TermIndex()
    for seq in range(1, 21):
        fresh.add(seq, LexicalTerms({"common": (1, 1), f"w{seq % 3}": (0, 1)}, 4))
    for seq in range(21, 41):
        fresh.add(seq, LexicalTerms({"common": (0, 2), "w1": (1, 0)}, 40))
    assert index.search(["common", "w1"], 40, weights=(2.0, 1.0)) == fresh.search(["common", "w1"], 40, weights=(2.0, 1.0))


def test_prepared_index_keeps_grown_lists_weighed() -> None:
    """Once prepared, lists that reach the cached size through new events are weighed at refresh."""
    index = TermIndex()
    index.prepare((2.0, 1.0))
    for seq in range(1, 13):
        index.add(seq, LexicalTerms({"common": (1, 1), f"w{seq}": (0, 1)}, 4))
    assert not index._decoded.stale(index._mean_length()) and "common" not in index._decoded._entries
    index.refresh(["common", "w1"])
    assert "common" in index._decoded._entries and "w1" not in index._decoded._entries  # w1 is short
