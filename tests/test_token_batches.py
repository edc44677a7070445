"""Token-budget batching of word-piece rows (engine.token_batches)."""
from __future__ import annotations

import numpy as np

from engine.token_batches import budget_batches, clip_to_fit, padded


def test_batches_cover_every_row_once_longest_first_within_the_budget() -> None:
    lengths = [5, 300, 40, 40, 12, 256, 7, 90]
    batches = list(budget_batches(lengths, token_budget=300, max_rows=3))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 300


def test_a_row_longer_than_the_budget_goes_alone() -> None:
    assert [b.tolist() for b in budget_batches([10, 500], token_budget=100, max_rows=8)] == [[1], [0]]
    assert list(budget_batches([], token_budget=100, max_rows=8)) == []


def test_clip_keeps_the_end_marker() -> None:
    row = [101, 1, 2, 3, 4, 102]
    assert clip_to_fit(row, 10) == row
    assert clip_to_fit(row, 4) == [101, 1, 2, 102]


def test_padded_inputs_mask_the_padding() -> None:
    features = padded([[101, 7, 102], [101, 102]], pad_id=0, with_token_types=True)
    assert features["input_ids"].tolist() == [[101, 7, 102], [101, 102, 0]]
    assert features["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert features["token_type_ids"].tolist() == [[0, 0, 0], [0, 0, 0]]
    assert "token_type_ids" not in padded([[1]], pad_id=0, with_token_types=False)
