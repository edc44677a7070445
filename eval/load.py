"""`hypercorr bench --load`: a bounded mixed workload from concurrent clients against a real server.

A `uvicorn` subprocess serves a fresh data directory on 127.0.0.1 with an admin key (so every
request goes through key verification); it is seeded over HTTP (not timed), then `clients`
threads draw operations from a weighted mix until `operations` are done or `seconds` run out.
Per endpoint: requests, errors (any non-2xx or transport error), throughput, p50/p99/max.

The mix is a list of `Operation`s; one whose route is not in the served OpenAPI document is
left out (a server of an older version). Add an entry to `MIX` for a new endpoint.
The per-key rate limit is switched off for the run (it measures capacity, not the throttle).
"""
from __future__ import annotations

import os
import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from context_store.api_keys import KeyTable
from eval.bench_data import event_ins, load_reports
from eval.bench_ingest import Server
from eval.report import format_table


@dataclass
class LoadState:
    """What the operations draw from: stored ids, users, texts for new events; shared by clients."""

    ids: list[str]
    users: list[str]
    texts: list[str]
    fresh: list[dict]
    narratives: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_event(self) -> dict | None:
        with self.lock:
            return self.fresh.pop() if self.fresh else None


Call = Callable[[httpx.Client, random.Random, LoadState], httpx.Response | None]


@dataclass(frozen=True)
class Operation:
    """One kind of request in the mix: its label, weight, route template (to check it is served) and call."""

    name: str
    weight: float
    route: tuple[str, str]  # method, template as in the OpenAPI document
    call: Call


def _ingest(client: httpx.Client, rng: random.Random, state: LoadState) -> httpx.Response | None:
    event = state.next_event()
    if event is None:
        return None
    response = client.post("/v1/events", json=event)
    if response.status_code < 300:
        with state.lock:
            state.ids.append(event["id"])
    return response


def _narrative(client: httpx.Client, rng: random.Random, state: LoadState) -> httpx.Response | None:
    if not state.narratives:
        return None
    return client.get(f"/v1/narratives/{rng.choice(state.narratives)}")


MIX: list[Operation] = [
    Operation("ingest (1 event)", 2, ("post", "/v1/events"), _ingest),
    Operation("related", 4, ("get", "/v1/events/{event_id}/related"),
              lambda c, r, s: c.get(f"/v1/events/{r.choice(s.ids)}/related", params={"k": 10})),
    Operation("search", 1, ("post", "/v1/search"), lambda c, r, s: c.post("/v1/search", json={"text": r.choice(s.texts)})),
    Operation("narratives list", 2, ("get", "/v1/narratives"), lambda c, r, s: c.get("/v1/narratives", params={"limit": 20})),
    Operation("narrative detail", 1, ("get", "/v1/narratives/{narrative_id}"), _narrative),
    Operation("user history", 1, ("get", "/v1/users/{user_id}/history"),
              lambda c, r, s: c.get(f"/v1/users/{r.choice(s.users)}/history", params={"limit": 50})),
    Operation("user suggestions", 2, ("get", "/v1/users/{user_id}/suggestions"),
              lambda c, r, s: c.get(f"/v1/users/{r.choice(s.users)}/suggestions",
                                    params={"text": r.choice(s.texts)[:200], "k": 5})),
]


@dataclass
class Outcome:
    """Latencies (s) and error count of one operation."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    examples: list[str] = field(default_factory=list)


def _client_loop(base: str, headers: dict, ops: list[Operation], state: LoadState, budget: dict,
                 results: dict[str, Outcome], seed: int) -> None:
    rng = random.Random(seed)
    weights = [op.weight for op in ops]
    with httpx.Client(base_url=base, headers=headers, timeout=120.0, trust_env=False) as client:
        while time.perf_counter() < budget["deadline"]:
            with state.lock:
                if budget["left"] <= 0:
                    return
                budget["left"] -= 1
            op = rng.choices(ops, weights)[0]
            start = time.perf_counter()
            try:
                response = op.call(client, rng, state)
                error = None if response is None or response.status_code < 300 else f"{response.status_code}"
            except httpx.HTTPError as exc:
                response, error = None, repr(exc)
            elapsed = time.perf_counter() - start
            with state.lock:
                outcome = results[op.name]
                if response is not None or error:
                    outcome.latencies.append(elapsed)
                if error:
                    outcome.errors += 1
                    outcome.examples.append(error)


def _seed(client: httpx.Client, seed_events: list[dict], state: LoadState) -> None:
    for start in range(0, len(seed_events), 64):
        response = client.post("/v1/events", json={"events": seed_events[start:start + 64]})
        response.raise_for_status()
    page = client.get("/v1/narratives", params={"limit": 200}).json()
    state.narratives = [n["id"] for n in page["narratives"]]


def run_load(quick: bool = False, clients: int = 4, operations: int | None = None,
             seconds: float | None = None, seed_events: int | None = None) -> dict[str, object]:
    """Run the bounded workload and print the table; returns the figures (errors must be 0)."""
    operations = operations or (300 if quick else 1500)
    seconds = seconds or (60.0 if quick else 300.0)
    seed_count, fresh_count = (200, 150) if quick else (800, 600)
    seed_count = seed_events or seed_count
    reports, source = load_reports(seed_count + fresh_count)
    events = [e.model_dump(mode="json", exclude_none=True) for e in event_ins(reports[:seed_count + fresh_count], "load")]
    state = LoadState(ids=[e["id"] for e in events[:seed_count]],
                      users=sorted({e["user_id"] for e in events[:seed_count]}),
                      texts=[f"{e['title']} {e['text'][:300]}" for e in events[:seed_count]],
                      fresh=list(reversed(events[seed_count:])))
    with tempfile.TemporaryDirectory(prefix="hypercorr-load-") as tmp:
        data_dir = Path(tmp) / "data"
        keys = KeyTable.open(data_dir)
        _, key = keys.create("load-bench", ("admin",))
        keys.close()
        os.environ["HYPERCORR_RATE_LIMIT_PER_SECOND"] = "0"
        server = Server(data_dir)
        os.environ.pop("HYPERCORR_RATE_LIMIT_PER_SECOND", None)
        headers = {"Authorization": f"Bearer {key}"}
        try:
            with httpx.Client(base_url=server.url, headers=headers, timeout=300.0, trust_env=False) as client:
                server.wait_ready(client)
                _seed(client, events[:seed_count], state)
                paths = client.get("/openapi.json").json()["paths"]
            ops = [op for op in MIX if op.route[1] in paths and op.route[0] in paths[op.route[1]]]
            results = {op.name: Outcome() for op in ops}
            budget = {"left": operations, "deadline": time.perf_counter() + seconds}
            began = time.perf_counter()
            threads = [threading.Thread(target=_client_loop, args=(server.url, headers, ops, state, budget, results, i))
                       for i in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - began
        finally:
            server.stop()
    return _report(results, wall, clients, source, seed_count, [op.name for op in MIX if op not in ops])


def _report(results: dict[str, Outcome], wall: float, clients: int, source: str, seeded: int,
            skipped: list[str]) -> dict[str, object]:
    rows, figures = [], {}
    everything = [x for o in results.values() for x in o.latencies]
    for name, outcome in [*results.items(), ("all", Outcome(everything, sum(o.errors for o in results.values())))]:
        ms = np.array(outcome.latencies or [0.0]) * 1000
        figures[name] = {"requests": len(outcome.latencies), "errors": outcome.errors, "rps": len(outcome.latencies) / wall,
                         "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
                         "max_ms": float(ms.max())}
        f = figures[name]
        rows.append([name, f["requests"], f["errors"], f"{f['rps']:.1f}", f"{f['p50_ms']:.1f}", f"{f['p99_ms']:.1f}",
                     f"{f['max_ms']:.0f}"])
    print(f"\nLoad: {clients} concurrent clients on 127.0.0.1, {wall:.1f} s, store seeded with {seeded} events "
          f"({source}), admin key on every request, rate limit off")
    print(format_table(["endpoint", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms"], rows))
    if skipped:
        print(f"not served, left out: {', '.join(skipped)}")
    errors = figures["all"]["errors"]
    print(f"errors: {errors}" + ("" if not errors else " -> " + "; ".join(
        f"{n}: {', '.join(sorted(set(o.examples))[:3])}" for n, o in results.items() if o.errors)))
    return {"wall_seconds": wall, "clients": clients, "endpoints": figures, "errors": errors}
