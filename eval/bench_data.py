"""Benchmark inputs: real report texts (or bundled synthetic ones) and synthetic stored events.

The store-scale parts of the benchmark fill a store without the model: each synthetic event
recombines real titles and description sentences, and its vectors are real embeddings of a
few hundred base reports plus gaussian noise, re-normalised, so the vector and term
distributions look like the ones ingest would produce. Records are built exactly as
`engine.ingest` builds them (EventIn -> to_record -> NewEvent with lexical fields).
"""
from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from context_store import NewEvent
from engine import EventIn
from engine import text as textprep
from engine.ingest import to_record

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASET = REPO_ROOT.parent / "shared" / "datasets" / "gitbugs" / "hadoop" / "reports.jsonl"
SYSTEMS = ("hdfs", "yarn", "mapreduce", "common", "s3a", "abfs", "wasb", "kms", "namenode", "datanode",
           "resourcemanager", "nodemanager", "timeline", "router", "webhdfs", "httpfs", "security", "build")
CHANNELS = ("ticket", "email", "chat", "forum", "widget", "monitoring")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\r?\n+")


@dataclass(frozen=True)
class Report:
    """A report text to embed or ingest."""

    id: str
    title: str
    text: str
    created: datetime


def load_reports(minimum: int) -> tuple[list[Report], str]:
    """All real hadoop reports and a label of their source; without the dataset, `minimum` synthetic ones."""
    if not DATASET.exists():
        return synthetic_reports(max(minimum, 400)), "bundled synthetic reports (no ../shared/datasets)"
    reports = []
    with DATASET.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            title, text = (row.get("title") or "").strip()[:500], (row.get("description") or "").strip()[:20_000]
            if title or text:
                created = datetime.fromisoformat(row["created"]).replace(tzinfo=timezone.utc)
                reports.append(Report(str(row["id"]), title, text, created))
    return reports, f"gitbugs/hadoop reports.jsonl, {len(reports):,} reports"


def synthetic_reports(n: int, seed: int = 7) -> list[Report]:
    """Template-built support reports, used when ../shared/datasets is absent."""
    rng = np.random.default_rng(seed)
    parts = ["upload", "login", "export", "report builder", "invoice run", "search index", "sync job",
             "dashboard", "payment gateway", "user import", "SSO bridge", "mail relay", "scheduler"]
    symptoms = ["times out after {n} seconds", "fails with HTTP {code}", "shows a blank page",
                "is very slow since the upgrade", "returns duplicate rows", "drops attachments over {n} MB",
                "throws NullPointerException in {cls}", "loses the session every {n} minutes"]
    details = ["It started after the deployment on Monday.", "Only users in the {site} office are affected.",
               "Restarting the {cls} service helps for a while.", "The log shows ERROR {cls}: connection reset.",
               "Retrying usually works on the second attempt.", "We see it in production but not in staging.",
               "About {n} users reported it this morning.", "The error id was {code}-{n}."]
    fill = {"cls": ["SessionManager", "ExportWorker", "fs.s3a.endpoint", "AuthFilter", "QueueReader"],
            "site": ["Berlin", "Lyon", "Austin", "Pune"], "code": ["500", "502", "403", "429"]}

    def render(template: str) -> str:
        return template.format(n=int(rng.integers(2, 90)), **{k: str(rng.choice(v)) for k, v in fill.items()})
    start = datetime(2025, 1, 6, tzinfo=timezone.utc)
    return [Report(f"syn-{i}", f"{rng.choice(parts).capitalize()} {render(str(rng.choice(symptoms)))}",
                   " ".join(render(str(d)) for d in rng.choice(details, size=int(rng.integers(1, 5)), replace=False)),
                   start + timedelta(minutes=37 * i)) for i in range(n)]


def embedding_texts(reports: Sequence[Report]) -> list[str]:
    """The strings the engine embeds for these reports."""
    return [textprep.embedding_text(r.title, r.text) for r in reports]


def event_ins(reports: Sequence[Report], prefix: str, seed: int = 11) -> list[EventIn]:
    """Validated events for ingest, with a realistic spread of users and systems."""
    rng = np.random.default_rng(seed)
    return [EventIn(id=f"{prefix}-{r.id}", title=r.title, text=r.text, user_id=f"user-{int(500 ** rng.random())}",
                    systems=[str(s) for s in rng.choice(SYSTEMS, size=int(rng.integers(1, 3)), replace=False)],
                    channel=str(rng.choice(CHANNELS)), occurred_at=r.created) for r in reports]


class SyntheticEvents:
    """Stream of NewEvent batches recombined from base reports and their real embeddings."""

    def __init__(self, bases: Sequence[Report], vectors: np.ndarray, title_vectors: np.ndarray,
                 pool: Sequence[Report], total: int, seed: int = 3):
        self.bases, self.vectors, self.title_vectors = list(bases), vectors, title_vectors
        self.own = [[s.strip() for s in _SENTENCE.split(r.text) if s.strip()] for r in self.bases]
        self.titles = [r.title.split() for r in pool if r.title]
        self.sentences = [s.strip() for r in pool for s in _SENTENCE.split(r.text) if len(s.strip()) > 20]
        self.rng, self.py = np.random.default_rng(seed), random.Random(seed)
        self.start = datetime(2024, 1, 1, tzinfo=timezone.utc)
        self.step = timedelta(days=365) / max(1, total)
        self.made = 0
        self.last_bases, self.last_nn = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)

    def _title(self, base: Report) -> str:
        words = base.title.split() or list(self.py.choice(self.titles))
        if len(words) > 2 and self.py.random() < 0.5:  # swap in a word of another real title
            words[self.py.randrange(len(words))] = self.py.choice(self.py.choice(self.titles))
        return " ".join(words)[:500]

    def _text(self, b: int) -> str:
        own = self.own[b]
        keep = own[: self.py.randint(1, len(own))] if own else []
        extra = [self.py.choice(self.sentences) for _ in range(self.py.randint(0, 2))] if self.sentences else []
        return " ".join(keep + extra)[:4000] or self.bases[b].title

    def _noisy(self, matrix: np.ndarray, picks: np.ndarray, scale: np.ndarray) -> np.ndarray:
        noise = self.rng.standard_normal((len(picks), matrix.shape[1]), dtype=np.float32) * scale[:, None]
        noisy = matrix[picks] + noise
        return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)

    def batch(self, size: int) -> list[NewEvent]:
        """The next `size` events (ids bench-0, bench-1, ...), in time order."""
        picks = self.rng.integers(len(self.bases), size=size)
        scale = self.rng.uniform(0.015, 0.05, size=size).astype(np.float32)  # noise norm ~0.3-1.0
        vectors, titles = self._noisy(self.vectors, picks, scale), self._noisy(self.title_vectors, picks, scale)
        self.last_bases, self.last_nn = picks, np.einsum("ij,ij->i", vectors, self.vectors[picks])
        now, py = datetime.now(timezone.utc), self.py
        out = []
        for j, b in enumerate(picks.tolist()):
            i = self.made + j
            event = EventIn(id=f"bench-{i}", title=self._title(self.bases[b]), text=self._text(b),
                            user_id=f"user-{int(5000 ** py.random())}",
                            systems=py.sample(SYSTEMS, py.randint(1, 2)), channel=py.choice(CHANNELS),
                            occurred_at=self.start + i * self.step)
            record = to_record(event, now)
            out.append(NewEvent(record, vectors[j], titles[j] if record.title and record.text else None))
        self.made += size
        return out

    def batches(self, count: int, size: int = 1000) -> Iterator[list[NewEvent]]:
        """`count` more events in batches of `size`."""
        while count > 0:
            yield self.batch(min(size, count))
            count -= size
