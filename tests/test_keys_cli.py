"""`hypercorr keys create|list|revoke` and the stored form of a key."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from context_store.api_keys import KeyTable

runner = CliRunner()


def test_create_list_revoke(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    created = runner.invoke(app, ["keys", "create", "--name", "dash", "--scope", "read", "--scope", "ingest",
                                  "--data-dir", data])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    assert key.startswith("hc_")
    key_id = key.split("_")[1]
    listing = runner.invoke(app, ["keys", "list", "--data-dir", data])
    assert key_id in listing.stdout and "ingest,read" in listing.stdout and "active" in listing.stdout
    assert key not in listing.stdout
    stored = sqlite3.connect(tmp_path / "data" / "hypercorr.sqlite3").execute(
        "SELECT key_hash FROM api_keys").fetchall()
    assert len(stored) == 1 and key not in stored[0][0] and len(stored[0][0]) == 64
    assert runner.invoke(app, ["keys", "revoke", key_id, "--data-dir", data]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["keys", "list", "--data-dir", data]).stdout
    again = runner.invoke(app, ["keys", "revoke", key_id, "--data-dir", data])
    assert again.exit_code == 1 and "no active key" in again.output


def test_unknown_scope_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "create", "--name", "x", "--scope", "root", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2


def test_verify_checks_secret_id_and_revocation() -> None:
    table = KeyTable.open(None)
    row, key = table.create("svc", ("ingest",))
    assert table.verify(key) == row
    assert table.verify(key + "x") is None
    assert table.verify("hc_" + "0" * 12 + key[len(row.key_id) + 3:]) is None  # another id, same secret
    for malformed in ("", "hc_", "hc_abc", "Bearer " + key, key.replace("hc_", "xx_")):
        assert table.verify(malformed) is None
    assert table.has_active()
    assert table.revoke(row.key_id) and not table.has_active()
    assert table.verify(key) is None
