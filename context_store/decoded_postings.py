"""Decoded posting lists kept between queries: the common terms are read by almost every query.

A packed posting list (`seq << 32 | title << 16 | body`) must be unpacked, weighted and joined
with document lengths before BM25 can score it. For long lists that work is done once and kept;
entries appended later are decoded on the next read, and a removal drops the term's entry.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_COUNT = 0xFFFF  # per-column counts are stored in 16 bits
CACHED_FROM = 256  # shorter lists are cheap to decode on every query


@dataclass
class Decoded:
    """A posting list as parallel arrays: seqs (ascending), weighted term frequency, event length."""

    seqs: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray
    weights: tuple[float, float] = (1.0, 1.0)

    def select(self, mask: np.ndarray) -> "Decoded":
        """The entries where `mask` holds."""
        return Decoded(self.seqs[mask], self.tf[mask], self.lengths[mask], self.weights)


def decode(packed: np.ndarray, lengths: np.ndarray, weights: tuple[float, float]) -> Decoded:
    """Unpack entries and attach the weighted term frequency and each event's length."""
    seqs = packed >> 32
    tf = (weights[0] * ((packed >> 16) & MAX_COUNT) + weights[1] * (packed & MAX_COUNT)).astype(np.float32)
    return Decoded(seqs, tf, lengths[seqs], weights)


class DecodedPostings:
    """term -> Decoded for long lists (the caller serialises access)."""

    def __init__(self) -> None:
        self._entries: dict[str, Decoded] = {}

    def get(self, term: str, packed: np.ndarray, lengths: np.ndarray, weights: tuple[float, float]) -> Decoded:
        """The decoded list of `term`, whose packed entries are `packed`."""
        if len(packed) < CACHED_FROM:
            return decode(packed, lengths, weights)
        entry = self._entries.get(term)
        if entry is None or entry.weights != weights or len(entry.seqs) > len(packed):
            entry = self._entries[term] = decode(packed, lengths, weights)
        elif len(entry.seqs) < len(packed):
            tail = decode(packed[len(entry.seqs):], lengths, weights)
            entry = self._entries[term] = Decoded(np.concatenate((entry.seqs, tail.seqs)),
                                                  np.concatenate((entry.tf, tail.tf)),
                                                  np.concatenate((entry.lengths, tail.lengths)), weights)
        return entry

    def forget(self, term: str) -> None:
        """Drop a term's entry (its list lost entries)."""
        self._entries.pop(term, None)

    def clear(self) -> None:
        """Drop everything."""
        self._entries.clear()
