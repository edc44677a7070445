"""FAISS vector index keyed by event sequence numbers.

Exact inner-product search while the index is small; past `hnsw_threshold` vectors it
converts itself to HNSW (M=32). HNSW cannot remove ids, so removals become tombstones that
searches skip; once tombstones pass `rebuild_share` of the index it is rebuilt without them.
Snapshots are written atomically and carry the metadata needed to validate them on load.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from context_store.records import ScoredSeq

EXACT_FILTER_LIMIT = 4096  # with at most this many allowed ids, score them exactly


def _one_omp_thread() -> None:
    """Run FAISS single-threaded in the calling thread.

    Single queries and incremental adds are too small to gain from OpenMP; on 2 cores two threads
    measured 2.7x slower per exact query at 10k vectors and 6x slower for HNSW building. OpenMP
    keeps the thread count per calling thread (and torch may share FAISS's runtime and set it back),
    so it is set on every call rather than once at import.
    """
    if faiss.omp_get_max_threads() != 1:
        faiss.omp_set_num_threads(1)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class SnapshotMeta:
    """What a snapshot contains, to decide on load whether it can be trusted."""

    dim: int
    max_seq: int
    count: int
    erase_generation: int
    tombstones: tuple[int, ...]


class VectorIndex:
    """An id-mapped FAISS index with exact-to-HNSW promotion and tombstoned removals."""

    def __init__(self, dim: int, hnsw_threshold: int = 50_000, hnsw_m: int = 32,
                 ef_search: int = 64, rebuild_share: float = 0.2):
        self.dim = dim
        self.hnsw_threshold = hnsw_threshold
        self.hnsw_m = hnsw_m
        self.ef_search = ef_search
        self.rebuild_share = rebuild_share
        self._index = self._new_exact()
        self._hnsw = False
        self._tombstones: set[int] = set()
        self.max_seq = 0

    # ---- construction -------------------------------------------------------------
    def _new_exact(self) -> faiss.Index:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _new_hnsw(self) -> faiss.Index:
        inner = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = 80
        inner.hnsw.efSearch = self.ef_search
        return faiss.IndexIDMap2(inner)

    @property
    def kind(self) -> str:
        """'exact' or 'hnsw'."""
        return "hnsw" if self._is_hnsw() else "exact"

    def _is_hnsw(self) -> bool:
        return self._hnsw

    def __len__(self) -> int:
        return int(self._index.ntotal) - len(self._tombstones)

    # ---- mutation -----------------------------------------------------------------
    def add(self, seqs: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under their sequence numbers (seqs must be new)."""
        _one_omp_thread()
        if len(seqs) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        ids = np.asarray(seqs, dtype=np.int64)
        if not self._is_hnsw() and self._index.ntotal + len(ids) > self.hnsw_threshold:
            self._promote_to_hnsw()
        self._index.add_with_ids(vectors, ids)
        self.max_seq = max(self.max_seq, int(ids.max()))

    def remove(self, seqs: np.ndarray) -> None:
        """Remove vectors: physically on the exact index, as tombstones on HNSW."""
        _one_omp_thread()
        ids = np.asarray(seqs, dtype=np.int64)
        if len(ids) == 0:
            return
        if not self._is_hnsw():
            self._index.remove_ids(faiss.IDSelectorBatch(ids))
            return
        self._tombstones.update(int(i) for i in ids)
        self._wipe_hnsw_vectors(ids)
        if len(self._tombstones) > self.rebuild_share * max(1, self._index.ntotal):
            self._rebuild(self._new_hnsw())

    def _wipe_hnsw_vectors(self, ids: np.ndarray) -> None:
        """Overwrite tombstoned vectors with zeros, so erased content is gone from memory and snapshots."""
        id_map = faiss.vector_to_array(self._index.id_map)
        positions = np.flatnonzero(np.isin(id_map, ids))
        storage = faiss.downcast_index(faiss.downcast_index(self._index.index).storage)
        stored = faiss.rev_swig_ptr(storage.get_xb(), storage.ntotal * self.dim).reshape(-1, self.dim)
        stored[positions] = 0.0

    def _live_ids_and_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        all_ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        keep = np.array([i not in self._tombstones for i in all_ids], dtype=bool)
        ids = all_ids[keep]
        vectors = self._index.reconstruct_batch(ids) if len(ids) else np.zeros((0, self.dim), np.float32)
        return ids, vectors

    def _rebuild(self, target: faiss.Index) -> None:
        _one_omp_thread()
        ids, vectors = self._live_ids_and_vectors()
        if len(ids):
            target.add_with_ids(vectors, ids)
        self._index = target
        self._hnsw = isinstance(faiss.downcast_index(target.index), faiss.IndexHNSW)
        self._tombstones = set()

    def _promote_to_hnsw(self) -> None:
        self._rebuild(self._new_hnsw())

    # ---- queries ------------------------------------------------------------------
    def live_ids(self) -> np.ndarray:
        """Every id the index holds, tombstones left out."""
        all_ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        return all_ids[~np.isin(all_ids, np.fromiter(self._tombstones, dtype=np.int64, count=len(self._tombstones)))]

    def reconstruct(self, seqs: np.ndarray) -> np.ndarray:
        """The stored vectors of `seqs` (which must be present)."""
        return self._index.reconstruct_batch(np.asarray(seqs, dtype=np.int64))

    def search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None,
               exclude: set[int] | None = None) -> list[ScoredSeq]:
        """Top-k by inner product, restricted to `allowed` ids when given, skipping `exclude`."""
        _one_omp_thread()
        if self._index.ntotal == 0 or k <= 0:
            return []
        skip = self._tombstones | (exclude or set())
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        if allowed is not None:
            allowed = np.asarray([a for a in allowed if int(a) not in skip], dtype=np.int64)
            if len(allowed) == 0:
                return []
            if len(allowed) <= EXACT_FILTER_LIMIT:
                return self._exact_over(query, allowed, k)
        fetch = min(int(self._index.ntotal), k + len(skip))
        params = self._search_params(allowed, fetch)
        scores, ids = self._index.search(query, fetch, params=params)
        hits = [ScoredSeq(int(i), float(s)) for s, i in zip(scores[0], ids[0])
                if i >= 0 and int(i) not in skip]
        return hits[:k]

    def _search_params(self, allowed: np.ndarray | None, fetch: int) -> faiss.SearchParameters | None:
        selector = faiss.IDSelectorBatch(allowed) if allowed is not None else None
        if self._is_hnsw():
            return faiss.SearchParametersHNSW(efSearch=max(self.ef_search, fetch), sel=selector)
        return faiss.SearchParameters(sel=selector) if selector is not None else None

    def _exact_over(self, query: np.ndarray, allowed: np.ndarray, k: int) -> list[ScoredSeq]:
        scores = self.reconstruct(allowed) @ query[0]
        order = np.argsort(-scores)[:k]
        return [ScoredSeq(int(allowed[i]), float(scores[i])) for i in order]

    # ---- persistence --------------------------------------------------------------
    def save(self, path: Path, erase_generation: int) -> None:
        """Write the index and its metadata atomically (temp file + rename)."""
        tmp_index = path.with_suffix(".faiss.tmp")
        faiss.write_index(self._index, str(tmp_index))
        meta = SnapshotMeta(self.dim, self.max_seq, int(self._index.ntotal), erase_generation,
                            tuple(sorted(self._tombstones)))
        payload = json.dumps(meta.__dict__ | {"tombstones": list(meta.tombstones), "sha256": _file_sha256(tmp_index)})
        tmp_meta = path.with_suffix(".meta.tmp")
        tmp_meta.write_text(payload)
        for tmp in (tmp_index, tmp_meta):
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp_index, path.with_suffix(".faiss"))
        os.replace(tmp_meta, path.with_suffix(".meta.json"))

    @classmethod
    def load(cls, path: Path, expected_dim: int, erase_generation: int,
             **options: float) -> "VectorIndex | None":
        """Load a snapshot if it is present, readable and consistent; else None."""
        index_file, meta_file = path.with_suffix(".faiss"), path.with_suffix(".meta.json")
        if not (index_file.exists() and meta_file.exists()):
            return None
        try:
            raw = json.loads(meta_file.read_text())
            meta = SnapshotMeta(int(raw["dim"]), int(raw["max_seq"]), int(raw["count"]),
                                int(raw["erase_generation"]), tuple(raw["tombstones"]))
            if raw.get("sha256") != _file_sha256(index_file):  # flipped bits FAISS would read without noticing
                return None
            index = faiss.read_index(str(index_file))
        except (OSError, ValueError, KeyError, RuntimeError, TypeError):
            return None
        if (meta.dim != expected_dim or index.d != expected_dim or index.ntotal != meta.count
                or meta.erase_generation != erase_generation):
            return None
        loaded = cls(expected_dim, **options)  # type: ignore[arg-type]
        loaded._index = index
        loaded._hnsw = isinstance(faiss.downcast_index(index.index), faiss.IndexHNSW)
        loaded._tombstones = set(meta.tombstones)
        loaded.max_seq = meta.max_seq
        if loaded._is_hnsw():
            faiss.downcast_index(index.index).hnsw.efSearch = loaded.ef_search
        return loaded
