"""`hypercorr keys create|list|revoke`: manage API keys in a data directory (also while it is served)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.auth import Scope
from context_store.api_keys import KeyTable

keys_app = typer.Typer(help="API keys: create (printed once), list, revoke.", no_args_is_help=True)
DataDir = Annotated[Path, typer.Option("--data-dir", help="Embedded store folder.", envvar="HYPERCORR_DATA_DIR")]


@keys_app.command("create")
def create(name: Annotated[str, typer.Option(help="Who or what uses the key, e.g. 'alertmanager'.")],
           scope: Annotated[list[Scope], typer.Option(help="ingest, read or admin (repeatable; admin implies all).")],
           data_dir: DataDir = Path("data")) -> None:
    """Create a key and print it once; only its hash is stored."""
    table = KeyTable.open(data_dir)
    try:
        row, key = table.create(name, tuple(s.value for s in scope))
    finally:
        table.close()
    typer.echo(key)
    typer.secho(f"key {row.key_id} ({row.name}; scopes: {', '.join(row.scopes)}) created. Store it now: "
                "it cannot be shown again. Send it as 'Authorization: Bearer <key>'.", err=True, fg="green")


@keys_app.command("list")
def list_keys(data_dir: DataDir = Path("data")) -> None:
    """List keys: id, name, scopes, created, revoked (never the secrets)."""
    table = KeyTable.open(data_dir)
    try:
        rows = table.list()
    finally:
        table.close()
    if not rows:
        typer.echo("no keys: a server on a loopback address runs open; other addresses refuse to start")
    for row in rows:
        state = f"revoked {row.revoked_at[:19]}" if row.revoked_at else "active"
        typer.echo(f"{row.key_id}  {row.name:<20} {','.join(row.scopes):<18} created {row.created_at[:19]}  {state}")


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id shown by `keys list`.")],
           data_dir: DataDir = Path("data")) -> None:
    """Revoke a key; a running server refuses it from its next request on."""
    table = KeyTable.open(data_dir)
    try:
        revoked = table.revoke(key_id)
    finally:
        table.close()
    if not revoked:
        typer.secho(f"error: no active key {key_id!r} (see `hypercorr keys list`)", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"key {key_id} revoked")
