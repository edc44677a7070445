"""Store-scale parts of the benchmark: fill, related/search latency, breakdown, restart, size."""
from __future__ import annotations

import cProfile
import functools
import gc
import pstats
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import psutil
from tqdm import tqdm

from context_store import create_store
from engine import Engine, Settings
from engine.heap import freeze_loaded_state
from engine.text import ANALYZER
from eval.bench_data import SyntheticEvents

# Store methods a related() call may go through, with the label they get in the breakdown.
STORE_PARTS = {
    "get_event": "anchor row (get_event SQL)",
    "document_frequencies": "term DF (in memory)",
    "lexical_search": "BM25 query (in-memory postings)",
    "lexical_self_score": "BM25 self score",
    "vector_search": "FAISS search",
    "get_vectors": "stored vectors (FAISS reconstruct)",
    "get_title_vectors": "title vectors (in memory)",
    "get_contexts": "candidate contexts (in memory)",
    "get_events": "result rows (get_events SQL)",
    "terms_contained": "shared terms (postings)",
}


@dataclass
class Latency:
    """Percentiles of a sample of call durations, in milliseconds."""

    p50: float
    p99: float
    mean: float
    count: int

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Latency":
        """Summarise durations given in seconds."""
        ms = np.asarray(seconds) * 1000.0
        return cls(float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), float(ms.mean()), len(ms))


def rss() -> int:
    """Resident set size of this process, after a collection."""
    gc.collect()
    return psutil.Process().memory_info().rss


class SyntheticMemberships:
    """Narrative memberships for filled events: one narrative and one micro-cluster per base report.

    Events stored with store.add_events bypass the engine's narrative assignment, and an Engine
    assigns every event without a membership when it starts; writing these rows (through the
    store's narrative tables, as the narrative service does) keeps a restart from doing that.
    Real stores hold far more micro-clusters, so the narrative part of a restart is a lower bound.
    """

    def __init__(self, engine: Engine):
        from context_store import MemberRow  # present when the engine keeps narratives

        self.store, self.row = engine.store, MemberRow
        self.narrative: dict[int, str] = {}
        self.root: dict[int, int] = {}

    def write(self, seqs: Sequence[int], bases: np.ndarray, nn: np.ndarray, batch: Sequence) -> None:
        """Record the batch's memberships in one transaction."""
        now = datetime.now(timezone.utc)
        with self.store.transaction() as tables:  # type: ignore[attr-defined]
            rows = []
            for seq, base, similarity, event in zip(seqs, bases.tolist(), nn.tolist(), batch):
                if base not in self.narrative:
                    self.narrative[base], self.root[base] = tables.create(event.record.occurred_at), seq
                rows.append(self.row(seq, self.narrative[base], self.root[base], float(similarity), "auto"))
            tables.assign(rows, now)


def memberships_for(engine: Engine) -> SyntheticMemberships | None:
    """A membership writer when the engine keeps narratives in the store, else None."""
    if not hasattr(engine, "narratives") or not hasattr(engine.store, "transaction"):
        return None
    try:
        return SyntheticMemberships(engine)
    except ImportError:
        return None


def fill(engine: Engine, events: SyntheticEvents, count: int, label: str,
         memberships: SyntheticMemberships | None = None) -> float:
    """Add `count` synthetic events with store.add_events; returns the seconds spent inside add_events."""
    spent = 0.0
    with tqdm(total=count, desc=label, unit="ev", unit_scale=True, leave=False, file=sys.stderr) as bar:
        for batch in events.batches(count):
            start = time.perf_counter()
            seqs = engine.store.add_events(batch)
            spent += time.perf_counter() - start
            if memberships is not None:
                memberships.write(seqs, events.last_bases, events.last_nn, batch)
            bar.update(len(batch))
    return spent


def _timed(calls: Sequence[Callable[[], object]], warmup: int, budget: float) -> Latency:
    """Run the warm-up calls, then time the others until they run out or `budget` seconds pass."""
    for call in calls[:warmup]:
        call()
    durations: list[float] = []
    for call in calls[warmup:]:
        start = time.perf_counter()
        call()
        durations.append(time.perf_counter() - start)
        if sum(durations) > budget:
            break
    return Latency.of(durations)


def related_latency(engine: Engine, stored: int, queries: int, seed: int, warmup: int = 30,
                    budget: float = 45.0) -> Latency:
    """engine.related(id, k=10) for random stored ids (vectors come from the index: no embedding).

    The loaded state is frozen out of the garbage collector first, as the server does at start-up.
    """
    freeze_loaded_state()
    rng = random.Random(seed)
    ids = [f"bench-{rng.randrange(stored)}" for _ in range(queries + warmup)]
    return _timed([functools.partial(engine.related, i, 10) for i in ids], warmup, budget)


def search_latency(engine: Engine, texts: Sequence[str], queries: int, seed: int, warmup: int = 3,
                   budget: float = 20.0) -> Latency:
    """engine.search(text, k=10), which embeds the text first."""
    rng = random.Random(seed)
    picks = [rng.choice(texts) for _ in range(queries + warmup)]
    return _timed([functools.partial(engine.search, t, 10) for t in picks], warmup, budget)


def related_breakdown(engine: Engine, stored: int, queries: int, seed: int,
                      budget: float = 20.0) -> tuple[float, list[tuple[str, float]], dict[str, float]]:
    """Mean ms per related() call, the part spent in each store method (wrapped on the instance),
    and the mean number of lexical query terms and lexical hits per call."""
    store, spent, seen = engine.store, {}, {"calls": 0, "terms": 0.0, "hits": 0.0}
    wrapped = [name for name in STORE_PARTS if hasattr(store, name)]

    def timer(name: str, method: Callable) -> Callable:
        def call(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                result = method(*args, **kwargs)
                if name == "lexical_search":
                    seen["calls"] += 1
                    seen["terms"] += len(args[0])
                    seen["hits"] += len(result)  # type: ignore[arg-type]
                return result
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return call
    for name in wrapped:
        setattr(store, name, timer(name, getattr(store, name)))
    try:
        rng = random.Random(seed)
        start, done = time.perf_counter(), 0
        while done < queries and time.perf_counter() - start < budget:
            engine.related(f"bench-{rng.randrange(stored)}", 10)
            done += 1
        total = (time.perf_counter() - start) * 1000.0 / done
    finally:
        for name in wrapped:
            delattr(store, name)
    parts = [(STORE_PARTS[n], spent[n] * 1000.0 / done) for n in wrapped if n in spent]
    parts.append(("ranking, evidence, records (python)", total - sum(ms for _, ms in parts)))
    calls = max(1, seen.pop("calls"))
    return total, parts, {"calls": done, "terms": seen["terms"] / calls, "hits": seen["hits"] / calls}


def hot_functions(engine: Engine, stored: int, queries: int, seed: int, top: int = 8) -> list[tuple[str, float]]:
    """cProfile of related(): the functions with most own time, in ms per call (profiler-inflated)."""
    rng = random.Random(seed)
    ids = [f"bench-{rng.randrange(stored)}" for _ in range(queries)]
    profiler = cProfile.Profile()
    profiler.enable()
    for event_id in ids:
        engine.related(event_id, 10)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    return [(f"{Path(f).name}:{line}({name})", tt * 1000.0 / queries) for (f, line, name), (_, _, tt, _, _) in rows]


RESTART_PARTS = {("embedded.py", "_load_or_rebuild_index"): "FAISS snapshot",
                 ("embedded.py", "_rebuild_graph_and_contexts"): "issue graph and event contexts",
                 ("lexical_index.py", "load"): "lexical postings", ("embedded.py", "_load_title_vectors"): "title vectors", ("sqlite_schema.py", "connect"): "SQLite open",
                 ("service.py", "_rebuild"): "narrative rebuild"}


def timed_open_store(settings: Settings, dim: int, model_name: str) -> float:
    """Seconds to open the store alone (SQLite, FAISS snapshot, terms, title vectors, issue graph)."""
    start = time.perf_counter()
    store = create_store("embedded", settings.data_dir, dim, model_name, settings.hnsw_threshold,
                         settings.snapshot_every, ANALYZER)
    seconds = time.perf_counter() - start
    store.close()
    return seconds


def timed_restart(settings: Settings, profile: bool = False) -> tuple[float, Engine, dict[str, float]]:
    """Seconds to construct an Engine on an existing data dir; with `profile`, shares of its parts."""
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    engine = Engine(settings)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    shares: dict[str, float] = {}
    if profiler:
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        total = max(ct for (_, _, _, ct, _) in stats.values())
        for (path, _, name), (_, _, _, ct, _) in stats.items():
            label = RESTART_PARTS.get((Path(path).name, name))
            if label:
                shares[label] = shares.get(label, 0.0) + ct / total
    return seconds, engine, shares


def disk_usage(data_dir: Path) -> dict[str, int]:
    """Bytes per file kind in a data dir."""
    sizes = {"sqlite": 0, "vectors": 0, "other": 0}
    for path in data_dir.rglob("*"):
        if path.is_file():
            kind = "sqlite" if "sqlite" in path.name else "vectors" if path.name.startswith("vectors") else "other"
            sizes[kind] += path.stat().st_size
    return sizes


_LOAD_SNIPPET = """
import time
start = time.perf_counter()
from engine.embedder import create_embedder
from engine.settings import Settings
create_embedder(Settings())
print(time.perf_counter() - start)
"""


def model_load_seconds() -> tuple[float, str]:
    """Cold model load (imports + weights): timed here if not loaded yet, else in a subprocess."""
    from engine.embedder import _load_model, create_embedder

    if _load_model.cache_info().currsize == 0:
        how = "first load in this process" + (", torch already imported" if "torch" in sys.modules else "")
        start = time.perf_counter()
        create_embedder(Settings())
        return time.perf_counter() - start, how
    out = subprocess.run([sys.executable, "-c", _LOAD_SNIPPET], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1]), "fresh subprocess"
