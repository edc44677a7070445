"""`hypercorr eval triage`: category and sentiment quality against simple baselines.

Category: Banking77 queries (categories mapped per intent) scored with macro-F1 over the classes
present and accuracy; Hadoop bug reports scored by the share called a software bug and the share
called any defect class. Baselines: the majority class of the development split, and keyword
rules (the cue words alone). Sentiment: the hand-labelled support fixture, against the majority
class and stock VADER. Vectors come from the same embedding path as ingest.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from tqdm import tqdm
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from context_store import EventRecord
from engine.embedder import Embedder, create_embedder
from engine.ingest import embed_records
from engine.settings import Settings
from engine.triage.categories import CategoryClassifier, keyword_category
from engine.triage.sentiment import SentimentScorer, plain_vader_label
from eval.report import print_table
from eval.triage_cost import triage_cost
from eval.triage_data import Labelled, Split, banking77, hadoop, sentiment_fixture

DEFECTS = {"software_bug", "performance_issue", "configuration_error", "documentation_error"}
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Macro-F1 over the gold classes, and accuracy."""
    labels = sorted(set(gold))
    return {"macro_f1": round(float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)), 4),
            "accuracy": round(float(accuracy_score(gold, predicted)), 4)}


def vectors_of(embedder: Embedder, rows: Sequence[Labelled], batch: int = 64, label: str = "embedding") -> np.ndarray:
    """Report vectors as ingest computes them (title and text in one pass)."""
    records = [EventRecord(id=str(i), kind="feedback", title=r.title, text=r.text, user_id=None, systems=(),
                           channel=None, occurred_at=EPOCH, impact=None, urgency=None, attributes={},
                           content_hash="", ingested_at=EPOCH) for i, r in enumerate(rows)]
    parts = [embed_records(embedder, records[i:i + batch])[0]
             for i in tqdm(range(0, len(records), batch), desc=label, unit="batch", leave=False)]
    return np.vstack(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)


def _text(row: Labelled) -> str:
    return f"{row.title}\n{row.text}".strip()


def category_eval(embedder: Embedder, datasets: Path, split: Split) -> dict[str, dict[str, object]]:
    """Category figures on Banking77 and Hadoop for the model and both baselines."""
    classifier = CategoryClassifier(embedder)
    majority = Counter(r.label for r in banking77(datasets, "dev")).most_common(1)[0][0]
    out: dict[str, dict[str, object]] = {}
    bank = banking77(datasets, split)
    gold = [r.label for r in bank]
    bank_vectors = vectors_of(embedder, bank, label="banking77")
    predicted = [i.value for i in classifier.classify(bank_vectors, [_text(r) for r in bank])]
    out["banking77"] = {"n": len(bank), "hypercorr": scores(gold, predicted),
                        "keyword_rules": scores(gold, [keyword_category(_text(r)).value for r in bank]),
                        "majority_class": scores(gold, [majority] * len(bank))}
    bugs = hadoop(datasets, split)
    started = time.perf_counter()
    bug_vectors = vectors_of(embedder, bugs, label="hadoop")
    embed_seconds = time.perf_counter() - started
    called = [i.value for i in classifier.classify(bug_vectors, [_text(r) for r in bugs])]
    keywords = [keyword_category(_text(r)).value for r in bugs]

    def shares(values: Sequence[str]) -> dict[str, float]:
        return {"software_bug": round(sum(v == "software_bug" for v in values) / len(values), 4),
                "defect_class": round(sum(v in DEFECTS for v in values) / len(values), 4)}
    out["hadoop"] = {"n": len(bugs), "hypercorr": shares(called), "keyword_rules": shares(keywords),
                     "majority_class": shares([majority] * len(bugs))}
    out["cost"] = triage_cost(embedder, bugs, bug_vectors, embed_seconds)
    return out


def sentiment_eval(split: Split) -> dict[str, object]:
    """Sentiment figures on the hand-labelled fixture for the model and both baselines."""
    rows = sentiment_fixture(split)
    gold = [r.label for r in rows]
    ours = SentimentScorer()
    vader = SentimentIntensityAnalyzer()
    majority = Counter(r.label for r in sentiment_fixture("dev")).most_common(1)[0][0]
    systems: dict[str, Callable[[str], str]] = {"hypercorr": lambda t: ours.classify(t).value,
                                                 "vader_stock": lambda t: plain_vader_label(vader, t),
                                                 "majority_class": lambda _t: majority}
    return {"n": len(rows), **{name: scores(gold, [f(r.text) for r in rows]) for name, f in systems.items()}}


def run_triage_eval(datasets: Path, split: Split = "test", embedder: Embedder | None = None) -> dict[str, object]:
    """Every triage figure as one dict."""
    embedder = embedder or create_embedder(Settings())
    return {"split": split, "category": category_eval(embedder, datasets, split), "sentiment": sentiment_eval(split)}


def print_triage_eval(result: dict[str, object], as_json: bool = False) -> None:
    """Tables (or JSON) of `run_triage_eval`'s result."""
    if as_json:
        print(json.dumps(result, indent=2))
        return
    category = result["category"]
    assert isinstance(category, dict)
    bank, bugs = category["banking77"], category["hadoop"]
    print(f"Category, Banking77 {result['split']} ({bank['n']} queries; categories mapped per intent)")
    print_table(["system", "macro-F1", "accuracy"],
                [[name, bank[name]["macro_f1"], bank[name]["accuracy"]]
                 for name in ("hypercorr", "keyword_rules", "majority_class")])
    print(f"\nCategory, Hadoop Jira bugs {result['split']} ({bugs['n']} reports; gold software_bug)")
    print_table(["system", "called software_bug", "called a defect class"],
                [[name, bugs[name]["software_bug"], bugs[name]["defect_class"]]
                 for name in ("hypercorr", "keyword_rules", "majority_class")])
    cost = category["cost"]
    print(f"\nIngest cost per Hadoop report ({int(cost['reports'])} reports, this machine, this run)")
    print_table(["embedding (ms)", "triage (ms)", "triage / embedding"],
                [[cost["embedding_ms"], cost["triage_ms"], f"{100 * cost['share_of_embedding']:.1f} %"]])
    sentiment = result["sentiment"]
    assert isinstance(sentiment, dict)
    print(f"\nSentiment, hand-labelled support texts {result['split']} ({sentiment['n']} texts)")
    print_table(["system", "macro-F1", "accuracy"],
                [[name, sentiment[name]["macro_f1"], sentiment[name]["accuracy"]]
                 for name in ("hypercorr", "vader_stock", "majority_class")])
