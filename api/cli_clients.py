"""How a CLI command reaches hypercorr: a running server (`--url`) or the embedded store in a
data dir, and how a refusal becomes a one-line error."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional, Protocol, TypeVar

import typer

from api.client import ClientError
from engine import Engine, Settings
from engine.errors import StoreLockedError, StoreMismatchError

DataDir = Annotated[Path, typer.Option("--data-dir", help="Embedded store folder.", envvar="HYPERCORR_DATA_DIR")]
Url = Annotated[Optional[str], typer.Option("--url", help="Use a running server instead of the data dir.")]


class Closable(Protocol):
    """A client the command closes when it is done."""

    def close(self) -> None:
        """Release the server connection or the store."""
        ...


C = TypeVar("C", bound=Closable)
T = TypeVar("T")


def open_client(data_dir: Path, url: str | None, remote: Callable[..., C], local: Callable[[Engine], C]) -> C:
    """`remote(url, api_key=...)` when a URL is given, else `local(engine)` over the data dir.

    A server with keys needs one: HYPERCORR_API_KEY (kept out of argv and shell history). A store
    another process holds, or one built for another model, exits with code 2 and the reason.
    """
    if url:
        return remote(url, api_key=os.environ.get("HYPERCORR_API_KEY"))
    try:
        return local(Engine(Settings(data_dir=data_dir)))
    except (StoreLockedError, StoreMismatchError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


def run_with(client: C, call: Callable[[C], T]) -> T:
    """Run one call on `client` and close it; a refusal becomes a one-line error and exit code 1."""
    try:
        return call(client)
    except ClientError as exc:
        typer.secho(f"error: {exc.detail}", fg="red", err=True)
        raise typer.Exit(1) from exc
    finally:
        client.close()
