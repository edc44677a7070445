"""The knowledge-base article model a client submits, and the verdicts people give on articles."""
from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.events import MAX_ID_CHARS

MAX_ARTICLE_TITLE_CHARS = 500
MAX_ARTICLE_BODY_CHARS = 100_000
MAX_LABELS = 50
Verdict = Literal["helpful", "not_helpful", "seen"]
ID_PATTERN = r"^[^/\x00-\x1f]+$"


def _clean_labels(values: list[str], what: str) -> list[str]:
    cleaned = [v.strip() for v in values]
    if any(not v or len(v) > 100 for v in cleaned):
        raise ValueError(f"each {what} must be 1-100 characters")
    return list(dict.fromkeys(cleaned))


class ArticleContent(BaseModel):
    """An article's content without its id (the body of a PUT)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=MAX_ARTICLE_TITLE_CHARS)
    body: str = Field(min_length=1, max_length=MAX_ARTICLE_BODY_CHARS, description="Plain text or Markdown.")
    systems: list[str] = Field(default_factory=list, max_length=MAX_LABELS,
                               description="Systems or modules the article is about.")
    tags: list[str] = Field(default_factory=list, max_length=MAX_LABELS)
    url: str | None = Field(None, max_length=2_000)

    @field_validator("systems")
    @classmethod
    def _systems(cls, values: list[str]) -> list[str]:
        return _clean_labels(values, "system name")

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: list[str]) -> list[str]:
        return _clean_labels(values, "tag")

    def content_hash(self) -> str:
        """Hash of the content, to tell a harmless re-post from a conflicting one."""
        payload = self.model_dump(mode="json", exclude={"id"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ArticleIn(ArticleContent):
    """An article as a client submits it (POST). Unknown fields are rejected."""

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS, pattern=ID_PATTERN,
                    description="Client-supplied unique id (no '/' or control characters).")


class KbFeedbackIn(BaseModel):
    """A person's verdict on an article they were shown."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    article_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    verdict: Verdict
    narrative_id: str | None = Field(None, max_length=MAX_ID_CHARS,
                                     description="The problem it concerned; default: the user's latest narrative.")
