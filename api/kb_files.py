"""Reading knowledge-base articles from a folder of Markdown files or a JSONL file.

Markdown: optional YAML front matter between `---` lines (id, title, systems, tags, url); the
rest is the body. Without an `id` the file's path inside the folder names the article
(`billing/refunds.md` -> `billing-refunds`); without a `title` the first `# Heading` does.
Every problem is reported against its file (or line) with what to change.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import yaml
from pydantic import ValidationError

from engine.kb.articles import ArticleIn

MARKDOWN_SUFFIXES = (".md", ".markdown")
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
Item = tuple[str, ArticleIn | str]  # (where, article or the reason it was refused)


def _reason(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'article'}: {e['msg']}" for e in exc.errors())


def _as_list(value: object) -> object:
    """`systems: billing, checkout` (a string) is accepted as a list."""
    return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


def _split_front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    lines = text.splitlines(keepends=True)
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            meta = yaml.safe_load("".join(lines[1:end])) or {}
            if not isinstance(meta, dict):
                raise ValueError("front matter must be a YAML mapping (key: value lines)")
            return meta, "".join(lines[end + 1:])
    raise ValueError("front matter opened with '---' is never closed by a second '---' line")


def read_markdown(path: Path, root: Path) -> ArticleIn | str:
    """One Markdown file as an article, or the reason it cannot be one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read the file ({exc.__class__.__name__}: {exc}); save it as UTF-8 text"
    try:
        meta, body = _split_front_matter(text)
    except (yaml.YAMLError, ValueError) as exc:
        return f"front matter: {str(exc).splitlines()[0]}"
    unknown = sorted(set(meta) - {"id", "title", "systems", "tags", "url"})
    if unknown:
        return f"unknown front matter keys {', '.join(unknown)} (allowed: id, title, systems, tags, url)"
    title = meta.get("title")
    if title is None:
        heading = _HEADING.search(body)
        if heading is None:
            return "no title: add `title:` to the front matter or start the text with a '# Heading' line"
        title = heading.group(1)
        body = body[:heading.start()] + body[heading.end():]
    article_id = meta.get("id") or "-".join(path.relative_to(root).with_suffix("").parts)
    try:
        return ArticleIn(id=str(article_id), title=str(title), body=body.strip(), systems=_as_list(meta.get("systems", [])),
                         tags=_as_list(meta.get("tags", [])), url=meta.get("url"))
    except ValidationError as exc:
        return _reason(exc)


def read_jsonl(path: Path) -> Iterator[Item]:
    """Articles from a JSONL file, one object per line."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                yield where, ArticleIn.model_validate(json.loads(line))
            except json.JSONDecodeError as exc:
                yield where, f"not valid JSON ({exc.msg} at column {exc.colno})"
            except ValidationError as exc:
                yield where, _reason(exc)


def read_articles(path: Path) -> tuple[int, Iterator[Item]]:
    """How many items to expect, and the items of a Markdown folder or a JSONL file."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in MARKDOWN_SUFFIXES and p.is_file())
        if not files:
            raise ValueError(f"{path} holds no Markdown files (*.md, *.markdown)")
        return len(files), ((str(f.relative_to(path)), read_markdown(f, path)) for f in files)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as handle:
            total = sum(1 for line in handle if line.strip())
        return total, read_jsonl(path)
    raise ValueError(f"{path} is neither a folder of Markdown files nor a .jsonl file")
