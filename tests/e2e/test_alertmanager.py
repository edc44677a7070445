"""A real Prometheus Alertmanager delivers alerts to a real hypercorr server through the webhook.

Both run on loopback: Alertmanager (Debian package `prometheus-alertmanager`, installed by
`scripts/dev test` when missing and run as root) with clustering off and a webhook receiver
pointing at the uvicorn server. Alerts are posted to Alertmanager's own API; the test checks
that they arrive as `alert` events, that a resolve updates the event instead of adding one,
and that a user report on a front end links to an alert on the database it depends on.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.ops.timestamps import parse_rfc3339
from tests.e2e.conftest import HOST, Launch, Server, free_port, http_client

pytestmark = pytest.mark.e2e
BINARIES = ("prometheus-alertmanager", "alertmanager")
TOPOLOGY = {"systems": {"web-frontend": {"depends_on": ["checkout-api", "auth"]},
                        "checkout-api": {"depends_on": ["payments-db"]}}}
ALERT_LABELS = {"alertname": "PaymentsDbPoolExhausted", "service": "payments-db", "severity": "critical"}
ALERT_NOTES = {"summary": "payments-db connection pool exhausted",
               "description": "Database payments-db has no free connections; checkout queries wait more than 30 s."}


def alertmanager_binary() -> str | None:
    """The Alertmanager executable ($HC_ALERTMANAGER_BIN, else on PATH), or None."""
    override = os.environ.get("HC_ALERTMANAGER_BIN")
    if override:
        return override if os.access(override, os.X_OK) else None
    return next((found for name in BINARIES if (found := shutil.which(name))), None)


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until `condition()` is truthy; return its value or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def write_config(path: Path, webhook_url: str) -> None:
    """A route that sends every alert to hypercorr at once (short waits keep the test quick)."""
    path.write_text(f"""route:
  receiver: hypercorr
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hypercorr
    webhook_configs:
      - url: {webhook_url}
        send_resolved: true
        max_alerts: 1000
""")


@pytest.fixture(scope="module")
def stack(launch: Launch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, httpx.Client]]:
    """A hypercorr server and an Alertmanager whose webhook receiver points at it."""
    binary = alertmanager_binary()
    if binary is None:
        pytest.skip("Prometheus Alertmanager is not installed: run `scripts/dev test` as root (it installs the "
                    "Debian package prometheus-alertmanager) or `apt-get install prometheus-alertmanager`")
    work = tmp_path_factory.mktemp("alertmanager")
    server = launch(work / "data")
    config = work / "alertmanager.yml"
    write_config(config, f"{server.base_url}/v1/webhooks/alertmanager")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    with open(work / "alertmanager.log", "wb") as log:
        proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.path={work / 'am-data'}",
                                 f"--web.listen-address={HOST}:{port}", "--cluster.listen-address="],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    client = http_client(f"http://{HOST}:{port}", timeout=10.0)

    def ready() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"alertmanager exited: {(work / 'alertmanager.log').read_text()[-2000:]}")
        try:
            return client.get("/-/ready").status_code == 200
        except httpx.HTTPError:
            return False
    try:
        wait_for(ready, 60, "Alertmanager to be ready")
        yield server, client
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(20)


def alert_events(server: Server) -> list[dict[str, Any]]:
    """Alert events hypercorr stored for payments-db."""
    response = server.client.get("/v1/systems/payments-db/history", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return [e for e in response.json()["events"] if e["kind"] == "alert"]


def test_alertmanager_delivers_then_resolve_updates(stack: tuple[Server, httpx.Client]) -> None:
    """Firing arrives as one event; resolving updates it (status, ends_at); nothing is added."""
    server, am = stack
    assert server.client.put("/v1/topology", json=TOPOLOGY).status_code == 200
    now = datetime.now(timezone.utc)
    report = {"id": "report-1", "title": "Checkout page hangs",
              "text": "The checkout page hangs when I click pay and then shows an error.",
              "user_id": "u-17", "systems": ["web-frontend"], "channel": "widget",
              "occurred_at": (now - timedelta(minutes=5)).isoformat()}
    server.ingest([report])

    response = am.post("/api/v2/alerts", json=[{"labels": ALERT_LABELS, "annotations": ALERT_NOTES,
                                                "generatorURL": "http://prometheus.local/graph"}])
    assert response.status_code == 200, response.text
    stored = wait_for(lambda: alert_events(server), 60, "the firing alert to arrive through the webhook")
    assert len(stored) == 1
    event = stored[0]
    in_am = am.get("/api/v2/alerts").json()
    assert len(in_am) == 1
    fingerprint, starts_at = in_am[0]["fingerprint"], in_am[0]["startsAt"]
    assert event["id"].startswith(f"am-{fingerprint}-")
    assert event["title"] == ALERT_NOTES["summary"] and event["text"] == ALERT_NOTES["description"]
    assert event["systems"] == ["payments-db"] and event["impact"] == "critical"
    assert event["attributes"]["status"] == "firing" and "ends_at" not in event["attributes"]
    assert event["attributes"]["fingerprint"] == fingerprint
    # Alertmanager's API shows milliseconds; the webhook sent nanoseconds (kept to the microsecond)
    assert abs(datetime.fromisoformat(event["occurred_at"]) - parse_rfc3339(starts_at)) < timedelta(milliseconds=1)

    ends_at = datetime.now(timezone.utc).isoformat()
    # As Prometheus does: the same labels with an end time (Alertmanager keeps the first startsAt)
    response = am.post("/api/v2/alerts", json=[{"labels": ALERT_LABELS, "annotations": ALERT_NOTES,
                                                "endsAt": ends_at,
                                                "generatorURL": "http://prometheus.local/graph"}])
    assert response.status_code == 200, response.text
    resolved = wait_for(lambda: [e for e in alert_events(server) if e["attributes"].get("status") == "resolved"],
                        60, "the resolved notification to update the event")
    assert [e["id"] for e in alert_events(server)] == [event["id"]]  # updated, not added
    assert resolved[0]["attributes"]["ends_at"].startswith(ends_at[:19])
    assert server.get(event["id"]).json()["title"] == event["title"]


def test_report_links_to_upstream_alert_with_path(stack: tuple[Server, httpx.Client]) -> None:
    """The front-end report and the database alert, minutes apart, link with the dependency path."""
    server, _ = stack
    alert_id = alert_events(server)[0]["id"]
    hits = server.related("report-1", k=5)
    hit = next(h for h in hits if h["event"]["id"] == alert_id)
    assert hit["evidence"]["topology_path"] == "web-frontend -> checkout-api -> payments-db"
    narrative = server.client.get("/v1/events/report-1/narrative").json()
    links = [link for m in narrative["members"] for link in m["links"]]
    evidence = next(link["evidence"] for link in links if {link["from_event"], link["to_event"]} == {alert_id, "report-1"})
    assert evidence["topology_path"] == "payments-db <- checkout-api <- web-frontend"
    assert narrative["probable_origin"]["system"] == "payments-db"


def test_resolved_alert_and_topology_survive_kill_9(stack: tuple[Server, httpx.Client], launch: Launch) -> None:
    """Acknowledged writes (the resolve update, the topology) are in SQLite: a kill -9 loses neither."""
    server, _ = stack
    event = alert_events(server)[0]
    assert event["attributes"]["status"] == "resolved"
    server.kill()
    again = launch(server.data_dir)
    try:
        assert again.get(event["id"]).json()["attributes"] == event["attributes"]
        topology = again.client.get("/v1/topology").json()
        assert topology["systems"]["checkout-api"] == {"depends_on": ["payments-db"]} and topology["edges"] == 3
        assert len(alert_events(again)) == 1
    finally:
        again.kill()
