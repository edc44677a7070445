"""What the lexical index keeps of an event, and the analyzers that produce it.

The engine supplies its own analyzer (identifier splitting, stopwords); the store's default is
a plain word tokenizer, so the store works on its own.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LexicalTerms:
    """What the lexical index keeps of one event."""

    counts: Mapping[str, tuple[int, int]]  # term -> (count in title, count in body)
    length: int  # all tokens of title and body, stopwords included


class Analyzer(Protocol):
    """Turns an event's title and text into index terms; `version` changes when its output does."""

    version: str

    def __call__(self, title: str, text: str) -> LexicalTerms: ...


class PlainAnalyzer:
    """Lower-cased word tokens; the store's default when the engine supplies no analyzer."""

    version = "plain-1"
    _token = re.compile(r"[^\W_]+", re.UNICODE)

    def __call__(self, title: str, text: str) -> LexicalTerms:
        """Counts per column of every token."""
        counts: dict[str, list[int]] = {}
        length = 0
        for column, field in enumerate((title, text)):
            for token in self._token.findall(field.lower()):
                counts.setdefault(token, [0, 0])[column] += 1
                length += 1
        return LexicalTerms({t: (a, b) for t, (a, b) in counts.items()}, length)
