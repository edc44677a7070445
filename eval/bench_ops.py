"""Does the service topology hurt narratives when it carries no information? (a null-topology check)

    python -m eval.bench_ops [--seeds 0 1]

The hypercare scenario of `hypercorr eval context` (eval/scenario.py; about one event in six
marked as an alert, seeded) is streamed with the real model through three in-memory engines:
no topology; a random dependency graph over the scenario's systems (each depends on one or two
systems listed before it: unrelated to the gold problems) with the default rules; and the same
random graph with `ContextRules.topology_placement` on (topology partners may place events).
A topology that knows nothing should change nothing: pair precision of the narratives and the
quality of related() (RR@1 and MAP over the top 10; earlier reports of the same problem are
relevant) show when it does.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
from collections.abc import Sequence

import numpy as np

from engine import Engine, RelatedFilters, Settings
from engine.embedder import Embedder, create_embedder
from eval.metrics import summarise
from eval.report import format_table
from eval.scenario import SYSTEMS, ScenarioEvent, generate, score, stream_scenario


def null_topology(seed: int) -> dict[str, list[str]]:
    """Each system depends on one or two systems listed before it (random, so meaningless)."""
    rng = np.random.default_rng(seed)
    return {s: [str(d) for d in rng.choice(SYSTEMS[:i], size=min(i, int(rng.integers(1, 3))), replace=False)]
            for i, s in enumerate(SYSTEMS) if i}


def with_alerts(events: Sequence[ScenarioEvent], seed: int) -> list[ScenarioEvent]:
    """About one event in six becomes an alert (same text, systems and gold label)."""
    rng = random.Random(seed)
    return [dataclasses.replace(e, kind="alert") if rng.random() < 1 / 6 else e for e in events]


def run(events: Sequence[ScenarioEvent], embedder: Embedder, topology: dict[str, list[str]] | None,
        placement: bool) -> dict[str, float]:
    """Stream the scenario through one engine and score its narratives."""
    engine = Engine(Settings(backend="memory"), embedder=embedder)
    engine.narratives.rules = dataclasses.replace(engine.narratives.rules, topology_placement=placement)
    if topology:
        engine.set_topology(topology)
    result = score(events, stream_scenario(engine, events, context=True))
    seqs = [engine.get_event(e.id).seq for e in events]
    links = engine.store.narratives.links_touching(seqs)
    result["topology_links"] = sum("topology_path" in link.evidence for link in links)
    result.update(related_quality(engine, events))
    engine.close()
    return result


def related_quality(engine: Engine, events: Sequence[ScenarioEvent], k: int = 10) -> dict[str, float]:
    """RR@1 and MAP (top k) of related(): for each problem report, earlier reports of its problem are relevant."""
    rankings = []
    for i, event in enumerate(events):
        gold = {e.id for e in events[:i] if e.gold == event.gold and e.occurred_at <= event.occurred_at}
        if event.role == "problem" and gold:
            hits = engine.related(event.id, k, RelatedFilters(earlier_only=True))
            rankings.append(([h.event.id for h in hits], gold))
    figures = summarise(rankings, ks=(1,))
    return {"related_RR@1": 100.0 * figures["RR@1"], "related_MAP": 100.0 * figures["MAP"]}


def main(argv: Sequence[str] | None = None) -> None:
    """Print one table per seed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args(argv)
    embedder = create_embedder(Settings())
    for seed in args.seeds:
        events = with_alerts(generate(seed), seed)
        rows = []
        for label, topology, placement in (("no topology", None, False),
                                           ("null topology (default rules)", null_topology(seed), False),
                                           ("null topology, topology_placement on", null_topology(seed), True)):
            r = run(events, embedder, topology, placement)
            rows.append([label, *(f"{r[m]:.1f}" for m in ("pair_P", "pair_R", "pair_F1", "ARI", "related_RR@1",
                                                          "related_MAP")),
                         int(r["narratives"]), int(r["topology_links"])])
        print(f"seed {seed}: {len(events)} events, {sum(e.kind == 'alert' for e in events)} of them alerts")
        print(format_table(["engine", "pair P", "pair R", "pair F1", "ARI", "related RR@1", "related MAP", "narratives",
                            "links with a topology path"], rows))


if __name__ == "__main__":
    main()
