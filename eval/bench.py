"""`hypercorr bench`: embedding, ingest, related-report latency, restart and memory on this machine.

Everything is measured in one run on the machine it runs on:

1. raw throughput of the configured embedder on real report texts (gitbugs/hadoop when
   ../shared/datasets exists, else bundled synthetic reports), batched at the engine's batch size;
2. end-to-end ingest of the same texts in batches of 64, in-process and over HTTP (a real uvicorn
   subprocess), as events/s and as a ratio to (1);
3. related-report latency (engine.related: the anchor's stored vector, no embedding) on stores
   filled without the model (synthetic vectors around real embeddings, recombined real texts),
   and free-text search latency (with embedding) for reference;
4. restart time of an Engine on the filled store, and the cold model load;
5. resident memory and disk per stored event.
"""
from __future__ import annotations

import os
import platform
import resource
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine import Engine, Settings
from engine.embedder import Embedder, create_embedder
from eval import bench_ingest, bench_store
from eval.bench_data import SyntheticEvents, embedding_texts, event_ins, load_reports

RATIO_TARGET = 0.85
RELATED_P99_TARGET_MS = 5.0


@dataclass(frozen=True)
class Plan:
    """Sizes of one benchmark run (query counts are capped by a time budget per size)."""

    texts: int
    sizes: tuple[int, int]
    related_queries: int = 300
    search_queries: int = 50
    breakdown_queries: int = 100


FULL = Plan(texts=1000, sizes=(10_000, 100_000))
QUICK = Plan(texts=200, sizes=(2_000, 10_000), search_queries=20)
MARK = {True: "PASS", False: "FAIL"}


def format_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
    return "\n".join([title, line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


def _show(title: str, header: Sequence[str], rows: Sequence[Sequence[object]], note: str = "") -> None:
    print()
    print(format_table(title, header, rows))
    if note:
        print(note)


def _k(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _kb(n: float) -> str:
    return f"{n / 1024:.2f} KB"


def _ingest_part(plan: Plan, settings: Settings, embedder: Embedder) -> tuple[bench_ingest.IngestRun, list, list]:
    """Parts 1 and 2; returns the run, the sample reports and all reports."""
    reports, source = load_reports(plan.texts + 64)
    sample, warm = reports[:plan.texts], reports[plan.texts:plan.texts + 64] or reports[:64]
    texts = embedding_texts(sample)
    print(f"texts: {len(texts)} from {source}; mean {sum(map(len, texts)) / len(texts):.0f} chars; "
          f"embedder {embedder.name}, batch size {settings.embed_batch_size}")
    embedder.embed(embedding_texts(warm))  # warm-up, not counted
    run = bench_ingest.interleaved_ingest(embedder, texts, event_ins(sample, "local"), event_ins(sample, "remote"),
                                          event_ins(warm, "warmup"))
    raw, local, http = run.raw, run.in_process, run.http
    _show("1. Raw embedding throughput (same texts, after warm-up)", ["pass", "texts", "seconds", "sentences/s"],
          [[f"embedder.embed per 64-text batch (batch size {settings.embed_batch_size})", raw.items,
            f"{raw.seconds:.1f}", f"{raw.rate:.1f}"]])
    per_event = local.texts_embedded / local.items
    _show("2. End-to-end ingest, batches of 64, fresh stores",
          ["path", "events", "seconds", "events/s", "ratio to raw"],
          [[name, t.items, f"{t.seconds:.1f}", f"{t.rate:.1f}", f"{t.rate / raw.rate:.2f}"]
           for name, t in (("in-process Engine.ingest", local), ("HTTP POST /v1/events (uvicorn)", http))],
          f"1. and 2. ran batch by batch, interleaved in rotating order; target ratio >= {RATIO_TARGET}\n"
          f"in-process ingest embedded {per_event:.2f} texts per event"
          f"{' (full text + title)' if per_event > 1.01 else ''}; embedding took {local.embed_seconds:.1f} s "
          f"({local.embed_seconds / local.seconds:.0%}), everything else {local.seconds - local.embed_seconds:.2f} s")
    return run, sample, reports


def run_bench(quick: bool = False) -> dict[str, object]:
    """Run every part, print the tables and a summary with pass/fail marks; returns the numbers."""
    plan, began = (QUICK if quick else FULL), time.perf_counter()
    settings = Settings()
    load_seconds, load_how = bench_store.model_load_seconds()
    import torch  # loaded with the model

    print(f"hypercorr bench ({'quick' if quick else 'full'}) on {platform.node()}: {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    embedder = create_embedder(settings)
    run, sample, reports = _ingest_part(plan, settings, embedder)

    search_texts = embedding_texts(reports)
    latency_rows, counts = [], []
    with tempfile.TemporaryDirectory(prefix="hypercorr-bench-store-") as tmp:
        store_settings = Settings(backend="embedded", data_dir=Path(tmp) / "data")
        engine = Engine(store_settings, embedder=embedder)
        events = SyntheticEvents(sample, run.vectors, run.title_vectors, reports, total=plan.sizes[-1])
        rss_before, filled = bench_store.rss(), 0
        for size in plan.sizes:
            store_seconds = bench_store.fill(engine, events, size - filled, f"fill to {_k(size)}")
            rate, filled = (size - filled) / store_seconds, size
            related = bench_store.related_latency(engine, size, plan.related_queries, seed=size)
            search = bench_store.search_latency(engine, search_texts, plan.search_queries, seed=size)
            latency_rows.append([_k(size), engine.stats().index_kind, f"{related.p50:.2f}", f"{related.p99:.2f}",
                                 f"{related.mean:.2f}", f"{search.p50:.1f}", f"{search.p99:.1f}", f"{rate:,.0f}"])
            counts.append(f"{_k(size)}: {related.count}/{search.count}")
        rss_after = bench_store.rss()
        total_ms, parts, seen = bench_store.related_breakdown(engine, size, plan.breakdown_queries, seed=7)
        hot = bench_store.hot_functions(engine, size, 30, seed=8) if related.p99 > RELATED_P99_TARGET_MS else []
        engine.close()
        disk = bench_store.disk_usage(store_settings.data_dir)
        restart_seconds, engine, _ = bench_store.timed_restart(store_settings)
        restored = engine.stats()
        engine.related("bench-0", 10)  # the restarted engine answers
        engine.close()
        _, engine, shares = bench_store.timed_restart(store_settings, profile=True)
        engine.close()

    _show("3. Related-report latency, k=10, ms (related: stored vector, no embedding; search: embeds the text)",
          ["stored", "index", "related p50", "p99", "mean", "search p50", "p99", "fill ev/s"], latency_rows,
          f"timed related/search queries after warm-up: {', '.join(counts)}; fill = store.add_events, "
          "batches of 1000, synthetic vectors (no model)")
    _show(f"   Where related() time goes at {_k(size)} (mean of {seen['calls']:.0f} calls)",
          ["part", "ms/call", "share"], [[p, f"{ms:.2f}", f"{ms / total_ms:.0%}"] for p, ms in parts]
          + [["total", f"{total_ms:.2f}", "100%"]],
          f"FTS5 query: {seen['terms']:.0f} OR-ed terms, {seen['hits']:.0f} hits per call on average")
    if hot:
        _show("   cProfile hot spots (own time, profiler-inflated)", ["function", "ms/call"],
              [[f, f"{ms:.2f}"] for f, ms in hot])
    share_text = ", ".join(f"{name} {share:.0%}" for name, share in sorted(shares.items(), key=lambda kv: -kv[1]))
    _show("4. Start-up", ["what", "seconds"], [
        [f"cold model load ({load_how})", f"{load_seconds:.1f}"],
        ["HTTP server cold start (subprocess, to /healthz)", f"{run.server_start:.1f}"],
        [f"Engine restart at {_k(size)} ({restored.events:,} events, {restored.index_kind}; model already loaded)",
         f"{restart_seconds:.2f}"]], f"restart profile: {share_text}")
    rss_per_event, disk_total = (rss_after - rss_before) / size, sum(disk.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    _show(f"5. Memory and disk at {_k(size)} events", ["what", "total", "per event"], [
        ["RSS growth while filling", _mb(rss_after - rss_before), _kb(rss_per_event)],
        ["disk: SQLite (rows, FTS5, vectors)", _mb(disk["sqlite"]), _kb(disk["sqlite"] / size)],
        ["disk: FAISS snapshot", _mb(disk["vectors"]), _kb(disk["vectors"] / size)],
        ["disk: total", _mb(disk_total), _kb(disk_total / size)]],
        f"process peak RSS {_mb(peak)} (includes the model)")

    raw, local, http = run.raw, run.in_process, run.http
    ok = {"local": local.rate / raw.rate >= RATIO_TARGET, "http": http.rate / raw.rate >= RATIO_TARGET,
          "p99": related.p99 <= RELATED_P99_TARGET_MS}
    at = f"at {_k(size)}"
    _show("Summary", ["metric", "target", "measured", "result"], [
        ["in-process ingest / raw embedding", f">= {RATIO_TARGET}", f"{local.rate / raw.rate:.2f}", MARK[ok["local"]]],
        ["HTTP ingest / raw embedding", f">= {RATIO_TARGET}", f"{http.rate / raw.rate:.2f}", MARK[ok["http"]]],
        [f"related p99 {at}" + (" (target is for 100k)" if size != 100_000 else ""),
         f"<= {RELATED_P99_TARGET_MS:.0f} ms", f"{related.p99:.2f} ms", MARK[ok["p99"]]],
        [f"restart {at}", "-", f"{restart_seconds:.2f} s", "info"],
        ["RSS per stored event", "-", _kb(rss_per_event), "info"],
        ["disk per stored event", "-", _kb(disk_total / size), "info"]],
        f"total bench time {time.perf_counter() - began:.0f} s")
    return {"raw_rate": raw.rate, "inproc_rate": local.rate, "http_rate": http.rate, "related_p99_ms": related.p99,
            "restart_s": restart_seconds, "rss_per_event": rss_per_event, "disk_per_event": disk_total / size,
            "passed": all(ok.values())}
