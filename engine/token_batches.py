"""Word-piece sequences grouped into model batches by a token budget.

A transformer on the CPU costs about what its padded tokens cost, and runs faster on batches
that stay small enough for the caches. So sequences are sorted longest first and cut into
batches whose padded size (rows x longest row) stays within a token budget: long reports go a
few at a time, short sentences many at a time, and padding stays small either way.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


def budget_batches(lengths: Sequence[int], token_budget: int, max_rows: int) -> Iterator[np.ndarray]:
    """Indices into `lengths`, longest first, in batches of at most `max_rows` rows whose padded
    size (rows x the batch's longest length) stays within `token_budget` (one row at least)."""
    sizes = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-sizes, kind="stable")
    start = 0
    while start < len(order):
        width = max(1, int(sizes[order[start]]))
        rows = max(1, min(max_rows, token_budget // width))
        yield order[start:start + rows]
        start += rows


def clip_to_fit(ids: list[int], room: int) -> list[int]:
    """A tokenised sequence ([CLS] ... [SEP]) shortened to at most `room` tokens, its end marker kept."""
    if len(ids) <= room:
        return ids
    return ids[:max(1, room - 1)] + ids[-1:]


def padded(rows: Sequence[Sequence[int]], pad_id: int, with_token_types: bool) -> dict[str, object]:
    """Model inputs for `rows`: input ids padded to the longest row, the attention mask, and
    all-zero token types when the model takes them."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = torch.as_tensor(row, dtype=torch.long)
        mask[i, :len(row)] = 1
    features: dict[str, object] = {"input_ids": ids, "attention_mask": mask}
    if with_token_types:
        features["token_type_ids"] = torch.zeros_like(ids)
    return features
