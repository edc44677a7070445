"""VectorIndex: exact search, HNSW promotion, removals and tombstones, filtered search, snapshots."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import faiss
import numpy as np
import pytest

from context_store.vector_index import EXACT_FILTER_LIMIT, VectorIndex

DIM = 16


@pytest.fixture(autouse=True, scope="module")
def single_thread_faiss() -> Iterator[None]:
    """HNSW builds are several times faster single-threaded on small CI machines."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(threads)


def random_unit(n: int, seed: int = 0) -> np.ndarray:
    """n random unit vectors."""
    vectors = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build(n: int, threshold: int = 100_000, seed: int = 0) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    """An index of n random vectors under seqs 1..n."""
    index = VectorIndex(DIM, hnsw_threshold=threshold)
    seqs, vectors = np.arange(1, n + 1, dtype=np.int64), random_unit(n, seed)
    index.add(seqs, vectors)
    return index, seqs, vectors


def brute_force(query: np.ndarray, seqs: np.ndarray, vectors: np.ndarray, k: int) -> list[int]:
    """Top-k seqs by inner product, with numpy."""
    return [int(seqs[i]) for i in np.argsort(-(vectors @ query))[:k]]


def recall(found: list[int], truth: list[int]) -> float:
    """Share of the true neighbours found."""
    return len(set(found) & set(truth)) / len(truth)


def test_exact_search_matches_numpy() -> None:
    """Exact search returns numpy's top-k, in order, with the inner products as scores."""
    index, seqs, vectors = build(300)
    assert index.kind == "exact" and len(index) == 300 and index.max_seq == 300
    for query in random_unit(10, seed=1):
        hits = index.search(query, 10)
        assert [h.seq for h in hits] == brute_force(query, seqs, vectors, 10)
        np.testing.assert_allclose([h.score for h in hits], np.sort(vectors @ query)[::-1][:10], rtol=1e-5)
    assert index.search(random_unit(1)[0], 0) == []
    assert VectorIndex(DIM).search(random_unit(1)[0], 5) == []


def test_promotion_to_hnsw_keeps_recall() -> None:
    """Past hnsw_threshold the index turns HNSW and still finds the true neighbours."""
    index, seqs, vectors = build(40, threshold=50)
    assert index.kind == "exact"
    more = random_unit(160, seed=2)
    index.add(np.arange(41, 201), more)
    all_vectors = np.vstack([vectors, more])
    all_seqs = np.arange(1, 201)
    assert index.kind == "hnsw" and len(index) == 200 and index.max_seq == 200
    queries = random_unit(20, seed=3)
    mean = np.mean([recall([h.seq for h in index.search(q, 10)], brute_force(q, all_seqs, all_vectors, 10))
                    for q in queries])
    assert mean >= 0.95
    assert index.search(all_vectors[17], 1)[0].seq == 18
    np.testing.assert_allclose(index.reconstruct(np.array([5, 150])), all_vectors[[4, 149]], rtol=1e-6)


def test_removal_on_exact_is_physical() -> None:
    """Removed vectors are gone from the exact index and from results."""
    index, seqs, vectors = build(30)
    index.remove(np.array([3, 7]))
    assert len(index) == 28 and index.kind == "exact"
    hits = index.search(vectors[2], 30)
    assert {3, 7}.isdisjoint(h.seq for h in hits) and len(hits) == 28
    index.remove(np.array([], dtype=np.int64))
    assert len(index) == 28


def test_tombstones_on_hnsw_are_skipped_then_rebuilt() -> None:
    """HNSW removals are tombstones that searches never return; past rebuild_share they are purged."""
    index, seqs, vectors = build(200, threshold=50)
    assert index.kind == "hnsw"
    index.remove(np.arange(1, 31))  # 30 <= 0.2 * 200: tombstoned, not rebuilt
    assert len(index) == 170 and index._index.ntotal == 200 and len(index._tombstones) == 30
    for seq in (1, 15, 30):
        hits = index.search(vectors[seq - 1], 200)
        assert all(h.seq > 30 for h in hits) and len(hits) == 170
    assert index.search(vectors[0], 5, allowed=np.arange(1, 31)) == []
    index.remove(np.arange(31, 46))  # 45 > 40: rebuilt without tombstones
    assert index.kind == "hnsw" and index._index.ntotal == 155 and not index._tombstones
    assert len(index) == 155 and all(h.seq > 45 for h in index.search(vectors[0], 200))


@pytest.mark.parametrize("threshold", [100_000, 50], ids=["exact", "hnsw"])
def test_filtered_search_small_allowed_set_is_exact(threshold: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """With few allowed ids the search scores exactly that subset (minus exclusions)."""
    index, seqs, vectors = build(500, threshold=threshold)
    calls: list[int] = []
    original = VectorIndex._exact_over
    monkeypatch.setattr(VectorIndex, "_exact_over",
                        lambda self, q, allowed, k: calls.append(len(allowed)) or original(self, q, allowed, k))
    allowed = np.arange(2, 501, 7)
    query = random_unit(1, seed=5)[0]
    hits = index.search(query, 5, allowed=allowed, exclude={int(allowed[0])})
    subset = allowed[1:]
    assert [h.seq for h in hits] == brute_force(query, subset, vectors[subset - 1], 5)
    assert calls == [len(subset)]
    assert index.search(query, 5, allowed=np.array([9], dtype=np.int64), exclude={9}) == []


@pytest.mark.parametrize("threshold", [100_000, 1_000], ids=["exact", "hnsw"])
def test_filtered_search_large_allowed_set_uses_selector(threshold: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past EXACT_FILTER_LIMIT allowed ids the FAISS selector path restricts the search."""
    n = EXACT_FILTER_LIMIT + 1_000
    index, seqs, vectors = build(n, threshold=threshold)
    monkeypatch.setattr(VectorIndex, "_exact_over", lambda *a: pytest.fail("exact path taken"))
    head = seqs[: EXACT_FILTER_LIMIT + 500]
    allowed = head[head % 50 != 0]
    assert len(allowed) > EXACT_FILTER_LIMIT
    queries = random_unit(10, seed=6)
    allowed_set = set(allowed.tolist())
    found = []
    for query in queries:
        hits = index.search(query, 10, allowed=allowed)
        assert {h.seq for h in hits} <= allowed_set and len(hits) == 10
        found.append(recall([h.seq for h in hits], brute_force(query, allowed, vectors[allowed - 1], 10)))
    assert np.mean(found) >= (1.0 if threshold > n else 0.9)


@pytest.mark.parametrize("threshold", [100_000, 50], ids=["exact", "hnsw"])
def test_save_load_round_trip(tmp_path: Path, threshold: int) -> None:
    """A saved index loads with the same kind, size, max_seq, tombstones and answers."""
    index, seqs, vectors = build(120, threshold=threshold)
    index.remove(np.array([4, 5]))
    index.save(tmp_path / "vectors", erase_generation=3)
    assert not list(tmp_path.glob("*.tmp"))
    loaded = VectorIndex.load(tmp_path / "vectors", DIM, 3, hnsw_threshold=threshold)
    assert loaded is not None
    assert (loaded.kind, len(loaded), loaded.max_seq) == (index.kind, len(index), 120)
    assert loaded._tombstones == index._tombstones
    for query in random_unit(5, seed=7):
        assert [h.seq for h in loaded.search(query, 8)] == [h.seq for h in index.search(query, 8)]
    assert all(h.seq not in (4, 5) for h in loaded.search(vectors[3], 120))


def test_load_rejects_mismatching_snapshots(tmp_path: Path) -> None:
    """Wrong dim, erase generation, count, missing or unreadable files: load returns None."""
    index, _, _ = build(20)
    path = tmp_path / "vectors"
    index.save(path, erase_generation=1)
    assert VectorIndex.load(path, DIM, 1) is not None
    assert VectorIndex.load(path, DIM * 2, 1) is None
    assert VectorIndex.load(path, DIM, 2) is None
    meta_file = path.with_suffix(".meta.json")
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps(meta | {"count": 19}))
    assert VectorIndex.load(path, DIM, 1) is None
    meta_file.write_text(json.dumps(meta | {"dim": DIM * 2}))
    assert VectorIndex.load(path, DIM, 1) is None
    meta_file.write_text(json.dumps({k: v for k, v in meta.items() if k != "max_seq"}))
    assert VectorIndex.load(path, DIM, 1) is None
    meta_file.write_text(json.dumps(meta))
    path.with_suffix(".faiss").write_bytes(b"\x00" * 64)
    assert VectorIndex.load(path, DIM, 1) is None
    assert VectorIndex.load(tmp_path / "absent", DIM, 1) is None
