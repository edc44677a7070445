"""`hypercorr kb ...`: import articles, list them, ask for suggestions, find gaps."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer

from api.cli_clients import DataDir, Url, open_client, run_with
from api.kb_client import HttpKbClient, KbClient, LocalKbClient
from api.kb_import import import_articles
from engine.suggestions.gaps import DEFAULT_COVERAGE

T = TypeVar("T")
kb_app = typer.Typer(help="Knowledge base: import articles, list them, suggestions, gaps.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json")]


def _client(data_dir: Path, url: str | None) -> KbClient:
    return open_client(data_dir, url, HttpKbClient, LocalKbClient)


def _run(data_dir: Path, url: str | None, call: Callable[[KbClient], T]) -> T:
    return run_with(_client(data_dir, url), call)


@kb_app.command("import")
def import_command(path: Annotated[Path, typer.Argument(exists=True, help="Folder of Markdown files or a JSONL file.")],
                   data_dir: DataDir = Path("data"), url: Url = None,
                   batch_size: Annotated[int, typer.Option(min=1, max=1000)] = 32) -> None:
    """Import articles (new ones are added, changed ones replaced), with a progress bar and a summary."""
    try:
        summary = _run(data_dir, url, lambda c: import_articles(c, path, batch_size))
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    counts = summary.counts
    typer.echo(f"created {counts['created']}, updated {counts['updated']}, unchanged {counts['unchanged']}, "
               f"rejected {len(summary.rejected)}")
    for where, reason in summary.rejected[:20]:
        typer.echo(f"  {where}: {reason}")
    if len(summary.rejected) > 20:
        typer.echo(f"  ... and {len(summary.rejected) - 20} more")
    if summary.rejected:
        raise typer.Exit(1)


@kb_app.command("list")
def list_command(data_dir: DataDir = Path("data"), url: Url = None, system: Optional[str] = None,
                 tag: Optional[str] = None, limit: int = 50, offset: int = 0, as_json: Json = False) -> None:
    """Articles in id order."""
    params = {"system": system, "tag": tag, "limit": limit, "offset": offset}
    page = _run(data_dir, url, lambda c: c.articles(params))
    if as_json:
        typer.echo(json.dumps(page, indent=2))
        return
    for article in page["articles"]:
        typer.echo(f"{article['id']}  {article['title']}  [{', '.join(article['systems'])}]")
    typer.echo(f"({len(page['articles'])} of {page['total']})")


def _print_suggestions(answer: dict[str, Any]) -> None:
    typer.echo(f"{answer['subject']} ({answer['mode']})")
    for rank, s in enumerate(answer["suggestions"], start=1):
        typer.echo(f"{rank:>2}. {s['score']:.3f}  {s['article']['id']}  {s['article']['title']}")
        typer.echo("     " + "; ".join(f"{r['summary']} ({r['score']:.2f})" for r in s["reasons"]))


@kb_app.command("suggest")
def suggest_command(user_id: str, text: Optional[str] = None, k: int = 5, data_dir: DataDir = Path("data"),
                    url: Url = None, as_json: Json = False) -> None:
    """Articles for a user now, each with its reasons."""
    answer = _run(data_dir, url, lambda c: c.suggestions(user_id, {"text": text, "k": k}))
    typer.echo(json.dumps(answer, indent=2)) if as_json else _print_suggestions(answer)


@kb_app.command("gaps")
def gaps_command(data_dir: DataDir = Path("data"), url: Url = None, threshold: float = DEFAULT_COVERAGE,
                 min_size: int = 2, limit: int = 50, as_json: Json = False) -> None:
    """Active narratives no article covers well (what to write next)."""
    params = {"threshold": threshold, "min_size": min_size, "limit": limit}
    answer = _run(data_dir, url, lambda c: c.gaps(params))
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
        return
    for gap in answer["gaps"]:
        typer.echo(f"{gap['narrative_id']}  {gap['status']:<8} {gap['size']:>4} reports  best "
                   f"{gap['best_article_id'] or '-'} ({gap['best_score']:.2f})  {gap['title']}")
