"""`hypercorr bench`: embedding, ingest, related-report latency, restart and memory on this machine.

Everything is measured in one run on the machine it runs on:

1. raw throughput of the configured embedder on real report texts (gitbugs/hadoop when
   ../shared/datasets exists, else bundled synthetic reports), batched at the engine's batch size;
2. end-to-end ingest of the same texts in batches of 64, in-process and over HTTP (a real uvicorn
   subprocess), as events/s and as a ratio to (1); later, for reference, ingest into the filled store;
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
from eval.report import format_table
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
    late_events: int = 128


FULL = Plan(texts=1000, sizes=(10_000, 100_000))
QUICK = Plan(texts=200, sizes=(2_000, 10_000), search_queries=20, late_events=64)
MARK = {True: "PASS", False: "FAIL"}


def _show(title: str, header: Sequence[str], rows: Sequence[Sequence[object]], note: str = "") -> None:
    print()
    print(title)
    print(format_table(header, rows))
    if note:
        print(note)


def _k(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _kb(n: float) -> str:
    return f"{n / 1024:.2f} KB"


def _ingest_part(plan: Plan, settings: Settings, embedder: Embedder) -> tuple[bench_ingest.IngestRun, list, list]:
    """Parts 1 and 2; returns the run, the sample reports and all reports (the sample first)."""
    reports, source = load_reports(plan.texts + 64 + plan.late_events)
    sample, warm = reports[:plan.texts], reports[plan.texts:plan.texts + 64] or reports[:64]
    texts = embedding_texts(sample)
    print(f"texts: {len(texts)} from {source}; mean {sum(map(len, texts)) / len(texts):.0f} chars; "
          f"embedder {embedder.name}, batch size {settings.embed_batch_size}")
    embedder.embed(embedding_texts(warm))  # warm-up, not counted
    run = bench_ingest.interleaved_ingest(embedder, texts, event_ins(sample, "local"), event_ins(sample, "remote"),
                                          event_ins(warm, "warmup"))
    raw, local, http = run.raw, run.in_process, run.http
    _show("1. Raw embedding throughput (same texts, after warm-up)", ["pass", "texts", "seconds", "sentences/s"],
          [[f"embedder.embed per 64-text batch ({settings.embed_token_budget} word pieces, {settings.embed_batch_size} texts at most per model batch)", raw.items,
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
        memberships = bench_store.memberships_for(engine)
        can_restart = memberships is not None or not hasattr(engine, "narratives")
        events = SyntheticEvents(sample, run.vectors, run.title_vectors, reports, total=plan.sizes[-1])
        rss_before, filled = bench_store.rss(), 0
        for size in plan.sizes:
            store_seconds = bench_store.fill(engine, events, size - filled, f"fill to {_k(size)}", memberships)
            rate, filled = (size - filled) / store_seconds, size
            related = bench_store.related_latency(engine, size, plan.related_queries, seed=size)
            search = bench_store.search_latency(engine, search_texts, plan.search_queries, seed=size)
            latency_rows.append([_k(size), engine.stats().index_kind, f"{related.p50:.2f}", f"{related.p99:.2f}",
                                 f"{related.mean:.2f}", f"{search.p50:.1f}", f"{search.p99:.1f}", f"{rate:,.0f}"])
            counts.append(f"{_k(size)}: {related.count}/{search.count}")
        rss_after = bench_store.rss()
        total_ms, parts, seen = bench_store.related_breakdown(engine, size, plan.breakdown_queries, seed=7)
        hot = bench_store.hot_functions(engine, size, 30, seed=8) if related.p99 > RELATED_P99_TARGET_MS else []
        backfill_start = time.perf_counter()  # synthetic events skip ingest's triage: give them theirs now, so
        engine.triage.backfill()  # the restart below is a restart, not a one-off upgrade of old events
        backfill_seconds = time.perf_counter() - backfill_start
        engine.close()
        disk = bench_store.disk_usage(store_settings.data_dir)
        open_seconds = bench_store.timed_open_store(store_settings, embedder.dim, embedder.name)
        restart_seconds, shares, restored, late_raw, late_ingest = float("nan"), {}, None, None, None
        after = related
        if can_restart:
            restart_seconds, engine, _ = bench_store.timed_restart(store_settings)
            restored = engine.stats()
            engine.related("bench-0", 10)  # the restarted engine answers
            after = bench_store.related_latency(engine, size, plan.related_queries, seed=size + 1)
            latency_rows.append([f"{_k(size)} restarted", engine.stats().index_kind, f"{after.p50:.2f}",
                                 f"{after.p99:.2f}", f"{after.mean:.2f}", "-", "-", "-"])
            late = event_ins(reports[plan.texts + 64:plan.texts + 64 + plan.late_events], "late")
            late_raw, late_ingest = bench_ingest.ingest_into(engine, embedder, late) if late else (None, None)
            engine.close()
            _, engine, shares = bench_store.timed_restart(store_settings, profile=True)
            engine.close()

    _show("3. Related-report latency, k=10, ms (related: stored vector, no embedding; search: embeds the text)",
          ["stored", "index", "related p50", "p99", "mean", "search p50", "p99", "fill ev/s"], latency_rows,
          f"timed related/search queries after warm-up: {', '.join(counts)}; fill = store.add_events, "
          "batches of 1000, synthetic vectors (no model); 'restarted': other queries on a new Engine over the "
          "same store (posting lists weighed at start, not on first use)")
    _show(f"   Where related() time goes at {_k(size)} (mean of {seen['calls']:.0f} calls)",
          ["part", "ms/call", "share"], [[p, f"{ms:.2f}", f"{ms / total_ms:.0%}"] for p, ms in parts]
          + [["total", f"{total_ms:.2f}", "100%"]],
          f"lexical query: {seen['terms']:.0f} OR-ed terms, {seen['hits']:.0f} hits per call on average")
    if late_ingest is not None:
        _show(f"   Ingest into the filled {_k(size)} store (restarted Engine, batches of 64, other reports)",
              ["pass", "events", "seconds", "events/s", "ratio to raw"],
              [["raw embedding of the same texts", late_raw.items, f"{late_raw.seconds:.1f}",
                f"{late_raw.rate:.1f}", ""],
               ["Engine.ingest", late_ingest.items, f"{late_ingest.seconds:.1f}", f"{late_ingest.rate:.1f}",
                f"{late_ingest.rate / late_raw.rate:.2f}"]])
    if hot:
        _show("   cProfile hot spots (own time, profiler-inflated)", ["function", "ms/call"],
              [[f, f"{ms:.2f}"] for f, ms in hot])
    share_text = ", ".join(f"{name} {share:.0%}" for name, share in sorted(shares.items(), key=lambda kv: -kv[1]))
    narrative_note = (f"; narratives: {len(memberships.root):,} synthetic micro-clusters, one per base report "
                      "(real stores hold many more)" if memberships else "")
    restart_rows = [[f"cold model load ({load_how})", f"{load_seconds:.1f}"],
                    ["HTTP server cold start (subprocess, to /healthz)", f"{run.server_start:.1f}"],
                    [f"store open at {_k(size)} (SQLite, FAISS snapshot, issue graph)", f"{open_seconds:.2f}"],
                    [f"triage of the {size:,} synthetic events, before the restart (ingest triages each event)",
                     f"{backfill_seconds:.1f}"]]
    if restored is not None:
        restart_rows.append([f"Engine restart at {_k(size)} ({restored.events:,} events, {restored.index_kind}; "
                             "model already loaded)", f"{restart_seconds:.2f}"])
    _show("4. Start-up", ["what", "seconds"], restart_rows,
          f"Engine restart profile: {share_text}{narrative_note}" if restored is not None else
          "Engine restart skipped: the filled events have no narrative memberships and an Engine would assign "
          "them all at start-up")
    rss_per_event, disk_total = (rss_after - rss_before) / size, sum(disk.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    _show(f"5. Memory and disk at {_k(size)} events", ["what", "total", "per event"], [
        ["RSS growth while filling", _mb(rss_after - rss_before), _kb(rss_per_event)],
        ["disk: SQLite (rows, terms, vectors)", _mb(disk["sqlite"]), _kb(disk["sqlite"] / size)],
        ["disk: FAISS snapshot", _mb(disk["vectors"]), _kb(disk["vectors"] / size)],
        ["disk: total", _mb(disk_total), _kb(disk_total / size)]],
        f"process peak RSS {_mb(peak)} (includes the model)")

    raw, local, http = run.raw, run.in_process, run.http
    ok = {"local": local.rate / raw.rate >= RATIO_TARGET, "http": http.rate / raw.rate >= RATIO_TARGET,
          "p99": related.p99 <= RELATED_P99_TARGET_MS}
    at = f"at {_k(size)}"
    _show("Summary", ["metric", "target", "measured", "result"], [
        ["in-process ingest / raw embedding", f">= {RATIO_TARGET}", f"{local.rate / raw.rate:.3f}",
         MARK[ok["local"]]],
        ["HTTP ingest / raw embedding", f">= {RATIO_TARGET}", f"{http.rate / raw.rate:.3f}", MARK[ok["http"]]],
        *([[f"ingest / raw into the {_k(size)} store", "-", f"{late_ingest.rate / late_raw.rate:.3f}", "info"]]
          if late_ingest is not None else []),
        [f"related p99 {at}" + (" (target is for 100k)" if size != 100_000 else ""),
         f"<= {RELATED_P99_TARGET_MS:.0f} ms", f"{related.p99:.2f} ms", MARK[ok["p99"]]],
        *([[f"related p99 {at}, after a restart", "-", f"{after.p99:.2f} ms", "info"]] if restored is not None else []),
        [f"Engine restart {at}", "-", f"{restart_seconds:.2f} s", "info"],
        ["RSS per stored event", "-", _kb(rss_per_event), "info"],
        ["disk per stored event", "-", _kb(disk_total / size), "info"]],
        f"total bench time {time.perf_counter() - began:.0f} s")
    return {"raw_rate": raw.rate, "inproc_rate": local.rate, "http_rate": http.rate, "related_p99_ms": related.p99,
            "restart_s": restart_seconds, "rss_per_event": rss_per_event, "disk_per_event": disk_total / size,
            "passed": all(ok.values())}
