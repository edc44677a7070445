"""Splitting an article into passages the sentence embedder reads whole (it stops at 256 word pieces)."""
from __future__ import annotations

import functools
import re

MAX_PASSAGE_WORDS = 60
MAX_PASSAGES = 64
_MARKUP = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _paragraphs(body: str) -> list[str]:
    """Blank-line separated blocks; list items and headings each stand alone; Markdown markers dropped."""
    blocks: list[str] = []
    current: list[str] = []
    for line in body.splitlines():
        stripped = _MARKUP.sub("", line).strip()
        starts_item = bool(_MARKUP.match(line))
        if not stripped or starts_item:
            if current:
                blocks.append(" ".join(current))
            current = []
        if stripped:
            current.append(stripped)
    if current:
        blocks.append(" ".join(current))
    return [b for b in blocks if b.strip("`*_ ")]


def _windows(paragraph: str) -> list[str]:
    """A long paragraph as consecutive runs of whole sentences of at most MAX_PASSAGE_WORDS words."""
    out: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        words = sentence.split()
        while len(words) > MAX_PASSAGE_WORDS:  # one overlong sentence: hard cut
            out.append(" ".join(words[:MAX_PASSAGE_WORDS]))
            words = words[MAX_PASSAGE_WORDS:]
        if current and len(current) + len(words) > MAX_PASSAGE_WORDS:
            out.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        out.append(" ".join(current))
    return out


def passages(title: str, body: str) -> list[str]:
    """The title, then the body's passages in order (at most MAX_PASSAGES in all)."""
    return list(_passages(title, body))


@functools.lru_cache(maxsize=4096)
def _passages(title: str, body: str) -> tuple[str, ...]:
    found = [title.strip()] if title.strip() else []
    for paragraph in _paragraphs(body):
        found.extend(_windows(paragraph))
    return tuple(found[:MAX_PASSAGES] or [body[:500]])
