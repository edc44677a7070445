"""`hypercorr eval clustering`: streaming narrative clustering scored against gold intents.

Rows stream through the engine in file order as feedback events without user or system (so
this measures the text side), then the narratives are scored with ACC (Hungarian one-to-one
matching), NMI and ARI, beside same-run peers on the same embeddings: k-means at the gold
number of labels and a batch average-linkage agglomerative clustering (cosine distance 0.5).
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from tqdm import tqdm

from engine import Engine, EventIn, Settings
from engine.events import MAX_TEXT_CHARS
from eval.report import print_table

TEXT_FIELDS = ("utterance", "text")
LABEL_FIELDS = ("reference_label", "intent", "label", "category")
START = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) from a JSONL file, or from a CSV file with a header row (by suffix)."""
    with path.open(encoding="utf-8", newline="") as handle:
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(handle)
            for row in reader:
                yield reader.line_num, row
            return
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, json.loads(line)


def load_labelled_texts(path: Path) -> tuple[list[str], list[str]]:
    """Texts and gold labels from JSONL or CSV (text: utterance|text; label: reference_label|intent|label|category)."""
    texts, labels = [], []
    for number, row in _rows(path):
        text = next((row[f] for f in TEXT_FIELDS if row.get(f)), None)
        label = next((row[f] for f in LABEL_FIELDS if row.get(f) not in (None, "")), None)
        if text is None or label is None:
            raise ValueError(f"{path}:{number}: needs a text field ({'|'.join(TEXT_FIELDS)}) "
                             f"and a label field ({'|'.join(LABEL_FIELDS)})")
        texts.append(str(text))
        labels.append(str(label))
    return texts, labels


def clustering_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """ACC (Hungarian), NMI and ARI in percent, and the number of predicted clusters."""
    gold_ids = {g: i for i, g in enumerate(sorted(set(gold)))}
    pred_ids = {p: i for i, p in enumerate(sorted(set(predicted)))}
    table = np.zeros((len(pred_ids), len(gold_ids)), dtype=np.int64)
    for g, p in zip(gold, predicted):
        table[pred_ids[p], gold_ids[g]] += 1
    rows, cols = linear_sum_assignment(-table)
    return {"ACC": 100.0 * table[rows, cols].sum() / len(gold),
            "NMI": 100.0 * normalized_mutual_info_score(gold, predicted),
            "ARI": 100.0 * adjusted_rand_score(gold, predicted), "narratives": len(pred_ids)}


def stream(engine: Engine, texts: Sequence[str], batch: int = 64) -> list[str]:
    """Ingest texts in order as feedback events; returns each row's narrative after a final consolidation."""
    ids = [f"row-{i:06d}" for i in range(len(texts))]
    for start in tqdm(range(0, len(texts), batch), desc="stream", unit="batch", leave=False):
        engine.ingest([EventIn(id=ids[i], text=texts[i][:MAX_TEXT_CHARS] or "-", channel="chat",
                               occurred_at=START + timedelta(minutes=i))
                       for i in range(start, min(len(texts), start + batch))])
    engine.narratives.consolidate()
    return [engine.narrative_of(i) or "" for i in ids]


def evaluate(path: Path, engine: Engine | None = None) -> dict[str, object]:
    """Stream, score, and compute the peers on the same embeddings."""
    texts, gold = load_labelled_texts(path)
    engine = engine or Engine(Settings(backend="memory"))
    predicted = stream(engine, texts)
    vectors = engine.store.get_vectors([engine.store.get_event(f"row-{i:06d}").seq for i in range(len(texts))])
    k = len(set(gold))
    kmeans = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(vectors)
    agglomerative = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                            distance_threshold=0.5).fit_predict(vectors)
    peers = {"kmeans_gold_k": clustering_scores(gold, [str(c) for c in kmeans]),
             "agglomerative_0.5": clustering_scores(gold, [str(c) for c in agglomerative])}
    return {**clustering_scores(gold, predicted), "rows": len(texts), "gold_labels": k, "peers": peers}


def run_clustering_eval(path: Path, as_json: bool = False) -> dict[str, object]:
    """Evaluate, print a table, and (with `as_json`) end with one JSON line."""
    result = evaluate(path)
    columns = ["ACC", "NMI", "ARI"]
    rows = [["hypercorr streaming narratives", *(f"{result[c]:.1f}" for c in columns), result["narratives"]]]
    for name, figures in result["peers"].items():  # type: ignore[union-attr]
        rows.append([f"peer: {name}", *(f"{figures[c]:.1f}" for c in columns), figures["narratives"]])
    print(f"Narrative clustering on {path} ({result['rows']} rows, {result['gold_labels']} gold labels, streamed)")
    print_table(["system", *columns, "clusters"], rows)
    if as_json:
        print(json.dumps(result))
    return result
