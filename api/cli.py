"""The `hypercorr` command line: serve, ingest, related, search, eval, bench."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional, TypeVar

import typer

from api.cli_clients import DataDir, Url, open_client, run_with
from api.client import HttpClient, HypercorrClient, LocalClient
from api.ingest_command import ingest_file
from api.kb_cli import kb_app
from api.keys_command import keys_app
from engine import Engine, Settings
from engine.errors import StoreLockedError, StoreMismatchError

T = TypeVar("T")
app = typer.Typer(help="hypercorr: context-aware correlation of hypercare reports.", no_args_is_help=True)
eval_app = typer.Typer(help="Quality evaluations on real data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(kb_app, name="kb")
app.add_typer(keys_app, name="keys")

DEMO_STREAM = Path(__file__).parent / "demo" / "stream.jsonl"
SHARED_BANKING77 = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "banking77"


def _client(data_dir: Path, url: str | None) -> HypercorrClient:
    return open_client(data_dir, url, HttpClient, LocalClient)


def _with_client(data_dir: Path, url: str | None, call: Callable[[HypercorrClient], T]) -> T:
    """Run one client call; a refusal becomes a one-line error and exit code 1."""
    return run_with(_client(data_dir, url), call)


def _print_hits(hits: list[dict], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(hits, indent=2))
        return
    for rank, hit in enumerate(hits, start=1):
        event, ev = hit["event"], hit["evidence"]
        headline = event["title"] or event["text"][:80]
        typer.echo(f"{rank:>2}. {hit['score']:.3f}  {event['id']}  {headline}")
        reasons = [f"semantic {ev['semantic']:.2f}", f"lexical {ev['lexical']:.2f}"]
        if ev["shared_terms"]:
            reasons.append("terms " + ", ".join(ev["shared_terms"]))
        if ev["same_user"]:
            reasons.append("same user")
        if ev["shared_systems"]:
            reasons.append("systems " + ", ".join(ev["shared_systems"]))
        if ev["time_gap_hours"] is not None:
            reasons.append(f"{ev['time_gap_hours']:+.1f} h")
        typer.echo("     " + "; ".join(reasons))


@app.command()
def serve(data_dir: DataDir = Path("data"), host: str = "127.0.0.1", port: int = 8000,
          demo: Annotated[bool, typer.Option(help="Load the demo stream (idempotent).")] = False) -> None:
    """Run the HTTP API on an embedded store."""
    import uvicorn

    from api.app import create_app
    from api.auth import check_exposure
    from api.demo_loader import load_demo
    from api.log_format import configure_logging
    from context_store.api_keys import KeyTable

    configure_logging()
    settings = Settings(data_dir=data_dir)
    keys = KeyTable.open(data_dir)
    try:  # refuse an exposed address without keys before the model loads
        warning = check_exposure(keys, host)
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    if warning:
        logging.getLogger("hypercorr.auth").warning(warning)
    try:  # build the engine here, so a locked or mismatched data dir is a one-line error
        engine = Engine(settings)
    except (StoreLockedError, StoreMismatchError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    application = create_app(settings, engine_factory=lambda _: engine, bind_host=host, keys=keys,
                             on_ready=(lambda e: load_demo(e, DEMO_STREAM)) if demo else None)
    uvicorn.run(application, host=host, port=port, log_level="info", log_config=None, access_log=False)


@app.command()
def ingest(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSONL or CSV of events.")],
           data_dir: DataDir = Path("data"), url: Url = None,
           batch_size: Annotated[int, typer.Option(min=1, max=1000)] = 64) -> None:
    """Ingest a JSONL or CSV file of events, with a progress bar and a summary."""
    client = _client(data_dir, url)
    try:
        summary = ingest_file(client, file, batch_size)
    finally:
        client.close()
    typer.echo(f"accepted {summary.accepted} ({summary.created} new, {summary.unchanged} unchanged), "
               f"rejected {len(summary.rejected)}")
    for line, reason in summary.rejected[:20]:
        typer.echo(f"  line {line}: {reason}")
    if len(summary.rejected) > 20:
        typer.echo(f"  ... and {len(summary.rejected) - 20} more")
    if summary.rejected:
        raise typer.Exit(1)


@app.command()
def related(event_id: str, k: int = 10, data_dir: DataDir = Path("data"), url: Url = None,
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Reports related to a stored event, with their evidence."""
    _print_hits(_with_client(data_dir, url, lambda c: c.related(event_id, k)), as_json)


@app.command()
def search(text: str, k: int = 10, data_dir: DataDir = Path("data"), url: Url = None,
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Reports related to a free text, with their evidence."""
    _print_hits(_with_client(data_dir, url, lambda c: c.search(text, k)), as_json)


@app.command()
def narratives(data_dir: DataDir = Path("data"), url: Url = None,
               status: Annotated[Optional[str], typer.Option(help="emerging|active|cooling|dormant|resolved")] = None,
               system: Optional[str] = None, user_id: Optional[str] = None,
               sort: Annotated[str, typer.Option(help="recent|size")] = "recent", limit: int = 20,
               as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List problem narratives, most recently active (or largest) first."""
    params = {"status": status, "system": system, "user_id": user_id, "sort": sort, "limit": limit}
    page = _with_client(data_dir, url, lambda c: c.narratives(params))
    if as_json:
        typer.echo(json.dumps(page, indent=2))
        return
    for n in page["narratives"]:
        typer.echo(f"{n['id']}  {n['status']:<8} {n['size']:>4} events  {n['last_seen'][:10]}  {n['title']}"
                   f"  [{', '.join(n['systems'])}]")


@app.command()
def narrative(narrative_id: str, data_dir: DataDir = Path("data"), url: Url = None,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One narrative: status, timeline, who and what it hits, members."""
    detail = _with_client(data_dir, url, lambda c: c.narrative(narrative_id))
    if as_json:
        typer.echo(json.dumps(detail, indent=2))
        return
    typer.echo(f"{detail['id']}  {detail['title']}  ({detail['status']}, {detail['size']} events)")
    typer.echo(f"  timeline: {detail['timeline']['timeline']}")
    typer.echo(f"  users: {', '.join(detail['users']) or '-'}   systems: {', '.join(detail['systems']) or '-'}")
    if detail.get("probable_origin"):
        typer.echo(f"  probable origin: {detail['probable_origin']['system']} "
                   f"({'; '.join(detail['probable_origin']['reasons'])})")
    for suspect in detail.get("suspect_changes", []):
        typer.echo(f"  suspect change {suspect['event']['id']}: {'; '.join(suspect['reasons'])}")
    for member in detail["members"]:
        event = member["event"]
        typer.echo(f"  {event['occurred_at'][:16]}  {event['id']}  {event['title'] or event['text'][:70]}")


@eval_app.command("retrieval")
def eval_retrieval(data: Annotated[Path, typer.Option("--data", exists=True, file_okay=False,
                                                      help="Folder with reports.jsonl and queries.jsonl.")],
                   as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Related-report retrieval quality (Recall-Rate@k, MAP) beside TF-IDF and MiniLM baselines."""
    from eval.retrieval import run_retrieval_eval

    run_retrieval_eval(data, as_json=as_json)


@eval_app.command("clustering")
def eval_clustering(data: Annotated[Path, typer.Option("--data", exists=True, dir_okay=False,
                                                       help="JSONL or CSV with utterance|text and reference_label|intent|label|category.")],
                    as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Streaming narrative clustering quality (ACC, NMI, ARI) beside k-means and agglomerative peers."""
    from eval.clustering import run_clustering_eval

    run_clustering_eval(data, as_json=as_json)


@eval_app.command("context")
def eval_context(seed: int = 0, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Context-aware vs text-only narratives on a generated hypercare scenario (users, systems, days)."""
    from eval.scenario import print_context_eval, run_context_eval

    print_context_eval(run_context_eval(seed=seed), as_json=as_json)


@eval_app.command("anomalies")
def eval_anomalies(nab: Annotated[Path, typer.Option("--nab", exists=True, file_okay=False,
                                                     help="NAB folder (data/, labels/, config/).")],
                   as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Volume-anomaly detector on the Numenta Anomaly Benchmark, NAB-scored (standard, low FP, low FN)."""
    from eval.nab.runner import run_nab_eval

    try:
        run_nab_eval(nab, as_json=as_json)
    except FileNotFoundError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
@eval_app.command("triage")
def eval_triage(data: Annotated[Path, typer.Option("--data", exists=True, file_okay=False,
                                                   help="The shared datasets folder.")] = Path("../shared/datasets"),
                split: Annotated[str, typer.Option(help="test (reported) or dev (where cues were checked)")] = "test",
                as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Triage quality: category (Banking77, Hadoop) and sentiment (hand-labelled) vs baselines."""
    from eval.triage import print_triage_eval, run_triage_eval

    if split not in ("dev", "test"):
        raise typer.BadParameter("split is dev or test", param_hint="--split")
    print_triage_eval(run_triage_eval(data, split), as_json=as_json)  # type: ignore[arg-type]


@eval_app.command("suggestions")
def eval_suggestions(data: Annotated[Path, typer.Option("--data", exists=True, file_okay=False,
                                                        help="Banking77 folder (train.csv, test.csv).")] = SHARED_BANKING77,
                     per_intent: Annotated[Optional[int], typer.Option(min=1, max=40,
                                                                       help="Test queries per intent (default all 40).")] = None,
                     as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Knowledge-base suggestion quality (hit@1, hit@5, MRR) with and without user history."""
    from eval.suggestions import run_suggestions_eval

    run_suggestions_eval(data, per_intent, as_json=as_json)


@app.command()
def bench(quick: Annotated[bool, typer.Option(help="Smaller sizes, for a smoke run.")] = False,
          load: Annotated[bool, typer.Option(help="Instead: a bounded mixed workload of concurrent clients "
                                                  "against a real server on 127.0.0.1.")] = False,
          clients: Annotated[int, typer.Option(min=1, max=32, help="Concurrent clients (--load).")] = 4) -> None:
    """Benchmark embedding, ingest, related-report latency, restart and memory on this machine."""
    if load:
        from eval.load import run_load

        if run_load(quick=quick, clients=clients)["errors"]:
            raise typer.Exit(1)
        return
    from eval.bench import run_bench

    run_bench(quick=quick)


@app.command("mcp")
def mcp_stdio(data_dir: DataDir = Path("data")) -> None:
    """Serve MCP over stdio for an assistant that starts hypercorr itself (local: every tool allowed)."""
    from api.mcp.stdio import run_stdio

    raise typer.Exit(run_stdio(data_dir))


if __name__ == "__main__":
    app(prog_name="hypercorr")
