"""The sentence-transformers embedder with the REAL model: report and title vectors from one pass."""
from __future__ import annotations

import numpy as np
import pytest

from engine.embedder import SentenceTransformerEmbedder
from engine.text import embedding_text

REPORTS = [
    ("Disk full on datanode", "The datanode reports no space left on device when writing new blocks, "
                              "and the balancer keeps moving data onto it."),
    ("Login loop", "After the SSO change users are redirected back to the login page forever."),
    ("", "a body without a title"),
    ("A title without a body", ""),
    ("Checkout slow", "Paying an invoice takes a minute; the spinner never stops. " * 20),
]


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, small batches so several batches are exercised."""
    return SentenceTransformerEmbedder(batch_size=2)


@pytest.fixture(scope="module")
def parts(embedder: SentenceTransformerEmbedder) -> tuple[np.ndarray, np.ndarray]:
    """Full and title vectors of REPORTS from embed_titled."""
    return embedder.embed_titled([t for t, _ in REPORTS], [b for _, b in REPORTS])


def test_title_vectors_are_the_titles_own_embeddings(embedder: SentenceTransformerEmbedder,
                                                     parts: tuple[np.ndarray, np.ndarray]) -> None:
    """Titles come out as embed(title) would give them, in input order despite length sorting;
    a report with one part gets that part's embedding for both vectors."""
    full, titles = parts
    for i, (title, body) in enumerate(REPORTS):
        alone = embedder.embed([title or body])[0]
        np.testing.assert_allclose(titles[i], alone, atol=1e-5)
        if not (title and body):
            np.testing.assert_allclose(full[i], alone, atol=1e-5)


def test_report_vectors_read_both_parts(embedder: SentenceTransformerEmbedder,
                                        parts: tuple[np.ndarray, np.ndarray]) -> None:
    """A two-part report's vector is unit length, close to embedding "title. body" in one sequence,
    and closer to it than the title alone is."""
    full, titles = parts
    np.testing.assert_allclose(np.linalg.norm(full, axis=1), 1.0, atol=1e-5)
    for i, (title, body) in enumerate(REPORTS):
        if title and body:
            joined = embedder.embed([embedding_text(title, body)])[0]
            assert float(full[i] @ joined) > 0.9
            assert float(full[i] @ joined) > float(titles[i] @ joined) + 0.05
    assert embedder.embed_titled([], [])[0].shape == (0, embedder.dim)
