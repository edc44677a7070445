"""`hypercorr kb import`: articles from Markdown or JSONL, in batches, with a summary of what happened."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from api.client import ClientError
from api.kb_client import KbClient
from api.kb_files import read_articles
from engine.kb.articles import ArticleIn


@dataclass
class ImportSummary:
    """Counts per outcome and the refused items (where, reason)."""

    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def _send(client: KbClient, batch: list[tuple[str, ArticleIn]], summary: ImportSummary) -> None:
    """POST the batch; articles whose stored content differs are replaced one by one (PUT)."""
    try:
        summary.counts.update(r["status"] for r in client.add([a for _, a in batch]))
        return
    except ClientError as exc:
        if exc.status != 409:
            summary.rejected.extend((where, f"refused ({exc.status}): {exc.detail}") for where, _ in batch)
            return
    for where, article in batch:
        try:
            summary.counts[client.put(article)["status"]] += 1
        except ClientError as exc:
            summary.rejected.append((where, f"refused ({exc.status}): {exc.detail}"))


def import_articles(client: KbClient, path: Path, batch_size: int = 32) -> ImportSummary:
    """Import every valid article under `path`; refused ones are listed with what to fix."""
    total, items = read_articles(path)
    summary = ImportSummary()
    batch: list[tuple[str, ArticleIn]] = []
    seen: dict[str, str] = {}
    with tqdm(total=total, desc=f"kb import {path.name}", unit="article") as progress:
        for where, item in items:
            progress.update(1)
            if isinstance(item, str):
                summary.rejected.append((where, item))
                continue
            if item.id in seen:
                summary.rejected.append((where, f"id {item.id!r} is also used by {seen[item.id]}; give one of "
                                                "them another `id:`"))
                continue
            seen[item.id] = where
            batch.append((where, item))
            if len(batch) >= batch_size:
                _send(client, batch, summary)
                batch = []
        if batch:
            _send(client, batch, summary)
    return summary
