"""Restart behaviour of the embedded backend: snapshot load, catch-up, rebuild, locks, mismatches."""
from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from context_store import EmbeddedStore, StoreLockedError, StoreMismatchError, create_store
from context_store.vector_index import VectorIndex
from engine import Engine, Settings
from engine.triage.category_lexicon import PROTOTYPES
from tests.fakes import HashingEmbedder
from tests.test_store_contract import DIM, MODEL, corpus, make_event, unit


def open_store(data_dir: Path, **options: int) -> EmbeddedStore:
    """An embedded store on `data_dir` with the test model."""
    store = create_store("embedded", data_dir, DIM, MODEL, **options)
    assert isinstance(store, EmbeddedStore)
    return store


def crash(store: EmbeddedStore) -> None:
    """Drop the directory lock without checkpointing, as a killed process would."""
    store._lock_file.close()


@pytest.fixture
def added(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Records the seqs of every VectorIndex.add call (a snapshot load adds nothing)."""
    calls: list[list[int]] = []
    original = VectorIndex.add

    def spy(self: VectorIndex, seqs: np.ndarray, vectors: np.ndarray) -> None:
        calls.append([int(s) for s in seqs])
        original(self, seqs, vectors)

    monkeypatch.setattr(VectorIndex, "add", spy)
    return calls


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory holding the closed contract corpus."""
    store = open_store(tmp_path / "data")
    store.add_events(corpus())
    store.close()
    return tmp_path / "data"


def test_reopen_loads_snapshot(data_dir: Path, added: list[list[int]]) -> None:
    """Everything is back after a clean restart, the snapshot is loaded and not rewritten."""
    snapshot = data_dir / "vectors.faiss"
    before = snapshot.stat().st_mtime_ns
    store = open_store(data_dir)
    assert added == []  # nothing re-added: the index came from the snapshot
    assert store.count() == 5 and [e.id for e in store.user_history("u1")] == ["e1", "e2"]
    assert store.get_event("e4").systems == ("payments", "auth")
    np.testing.assert_allclose(store.get_vectors([store.get_event("e3").seq])[0], unit((2, 1)))
    assert store.get_events([h.seq for h in store.vector_search(unit((0, 1)), 1)])[1].id == "e1"
    assert store.document_frequencies(["payments"]) == {"payments": 2}
    assert store.graph.has_node("user:u2") and store.stats().graph_nodes == 10
    store.close()
    assert snapshot.stat().st_mtime_ns == before


def test_crash_is_caught_up_without_reembedding(data_dir: Path, added: list[list[int]]) -> None:
    """Events committed after the last snapshot come back from SQLite; nothing is embedded again."""
    writer = open_store(data_dir)
    new_seqs = writer.add_events([make_event("late1", unit((5, 1))), make_event("late2", unit((6, 1)))])
    crash(writer)
    added.clear()
    embedder = HashingEmbedder(DIM)
    embedder.name = MODEL
    engine = Engine(Settings(backend="embedded", data_dir=data_dir), embedder=embedder)
    try:
        assert added == [new_seqs]  # only the caught-up events were indexed
        assert engine.stats().vectors == 7
        hits = engine.store.vector_search(unit((6, 1)), 1)
        assert [h.seq for h in hits] == [new_seqs[1]] and hits[0].score == pytest.approx(1.0, abs=1e-5)
        assert any(h.event.id == "late1" for h in engine.related("late2", k=10))
        # Only the triage category descriptions were embedded (to triage the events the writer
        # stored without triage); no stored report was embedded again.
        assert set(embedder.texts) <= {t for texts in PROTOTYPES.values() for t in texts}
    finally:
        engine.close()
        writer._conn.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "index-deleted", "meta-deleted", "meta-garbage"])
def test_damaged_snapshot_is_rebuilt(data_dir: Path, added: list[list[int]], damage: str,
                                     caplog: pytest.LogCaptureFixture) -> None:
    """A corrupted or missing snapshot is detected and the index rebuilt from SQLite."""
    index_file, meta_file = data_dir / "vectors.faiss", data_dir / "vectors.meta.json"
    if damage == "garbage":
        index_file.write_bytes(b"not a faiss index")
    elif damage == "truncated":
        index_file.write_bytes(index_file.read_bytes()[:100])
    elif damage == "index-deleted":
        index_file.unlink()
    elif damage == "meta-deleted":
        meta_file.unlink()
    else:
        meta_file.write_text("{")
    with caplog.at_level(logging.WARNING):
        store = open_store(data_dir)
    try:
        assert sorted(s for call in added for s in call) == [1, 2, 3, 4, 5]
        assert store.stats().vectors == 5
        assert store.get_events([h.seq for h in store.vector_search(unit((3, 1)), 1)])[5].id == "e5"
        if damage in ("garbage", "truncated", "meta-garbage"):
            assert "rebuilding" in caplog.text
    finally:
        store.close()


def test_snapshot_older_than_erasure_is_rebuilt(data_dir: Path, tmp_path: Path, added: list[list[int]]) -> None:
    """A snapshot written before an erasure (erase_generation mismatch) is not trusted."""
    old = tmp_path / "old"
    old.mkdir()
    for name in ("vectors.faiss", "vectors.meta.json"):
        shutil.copy(data_dir / name, old / name)
    store = open_store(data_dir)
    assert store.delete_user("u1") == 2
    store.close()
    for name in ("vectors.faiss", "vectors.meta.json"):  # as if the process died before the checkpoint
        shutil.copy(old / name, data_dir / name)
    added.clear()
    store = open_store(data_dir)
    try:
        assert sorted(s for call in added for s in call) == [3, 4, 5]
        assert {h.seq for h in store.vector_search(unit((0, 1)), 10)} == {3, 4, 5}
        assert store.stats().vectors == 3
    finally:
        store.close()


@pytest.mark.parametrize(("model", "dim"), [("other-model", DIM), (MODEL, DIM * 2)])
def test_other_model_or_dim_is_refused(data_dir: Path, model: str, dim: int) -> None:
    """Reopening with another embedding model or dimension raises StoreMismatchError."""
    with pytest.raises(StoreMismatchError, match=MODEL):
        create_store("embedded", data_dir, dim, model)
    store = open_store(data_dir)  # the refused open left the directory usable
    assert store.count() == 5
    store.close()


def test_second_open_is_locked(data_dir: Path) -> None:
    """A data directory has one writer; closing releases it."""
    store = open_store(data_dir)
    with pytest.raises(StoreLockedError):
        open_store(data_dir)
    store.close()
    again = open_store(data_dir)
    assert again.count() == 5
    again.close()


def test_seqs_not_reused_across_restart(data_dir: Path) -> None:
    """Deleting the newest events and restarting (with a rebuilt index) never reissues their seqs."""
    store = open_store(data_dir)
    deleted = store.add_events([make_event("tail", unit((4, 1)), user="u9")])[0]
    store.delete_user("u9")
    store.close()
    (data_dir / "vectors.faiss").unlink()
    store = open_store(data_dir)
    try:
        fresh = store.add_events([make_event("fresh", unit((4, 1)), user="u8")])[0]
        assert fresh > deleted
        assert [h.seq for h in store.vector_search(unit((4, 1)), 1)] == [fresh]
    finally:
        store.close()


def test_snapshot_every_checkpoints(tmp_path: Path) -> None:
    """Passing snapshot_every new events writes a snapshot without an explicit close."""
    store = open_store(tmp_path / "d", snapshot_every=3)
    store.add_events(corpus()[:2])
    assert not (tmp_path / "d" / "vectors.faiss").exists()
    store.add_events(corpus()[2:])
    loaded = VectorIndex.load(tmp_path / "d" / "vectors", DIM, 0)
    assert loaded is not None and loaded.max_seq == 5
    store.close()


@pytest.mark.parametrize("scenario", ["corrupt", "crash"])
def test_rebuilt_index_is_persisted_on_close(data_dir: Path, added: list[list[int]], scenario: str) -> None:
    """After a rebuild or catch-up, a clean close leaves a snapshot the next start can load as is."""
    if scenario == "corrupt":
        (data_dir / "vectors.faiss").write_bytes(b"junk")
    else:
        writer = open_store(data_dir)
        writer.add_events([make_event("late", unit((5, 1)))])
        crash(writer)
        writer._conn.close()
    open_store(data_dir).close()
    added.clear()
    store = open_store(data_dir)
    store.close()
    assert added == []


def test_data_dir_from_before_title_vectors_still_ingests(tmp_path: Path) -> None:
    """A store whose embeddings table predates title vectors is migrated on open."""
    (tmp_path / "d").mkdir()
    conn = sqlite3.connect(tmp_path / "d" / "hypercorr.sqlite3")
    conn.execute("CREATE TABLE embeddings (seq INTEGER PRIMARY KEY, vector BLOB NOT NULL)")
    conn.commit()
    conn.close()
    store = open_store(tmp_path / "d")
    try:
        assert len(store.add_events(corpus())) == 5
    finally:
        store.close()


def test_flipped_bits_in_the_snapshot_are_detected(data_dir: Path, added: list[list[int]],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """FAISS reads a snapshot with a damaged vector without complaint; its checksum does not match."""
    index_file = data_dir / "vectors.faiss"
    raw = bytearray(index_file.read_bytes())
    raw[-20] ^= 0xFF  # inside the stored vectors, not the header
    index_file.write_bytes(bytes(raw))
    assert_rebuilt_on_open(data_dir, caplog, "rebuilding")


def test_snapshot_with_vectors_sqlite_lacks_is_rebuilt(data_dir: Path, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """A snapshot from another store of the same shape (more vectors than rows) is not trusted."""
    other = tmp_path / "other"
    store = open_store(other)
    store.add_events([make_event(f"o{i}", unit((i, 1.0))) for i in range(8)])
    store.close()
    for name in ("vectors.faiss", "vectors.meta.json"):
        (data_dir / name).write_bytes((other / name).read_bytes())
    assert_rebuilt_on_open(data_dir, caplog, "disagrees with SQLite")


def assert_rebuilt_on_open(data_dir: Path, caplog: pytest.LogCaptureFixture, warning: str) -> None:
    """Opening warns with `warning` and the rebuilt index agrees with the five stored events."""
    with caplog.at_level(logging.WARNING):
        store = open_store(data_dir)
    try:
        assert warning in caplog.text
        assert store.verify().ok and store.stats().vectors == 5
    finally:
        store.close()


def test_verify_names_what_disagrees(data_dir: Path) -> None:
    store = open_store(data_dir)
    try:
        assert store.verify().ok
        store._graph.remove_events(["e1"])  # damage the derived state behind the store's back
        store._index.remove(np.array([2], dtype=np.int64))
        report = store.verify()
        assert not report.ok
        assert any("issue graph events: 1 missing" in p and "event:e1" in p for p in report.problems)
        assert any("vector index: 1 missing" in p and "[2]" in p.replace("'", "") for p in report.problems)
    finally:
        store.close()
