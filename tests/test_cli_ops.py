"""The CLI's narrative view shows the probable origin and suspect changes."""
from __future__ import annotations

import json
from pathlib import Path

from api.cli import app
from tests.test_cli import fake_embedder, runner, write_jsonl  # noqa: F401 - the fixture keeps the model unloaded

ROWS = [
    {"id": "deploy-7", "kind": "change", "title": "Deployment: payments 7.1", "text": "new invoice renderer",
     "systems": ["payments"], "occurred_at": "2026-03-02T06:00:00Z",
     "attributes": {"change_type": "deployment", "version": "7.1"}},
    {"id": "fb-1", "title": "Failed transaction", "text": "payment failed on invoice", "user_id": "u-1",
     "systems": ["payments"], "occurred_at": "2026-03-02T09:00:00Z"},
]


def test_narrative_shows_origin_and_suspect_changes(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "rows.jsonl", [json.dumps(r) for r in ROWS])
    assert runner.invoke(app, ["ingest", str(data), "--data-dir", str(tmp_path / "d")]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["narratives", "--data-dir", str(tmp_path / "d"), "--json"]).output)
    report_narrative = next(n["id"] for n in listed["narratives"] if "u-1" in n["users"])
    shown = runner.invoke(app, ["narrative", report_narrative, "--data-dir", str(tmp_path / "d")])
    assert shown.exit_code == 0, shown.output
    assert "probable origin: payments (the only affected system;" in shown.output
    assert ("suspect change deploy-7: same system: payments; 3 h 00 min before the first report "
            "(fb-1, 2026-03-02 09:00 UTC); version 7.1") in shown.output
