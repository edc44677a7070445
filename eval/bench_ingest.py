"""Throughput parts of the benchmark: raw embedding, in-process ingest, ingest over HTTP."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from engine import Engine, EventIn, Settings
from engine.embedder import Embedder

BATCH = 64


@dataclass
class Throughput:
    """How long a pass over `items` took and what the embedder saw meanwhile."""

    items: int
    seconds: float
    texts_embedded: int = 0
    embed_seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Items per second."""
        return self.items / self.seconds if self.seconds else float("nan")


class CountingEmbedder:
    """Passes calls to the real embedder; counts the texts it was given and the time it took."""

    def __init__(self, inner: Embedder):
        self.inner, self.name, self.dim, self.texts, self.seconds = inner, inner.name, inner.dim, 0, 0.0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with the wrapped model."""
        self.texts += len(texts)
        start = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - start

    def __getattr__(self, name: str) -> object:
        """Pass `embed_titled` through (counted as one text per report) when the model has it."""
        method = getattr(self.inner, name)
        if name != "embed_titled":
            return method

        def counted(titles: Sequence[str], bodies: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
            self.texts += len(titles)
            start = time.perf_counter()
            try:
                return method(titles, bodies)
            finally:
                self.seconds += time.perf_counter() - start
        return counted


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`uvicorn api.app:create_app` in a subprocess on a free port with a fresh data dir."""

    def __init__(self, data_dir: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, HYPERCORR_DATA_DIR=str(data_dir), HYPERCORR_BACKEND="embedded")
        self.log_path = data_dir.parent / "server.log"
        self._log = open(self.log_path, "wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, client: httpx.Client, timeout: float = 300.0) -> float:
        """Seconds from spawn until /healthz answers (imports + model + store)."""
        while time.perf_counter() - self.started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                if client.get(f"{self.url}/healthz", timeout=2.0).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self) -> str:
        """The end of the server's output."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-1500:]

    def stop(self) -> None:
        """Graceful shutdown (the engine closes), then kill if it hangs."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def _payload(events: Sequence[EventIn]) -> dict:
    return {"events": [e.model_dump(mode="json", exclude_none=True) for e in events]}


@dataclass
class IngestRun:
    """One interleaved run: raw embedding of each 64-text batch, then ingest in-process and over HTTP."""

    raw: Throughput
    in_process: Throughput
    http: Throughput
    server_start: float
    vectors: np.ndarray
    title_vectors: np.ndarray


def interleaved_ingest(embedder: Embedder, texts: Sequence[str], local: Sequence[EventIn],
                       remote: Sequence[EventIn], warmup: Sequence[EventIn]) -> IngestRun:
    """Time the three passes batch by batch, rotating their order, so background load hits all alike.

    Returns the stored vectors and title vectors of `local` as ingest computed them (the bases of
    the synthetic store fill).

    The in-process engine gets a fresh embedded store; the server is `uvicorn api.app:create_app` in a
    subprocess with its own fresh store, warmed up with `warmup` (not counted) before timing.
    """
    spent = {"raw": 0.0, "local": 0.0, "remote": 0.0}
    with tempfile.TemporaryDirectory(prefix="hypercorr-bench-ingest-") as tmp, \
            httpx.Client(timeout=300.0) as client:
        server = Server(Path(tmp) / "served")
        engine = Engine(Settings(backend="embedded", data_dir=Path(tmp) / "local"))
        counter = CountingEmbedder(engine.embedder)
        engine.embedder = counter
        try:
            ready = server.wait_ready(client)
            client.post(f"{server.url}/v1/events", json=_payload(warmup)).raise_for_status()
            batches = [(i, min(i + BATCH, len(texts))) for i in range(0, len(texts), BATCH)]
            payloads = [_payload(remote[a:b]) for a, b in batches]

            def raw(a: int, b: int, n: int) -> None:
                embedder.embed(texts[a:b])

            def local_ingest(a: int, b: int, n: int) -> None:
                engine.ingest(local[a:b])

            def remote_ingest(a: int, b: int, n: int) -> None:
                response = client.post(f"{server.url}/v1/events", json=payloads[n])
                if response.status_code != 201 or response.json()["created"] != b - a:
                    raise RuntimeError(f"ingest answered {response.status_code}: {response.text[:300]}")
            passes = [("raw", raw), ("local", local_ingest), ("remote", remote_ingest)]
            for n, (a, b) in enumerate(batches):
                for name, run in passes[n % 3:] + passes[:n % 3]:
                    start = time.perf_counter()
                    run(a, b, n)
                    spent[name] += time.perf_counter() - start
            if engine.stats().events != len(local):
                raise RuntimeError("in-process ingest lost events")
            seqs = [engine.get_event(e.id).seq for e in local]
            stored = engine.store.get_vectors(seqs)
            titles = engine.store.get_title_vectors(seqs) if hasattr(engine.store, "get_title_vectors") else stored
        finally:
            engine.close()
            server.stop()
    return IngestRun(Throughput(len(texts), spent["raw"], len(texts)),
                     Throughput(len(local), spent["local"], counter.texts, counter.seconds),
                     Throughput(len(remote), spent["remote"]), ready, stored, titles)


def ingest_into(engine: Engine, embedder: Embedder, events: Sequence[EventIn]) -> tuple[Throughput, Throughput]:
    """Raw embedding vs Engine.ingest of the same events, batch by batch, into an existing (filled) store."""
    from engine.text import embedding_text

    raw = local = 0.0
    for i in range(0, len(events), BATCH):
        batch = events[i:i + BATCH]
        start = time.perf_counter()
        embedder.embed([embedding_text(e.title, e.text) for e in batch])
        middle = time.perf_counter()
        engine.ingest(batch)
        raw, local = raw + middle - start, local + time.perf_counter() - middle
    return Throughput(len(events), raw, len(events)), Throughput(len(events), local)
