"""`hypercorr kb ...` in-process on a data directory, with the hashing embedder."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import api.cli_clients
import api.kb_cli
from api.cli import app
from engine import Engine, Settings
from tests.fakes import HashingEmbedder

runner = CliRunner()


def hashing_engine(settings: Settings) -> Engine:
    """The CLI's engine, with the fake embedder."""
    return Engine(settings, embedder=HashingEmbedder())


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never load the real model from the CLI."""
    monkeypatch.setattr(api.cli_clients, "Engine", hashing_engine)


def write(folder: Path, name: str, text: str) -> None:
    """A file under `folder` (sub-folders created)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def articles_in(data: Path) -> dict[str, dict]:
    """Stored articles by id, via `kb list --json`."""
    result = runner.invoke(app, ["kb", "list", "--data-dir", str(data), "--json"])
    assert result.exit_code == 0, result.output
    return {a["id"]: a for a in json.loads(result.output)["articles"]}


def test_markdown_folder_imports_good_files_and_names_what_to_fix(tmp_path: Path) -> None:
    """Front matter and headings become metadata; each bad file is listed with the fix; exit code 1."""
    docs = tmp_path / "docs"
    write(docs, "billing/refunds.md", "---\ntitle: Refunds\nsystems: [billing, checkout]\ntags: money\n"
                                      "url: https://kb.example/refunds\n---\nHow to ask for a refund.\n")
    write(docs, "vpn.md", "# VPN drops\n\nUpdate the VPN client.\n")
    write(docs, "broken.md", "---\ntitle: [unclosed\n---\nbody\n")
    write(docs, "untitled.md", "just text, no heading\n")
    write(docs, "typo.md", "---\ntitel: Oops\n---\n# Heading\nbody\n")
    data = tmp_path / "data"
    result = runner.invoke(app, ["kb", "import", str(docs), "--data-dir", str(data)])
    assert result.exit_code == 1, result.output
    assert "created 2, updated 0, unchanged 0, rejected 3" in result.output
    assert "broken.md: front matter:" in result.output
    assert "untitled.md: no title: add `title:`" in result.output
    assert "typo.md: unknown front matter keys titel" in result.output
    stored = articles_in(data)
    assert set(stored) == {"billing-refunds", "vpn"}
    assert stored["billing-refunds"]["systems"] == ["billing", "checkout"] and stored["billing-refunds"]["tags"] == ["money"]
    assert stored["vpn"]["title"] == "VPN drops" and stored["vpn"]["body"] == "Update the VPN client."


def test_jsonl_import_replaces_changed_articles_and_reports_bad_lines(tmp_path: Path) -> None:
    """Re-importing changed content updates it (PUT); bad lines are named by line number."""
    source = tmp_path / "kb.jsonl"
    source.write_text(json.dumps({"id": "a", "title": "Reset password", "body": "Use the reset link."}) + "\n"
                      + json.dumps({"id": "b", "title": "VPN", "body": "Update the client."}) + "\n")
    data = tmp_path / "data"
    first = runner.invoke(app, ["kb", "import", str(source), "--data-dir", str(data)])
    assert first.exit_code == 0 and "created 2" in first.output, first.output
    source.write_text(json.dumps({"id": "a", "title": "Reset password", "body": "Use the new reset link."}) + "\n"
                      + json.dumps({"id": "b", "title": "VPN", "body": "Update the client."}) + "\n"
                      + "{not json\n" + json.dumps({"id": "c", "title": "No body"}) + "\n")
    second = runner.invoke(app, ["kb", "import", str(source), "--data-dir", str(data)])
    assert second.exit_code == 1
    assert "created 0, updated 1, unchanged 1, rejected 2" in second.output
    assert "kb.jsonl:3: not valid JSON" in second.output and "kb.jsonl:4: body: Field required" in second.output
    assert articles_in(data)["a"]["body"] == "Use the new reset link."


def test_kb_suggest_and_gaps_commands(tmp_path: Path) -> None:
    """`kb suggest` prints ranked articles with reasons; an unusable path is a one-line error."""
    source = tmp_path / "kb.jsonl"
    source.write_text(json.dumps({"id": "vpn", "title": "VPN drops", "body": "Update the VPN client."}) + "\n")
    data = tmp_path / "data"
    assert runner.invoke(app, ["kb", "import", str(source), "--data-dir", str(data)]).exit_code == 0
    answer = runner.invoke(app, ["kb", "suggest", "u1", "--text", "vpn client drops", "--data-dir", str(data), "--json"])
    assert answer.exit_code == 0, answer.output
    top = json.loads(answer.output)["suggestions"][0]
    assert top["article"]["id"] == "vpn" and top["reasons"][0]["signal"] == "text"
    assert runner.invoke(app, ["kb", "gaps", "--data-dir", str(data)]).exit_code == 0
    wrong = tmp_path / "notes.txt"
    wrong.write_text("x")
    refused = runner.invoke(app, ["kb", "import", str(wrong), "--data-dir", str(data)])
    assert refused.exit_code == 2 and "neither a folder of Markdown files nor a .jsonl file" in refused.output


def test_kb_commands_send_the_api_key_to_a_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`hypercorr kb ... --url` passes HYPERCORR_API_KEY like every other command (a keyed server
    refuses requests without it)."""
    from api import kb_cli
    monkeypatch.setenv("HYPERCORR_API_KEY", "hc_test_key")
    client = kb_cli._client(tmp_path, "http://127.0.0.1:9")
    try:
        assert client._http.headers["Authorization"] == "Bearer hc_test_key"
    finally:
        client.close()
