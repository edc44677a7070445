"""`hypercorr bench --load` runs its mixed workload against a real server without a single error."""
from __future__ import annotations

import pytest

from eval.load import MIX, run_load

pytestmark = pytest.mark.e2e


def test_small_mixed_load_has_no_errors(capsys: pytest.CaptureFixture[str]) -> None:
    figures = run_load(quick=True, clients=3, operations=60, seconds=120, seed_events=40)
    printed = capsys.readouterr().out
    assert figures["errors"] == 0, printed
    endpoints = figures["endpoints"]
    assert endpoints["all"]["requests"] == 60
    assert {op.name for op in MIX} <= set(endpoints)  # every operation of the mix is served today
    assert "p99 ms" in printed and "errors: 0" in printed

