"""End-to-end fixtures: real `hypercorr serve` subprocesses on 127.0.0.1 with the real model.

Every server runs the same Python as the tests, on a free loopback port, with its own data
directory and log file. Servers are started through `launch` (a module-scoped factory) and
are always killed when the module finishes, whatever happened in between.
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]
REPO_DEMO_STREAM = REPO / "api" / "demo" / "stream.jsonl"
STARTUP_TIMEOUT = 240.0  # model load on a busy 2-core machine; only a wait, never an assertion
STOP_TIMEOUT = 90.0
REQUEST_TIMEOUT = 120.0
DEMO_OVERRIDE_ENV = "HC_E2E_DEMO_STREAM"

# The console script entry point, run by this interpreter. The demo stream path can be
# redirected (only used when api/demo/stream.jsonl is absent, to a copy in a tmp dir).
LAUNCHER = (
    "import os\n"
    "from pathlib import Path\n"
    "import api.cli as cli\n"
    f"override = os.environ.get({DEMO_OVERRIDE_ENV!r})\n"
    "if override:\n"
    "    cli.DEMO_STREAM = Path(override)\n"
    "cli.app(prog_name='hypercorr')\n"
)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGKILL the server if the test process itself dies (e.g. is killed) before cleanup."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort only; the fixtures' finalizers are the real cleanup
        pass


def free_port() -> int:
    """A currently free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http_client(base_url: str, timeout: float = REQUEST_TIMEOUT) -> httpx.Client:
    """A client that talks to the loopback server directly (no proxies from the environment)."""
    return httpx.Client(base_url=base_url, timeout=timeout, trust_env=False)


class ServerError(RuntimeError):
    """The server did not start or stop as expected."""


class Server:
    """One `hypercorr serve` subprocess."""

    def __init__(self, data_dir: Path, log_path: Path, port: int, demo: bool,
                 extra_env: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = port
        self.base_url = f"http://{HOST}:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCORR_")}
        env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                    "PYTHONUNBUFFERED": "1"})
        env.update(extra_env or {})
        args = [sys.executable, "-c", LAUNCHER, "serve", "--data-dir", str(data_dir),
                "--host", HOST, "--port", str(port)]
        if demo:
            args.append("--demo")
        with open(log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, cwd=str(log_path.parent),
                                         preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        self.client = http_client(self.base_url)

    # ---- lifecycle ----------------------------------------------------------------
    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Poll /healthz until it answers 200; raise if the process exits or the wait runs out."""
        deadline = time.monotonic() + timeout
        with http_client(self.base_url, timeout=5.0) as probe:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise ServerError(f"server exited with {self.proc.returncode} before it was ready:\n"
                                      f"{self.log_tail()}")
                try:
                    if probe.get("/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.25)
        raise ServerError(f"server not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int | None:
        """Graceful stop by signal; waits for the process to exit (it must, within the timeout)."""
        self.client.close()
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired as exc:
                self.kill()
                raise ServerError(f"server ignored {sig.name} for {timeout:.0f} s:\n{self.log_tail()}") from exc
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL (kill -9) and reap."""
        self.client.close()
        if self.alive():
            self.proc.kill()
        self.proc.wait(STOP_TIMEOUT)

    # ---- inspection ---------------------------------------------------------------
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def health(self) -> dict[str, Any]:
        response = self.client.get("/healthz")
        assert response.status_code == 200, response.text
        return response.json()

    # ---- API helpers --------------------------------------------------------------
    def post_events(self, payload: Any) -> httpx.Response:
        return self.client.post("/v1/events", json=payload)

    def ingest(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Ingest a batch that must succeed."""
        response = self.post_events({"events": events})
        assert response.status_code in (200, 201), response.text
        return response.json()

    def get(self, event_id: str) -> httpx.Response:
        return self.client.get(f"/v1/events/{event_id}")

    def related(self, event_id: str, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get(f"/v1/events/{event_id}/related", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def search(self, text: str, **body: Any) -> list[dict[str, Any]]:
        response = self.client.post("/v1/search", json={"text": text, **body})
        assert response.status_code == 200, response.text
        return response.json()

    def user_history(self, user_id: str) -> list[dict[str, Any]]:
        response = self.client.get(f"/v1/users/{user_id}/history", params={"limit": 1000})
        assert response.status_code == 200, response.text
        return response.json()["events"]


Launch = Callable[..., Server]


@pytest.fixture(scope="module")
def launch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launch]:
    """Start servers: `launch(data_dir, demo=False, extra_env=None, wait=True)`.

    With `wait` the call returns once /healthz answers; without, right after the process started.
    Every server started here is killed (SIGKILL, if still running) when the module finishes.
    """
    started: list[Server] = []
    logs = tmp_path_factory.mktemp("server-logs")

    def _launch(data_dir: Path, demo: bool = False, extra_env: dict[str, str] | None = None,
                wait: bool = True) -> Server:
        last_error: Exception | None = None
        for _attempt in range(3):  # a port taken between free_port() and bind: try another one
            server = Server(data_dir, logs / f"server-{len(started)}.log", free_port(), demo, extra_env)
            started.append(server)
            if not wait:
                return server
            try:
                server.wait_ready()
                return server
            except ServerError as exc:
                server.kill()
                last_error = exc
                if "address already in use" not in server.log().lower():
                    break
        raise last_error  # type: ignore[misc]

    yield _launch
    for server in started:
        try:
            server.kill()
        except Exception:  # noqa: BLE001 - cleanup must reach every server
            pass


# ---- shared test data ------------------------------------------------------------
def corpus() -> list[dict[str, Any]]:
    """A small, realistic mix of reports with clear topical neighbours."""
    return [
        {"id": "pay-1", "title": "Payment transaction failed",
         "text": "My payment transaction failed when paying the invoice with a credit card. "
                 "The card was charged but the order still shows as unpaid.",
         "user_id": "alice", "systems": ["billing", "checkout"], "channel": "ticket",
         "occurred_at": "2026-11-27T10:00:00+01:00", "impact": "high", "urgency": "high",
         "attributes": {"country": "DE"}},
        {"id": "pay-2", "title": "Payment failed at checkout",
         "text": "At checkout the payment failed with the error 'transaction declined', "
                 "although the same card works in other shops.",
         "user_id": "bob", "systems": ["checkout"], "channel": "widget",
         "occurred_at": "2026-11-27T10:30:00Z"},
        {"id": "printer-1", "title": "Printer out of toner",
         "text": "The printer on the third floor is out of toner and only prints blank pages.",
         "user_id": "carol", "systems": ["facilities"], "channel": "email",
         "occurred_at": "2026-11-27T08:00:00Z"},
        {"id": "vpn-1", "title": "VPN keeps disconnecting",
         "text": "The VPN connection drops every few minutes when I work from home.",
         "user_id": "dave", "systems": ["network"], "channel": "chat",
         "occurred_at": "2026-11-27T07:15:00Z"},
        {"id": "login-1", "title": "Cannot log in after password reset",
         "text": "After resetting my password the login page says my credentials are invalid.",
         "user_id": "dave", "systems": ["identity"], "channel": "ticket",
         "occurred_at": "2026-11-27T11:00:00Z"},
        {"id": "alert-1", "kind": "alert", "title": "Payment gateway error rate above 5%",
         "text": "Monitoring: payment gateway returns errors for 7% of card transactions.",
         "systems": ["checkout", "payment-gateway"], "channel": "monitoring",
         "occurred_at": "2026-11-27T09:05:00Z"},
        {"id": "change-1", "kind": "change", "title": "Deployed checkout service 2.3",
         "text": "Rolled out checkout service version 2.3 with the new payment provider client.",
         "systems": ["checkout"], "channel": "deploy", "occurred_at": "2026-11-27T08:45:00Z"},
        {"id": "invoice-1", "title": "Invoice PDF download is broken",
         "text": "Downloading the invoice as PDF shows an empty page.",
         "user_id": "alice", "systems": ["billing"], "channel": "ticket",
         "occurred_at": "2026-11-26T15:00:00Z"},
        {"id": "printer-2", "title": "Printer jams on every page",
         "text": "The office printer jams and needs a new toner cartridge soon.",
         "user_id": "erin", "systems": ["facilities"], "channel": "email",
         "occurred_at": "2026-11-27T12:00:00Z"},
    ]


def ids_of(hits: list[dict[str, Any]]) -> list[str]:
    """Event ids of related/search hits, in rank order."""
    return [hit["event"]["id"] for hit in hits]


def lock_is_free(data_dir: Path) -> bool:
    """True when no process holds the data directory's lock."""
    with open(data_dir / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def snapshot_meta(data_dir: Path) -> dict[str, Any]:
    """The vector snapshot's metadata file."""
    return json.loads((data_dir / "vectors.meta.json").read_text())
