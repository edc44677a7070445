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


def test_token_budget_batches_embed_as_sentence_transformers_does(embedder: SentenceTransformerEmbedder) -> None:
    """Batching by token budget changes speed, not vectors: embed() equals the library's encode()
    on short, long (over the 256 word-piece limit) and padded texts, in input order."""
    texts = [b or t for t, b in REPORTS] + ["  spaces around  ", "x", "word " * 400]
    ours = SentenceTransformerEmbedder(batch_size=32, token_budget=300).embed(texts)
    library = embedder._model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(ours, library, atol=1e-5)


def test_a_body_gets_only_the_room_its_title_leaves(embedder: SentenceTransformerEmbedder) -> None:
    """Past the model's length limit, the report vector reads the same word pieces as the joined
    text: a long body's tail beyond the limit does not move it."""
    title, body = "Checkout slow", "Paying an invoice takes a minute; the spinner never stops. " * 40
    tail = " The tail is about quantum chromodynamics and the migration of swallows."
    first, _ = embedder.embed_titled([title], [body])
    second, _ = embedder.embed_titled([title], [body + tail])
    np.testing.assert_allclose(first, second, atol=1e-6)
    joined = embedder.embed([embedding_text(title, body)])[0]
    assert float(first[0] @ joined) > 0.9


def test_torch_keeps_its_threads_after_faiss_pins_its_own(embedder: SentenceTransformerEmbedder) -> None:
    """FAISS runs single-threaded per calling thread; when it shares torch's OpenMP runtime that
    would leave torch on one thread, so embedding sets torch's count back in every thread."""
    import threading

    import faiss
    import torch

    from context_store.vector_index import VectorIndex

    seen: list[tuple[int, int]] = []

    def work() -> None:
        index = VectorIndex(embedder.dim)
        index.add(np.arange(2), embedder.embed(["a", "b"]))
        index.search(embedder.embed(["a"])[0], 1)
        faiss_threads = faiss.omp_get_max_threads()
        embedder.embed(["c"])
        seen.append((faiss_threads, torch.get_num_threads()))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    work()
    assert seen == [(1, embedder.threads), (1, embedder.threads)]


def test_threads_embedding_at_once_get_what_one_thread_gets(embedder: SentenceTransformerEmbedder) -> None:
    """The server embeds from several threads (ingest and search): tokenising and the model run
    under the embedder's lock, so concurrent calls neither fail nor mix their results."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"report {i}: " + "the invoice page hangs " * (i % 7 + 1) for i in range(24)]
    alone = embedder.embed(texts)
    titled_alone = embedder.embed_titled(texts[:6], texts[6:12])[0]
    with ThreadPoolExecutor(max_workers=4) as pool:
        plain = [pool.submit(embedder.embed, texts) for _ in range(4)]
        titled = [pool.submit(embedder.embed_titled, texts[:6], texts[6:12]) for _ in range(4)]
        for future in plain:
            np.testing.assert_allclose(future.result(), alone, atol=1e-5)
        for future in titled:
            np.testing.assert_allclose(future.result()[0], titled_alone, atol=1e-5)
