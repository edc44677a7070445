"""The typer CLI in-process on a data directory, with the hashing embedder."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import api.cli
import api.cli_clients
from api.cli import app
from engine import Engine, Settings
from tests.fakes import HashingEmbedder

runner = CliRunner()

ROWS = [
    {"id": "fb-1", "title": "Failed transaction", "text": "payment failed on invoice", "user_id": "u-1042",
     "systems": ["payments"], "occurred_at": "2026-03-02T09:00:00Z"},
    {"id": "fb-2", "title": "Payments page not responding", "text": "invoice page spinner", "user_id": "u-1042",
     "systems": ["payments"], "occurred_at": "2026-03-04T09:00:00Z"},
    {"id": "fb-3", "title": "Very slow loading", "text": "payments invoice page slow", "user_id": "u-1042",
     "systems": ["payments"], "occurred_at": "2026-03-06T09:00:00Z"},
    {"id": "fb-4", "title": "SSO login loop", "text": "login redirect loop", "user_id": "u-2001",
     "systems": ["auth"], "occurred_at": "2026-03-02T08:00:00Z"},
]


def hashing_engine(settings: Settings) -> Engine:
    """The CLI's engine, with the fake embedder."""
    return Engine(settings, embedder=HashingEmbedder())


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never load the real model from the CLI."""
    monkeypatch.setattr(api.cli, "Engine", hashing_engine)
    monkeypatch.setattr(api.cli_clients, "Engine", hashing_engine)


def write_jsonl(path: Path, lines: list[str]) -> Path:
    """A JSONL file of raw lines."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(*args: str | Path) -> tuple[int, str]:
    """Invoke the CLI; exit code and stdout."""
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout


def stored(data_dir: Path, event_id: str) -> dict | None:
    """Read one event back from the data dir (None if absent)."""
    engine = hashing_engine(Settings(data_dir=data_dir))
    try:
        record = engine.store.get_event(event_id)
        return None if record is None else {"systems": record.systems, "attributes": record.attributes,
                                            "title": record.title}
    finally:
        engine.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir with ROWS ingested through the CLI."""
    source = write_jsonl(tmp_path / "events.jsonl", [json.dumps(r) for r in ROWS])
    code, out = run("ingest", source, "--data-dir", tmp_path / "data")
    assert code == 0, out
    assert "accepted 4 (4 new, 0 unchanged), rejected 0" in out
    return tmp_path / "data"


def test_ingest_jsonl_is_idempotent(data_dir: Path, tmp_path: Path) -> None:
    """Re-ingesting the same file stores nothing new."""
    code, out = run("ingest", tmp_path / "events.jsonl", "--data-dir", data_dir, "--batch-size", "3")
    assert code == 0 and "accepted 4 (0 new, 4 unchanged), rejected 0" in out


def test_ingest_jsonl_bad_rows(tmp_path: Path) -> None:
    """Bad rows exit non-zero with a summary naming each line; good rows still land."""
    source = write_jsonl(tmp_path / "mixed.jsonl", [
        json.dumps(ROWS[0]),
        "{not json",
        json.dumps({"title": "no id"}),
        "",
        json.dumps(ROWS[1] | {"occurred_at": "2026-03-04T09:00:00"}),
        json.dumps([1, 2]),
        json.dumps(ROWS[3]),
    ])
    code, out = run("ingest", source, "--data-dir", tmp_path / "data")
    assert code == 1
    assert "accepted 2 (2 new, 0 unchanged), rejected 4" in out
    assert "line 2: not JSON" in out and "line 3: id: Field required" in out
    assert "line 5: occurred_at:" in out and "line 6: not a JSON object" in out
    assert stored(tmp_path / "data", "fb-4") is not None and stored(tmp_path / "data", "fb-2") is None


def test_ingest_conflict_rejects_only_that_line(data_dir: Path, tmp_path: Path) -> None:
    """A changed event under a known id is refused (409) by line; the rest of its batch lands."""
    source = write_jsonl(tmp_path / "update.jsonl", [json.dumps({"id": "fb-9", "text": "new one"}),
                                                     json.dumps(ROWS[1] | {"text": "edited"})])
    code, out = run("ingest", source, "--data-dir", data_dir)
    assert code == 1 and "accepted 1 (1 new, 0 unchanged), rejected 1" in out
    assert "line 2: refused (409)" in out and "fb-2" in out
    assert stored(data_dir, "fb-9") is not None


def test_ingest_csv(tmp_path: Path) -> None:
    """CSV rows: systems split on ';' or '|', extra columns become attributes, bad rows are named."""
    source = tmp_path / "events.csv"
    source.write_text(
        "id,title,text,user_id,systems,occurred_at,site\n"
        "c-1,Checkout freezes,payment step hangs,u-4412,checkout;payments,2026-03-04T10:30:00Z,store-12\n"
        "c-2,,,u-4413,checkout,2026-03-04T11:00:00Z,\n"
        "c-3,Refund stuck,refund pending,u-4410,payments|checkout,2026-03-10T14:30:00Z,\n",
        encoding="utf-8")
    code, out = run("ingest", source, "--data-dir", tmp_path / "data")
    assert code == 1 and "accepted 2 (2 new, 0 unchanged), rejected 1" in out
    assert "line 3: text: Value error, title or text must be non-blank" in out
    first = stored(tmp_path / "data", "c-1")
    assert first == {"systems": ("checkout", "payments"), "attributes": {"site": "store-12"},
                     "title": "Checkout freezes"}
    assert stored(tmp_path / "data", "c-3")["systems"] == ("payments", "checkout")


def test_ingest_missing_file_and_locked_dir(data_dir: Path, tmp_path: Path) -> None:
    """A missing file is a usage error; a data dir in use exits 2 with a message."""
    assert run("ingest", tmp_path / "absent.jsonl", "--data-dir", data_dir)[0] == 2
    holder = hashing_engine(Settings(data_dir=data_dir))
    try:
        result = runner.invoke(app, ["ingest", str(tmp_path / "events.jsonl"), "--data-dir", str(data_dir)])
        assert result.exit_code == 2 and "in use" in result.output
    finally:
        holder.close()


def test_related_plain_and_json(data_dir: Path) -> None:
    """related prints ranked hits with reasons, or the API's JSON with --json."""
    code, out = run("related", "fb-1", "--data-dir", data_dir, "--k", "3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(" 1. ") and len([l for l in lines if l[:4].strip().endswith(".")]) == 3
    assert "same user" in out and "systems payments" in out and "+48.0 h" in out and "fb-1 " not in out
    code, out = run("related", "fb-1", "--data-dir", data_dir, "--json")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 3 and "fb-1" not in {h["event"]["id"] for h in hits}
    fb2 = next(h for h in hits if h["event"]["id"] == "fb-2")
    assert fb2["evidence"]["same_user"] and fb2["evidence"]["time_gap_hours"] == 48.0


def test_related_unknown_id(data_dir: Path) -> None:
    """An unknown event id exits 1 with the reason."""
    result = runner.invoke(app, ["related", "nope", "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and "not found" in result.output


def test_search_plain_and_json(data_dir: Path) -> None:
    """search ranks stored reports for a free text."""
    code, out = run("search", "login redirect loop", "--data-dir", data_dir, "--k", "2")
    assert code == 0 and out.splitlines()[0].split()[2] == "fb-4" and "terms " in out
    code, out = run("search", "invoice page", "--data-dir", data_dir, "--json", "--k", "2")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 2 and all(h["evidence"]["time_gap_hours"] is None for h in hits)
    assert {"event", "score", "evidence"} <= set(hits[0])


def test_narratives_and_narrative_commands(tmp_path: Path) -> None:
    """`narratives` lists what ingest grouped; `narrative ID` shows its timeline; unknown ids exit 1."""
    data = write_jsonl(tmp_path / "rows.jsonl", [json.dumps(r) for r in ROWS])
    assert runner.invoke(app, ["ingest", str(data), "--data-dir", str(tmp_path / "d")]).exit_code == 0
    listed = runner.invoke(app, ["narratives", "--data-dir", str(tmp_path / "d"), "--json", "--sort", "size"])
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.output)
    sizes = [n["size"] for n in page["narratives"]]
    assert sum(sizes) == len(ROWS) and sizes == sorted(sizes, reverse=True)
    biggest = page["narratives"][0]["id"]
    shown = runner.invoke(app, ["narrative", biggest, "--data-dir", str(tmp_path / "d")])
    assert shown.exit_code == 0 and shown.output.startswith(biggest) and "timeline:" in shown.output
    missing = runner.invoke(app, ["narrative", "N-999999", "--data-dir", str(tmp_path / "d")])
    assert missing.exit_code == 1 and "not found" in missing.output
