"""Keys, scopes, exposure rules, logs and metrics on a real `hypercorr serve` process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LAUNCHER, REPO, Server

pytestmark = pytest.mark.e2e

PRIVATE = {"id": "private-ticket-9931", "title": "Quokka payslip mismatch",
           "text": "My Zanzibar overtime was paid twice on the payslip for March.",
           "user_id": "employee-55c1e", "systems": ["hr-portal"], "occurred_at": "2026-11-27T09:00:00Z"}


def hypercorr(*args: str, timeout: float = 120.0, env_extra: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a subprocess of this interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCORR_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(REPO), **(env_extra or {})})
    return subprocess.run([sys.executable, "-c", LAUNCHER, *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(REPO), stdin=subprocess.DEVNULL)


def create_key(data_dir: Path, name: str, *scopes: str) -> str:
    args = ["keys", "create", "--name", name, "--data-dir", str(data_dir)]
    for scope in scopes:
        args += ["--scope", scope]
    done = hypercorr(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def keyed(launch, tmp_path_factory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("auth") / "data"
    keys = {scope: create_key(data_dir, f"{scope}-client", scope) for scope in ("ingest", "read", "admin")}
    server = launch(data_dir)
    return {"server": server, "keys": keys, "data_dir": data_dir}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_keys_are_printed_once_and_stored_hashed(keyed: dict[str, Any]) -> None:
    key = keyed["keys"]["read"]
    assert key.startswith("hc_") and len(key) > 40
    listing = hypercorr("keys", "list", "--data-dir", str(keyed["data_dir"]))
    assert listing.returncode == 0 and "read-client" in listing.stdout and key not in listing.stdout
    assert key.encode() not in (keyed["data_dir"] / "hypercorr.sqlite3").read_bytes()


def test_scopes_are_enforced_over_http(keyed: dict[str, Any]) -> None:
    server: Server = keyed["server"]
    keys = keyed["keys"]
    assert server.client.post("/v1/events", json=PRIVATE).status_code == 401
    assert server.client.post("/v1/events", json=PRIVATE, headers=bearer(keys["read"])).status_code == 403
    assert server.client.post("/v1/events", json=PRIVATE, headers=bearer(keys["ingest"])).status_code == 201
    history = f"/v1/users/{PRIVATE['user_id']}/history"
    assert server.client.get(history, headers=bearer(keys["ingest"])).status_code == 403
    assert server.client.get(history, headers=bearer(keys["read"])).status_code == 200
    erase = f"/v1/users/{PRIVATE['user_id']}"
    assert server.client.delete(erase, headers=bearer(keys["read"])).status_code == 403
    assert server.client.get("/healthz").status_code == 200  # public


def test_a_key_revoked_while_serving_is_refused(keyed: dict[str, Any]) -> None:
    server: Server = keyed["server"]
    key = create_key(keyed["data_dir"], "short-lived", "read")  # created while the server holds the dir
    assert server.client.get("/v1/narratives", headers=bearer(key)).status_code == 200
    key_id = key.split("_")[1]
    done = hypercorr("keys", "revoke", key_id, "--data-dir", str(keyed["data_dir"]))
    assert done.returncode == 0, done.stderr
    assert server.client.get("/v1/narratives", headers=bearer(key)).status_code == 401
    assert hypercorr("keys", "revoke", key_id, "--data-dir", str(keyed["data_dir"])).returncode == 1


def test_cli_sends_the_key_from_the_environment(keyed: dict[str, Any]) -> None:
    url = keyed["server"].base_url
    refused = hypercorr("related", PRIVATE["id"], "--url", url)
    assert refused.returncode == 1 and "API key is required" in refused.stderr
    done = hypercorr("related", PRIVATE["id"], "--url", url, env_extra={"HYPERCORR_API_KEY": keyed["keys"]["read"]})
    assert done.returncode == 0, done.stderr


def test_info_logs_hold_no_report_text_or_ids(keyed: dict[str, Any]) -> None:
    server: Server = keyed["server"]
    read = bearer(keyed["keys"]["read"])
    assert server.client.get(f"/v1/events/{PRIVATE['id']}/related", headers=read).status_code == 200
    log = server.log()
    assert '"logger": "hypercorr.access"' in log and '"route": "/v1/events/{event_id}/related"' in log
    for private in (PRIVATE["text"], "Zanzibar", "Quokka", PRIVATE["user_id"], PRIVATE["id"],
                    keyed["keys"]["read"]):
        assert private not in log, private
    for line in log.splitlines():
        if line.startswith("{"):
            json.loads(line)  # structured: every log line is one JSON object


def test_metrics_are_served(keyed: dict[str, Any]) -> None:
    text = keyed["server"].client.get("/metrics").text
    assert 'hypercorr_events_ingested_total{outcome="created"} 1.0' in text
    assert "hypercorr_store_events 1.0" in text
    assert 'route="/v1/users/{user_id}/history"' in text


def test_open_loopback_server_warns(launch, tmp_path_factory) -> None:
    server = launch(tmp_path_factory.mktemp("open") / "data")
    assert "no API keys configured" in server.log()
    assert server.client.get("/v1/narratives").status_code == 200


def test_exposed_address_without_keys_refuses_to_start(tmp_path: Path) -> None:
    done = hypercorr("serve", "--host", "0.0.0.0", "--port", "1", "--data-dir", str(tmp_path / "data"), timeout=60)
    assert done.returncode == 2
    assert "refusing to serve on 0.0.0.0 without API keys" in done.stderr
    assert "hypercorr keys create" in done.stderr
