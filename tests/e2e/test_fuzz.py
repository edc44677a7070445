"""Schema fuzzing: schemathesis generates requests from the served OpenAPI document.

Every operation gets a bounded number of generated cases (valid and invalid) against a real
server with an admin key. No answer may be a 5xx, and every answer must match the status codes,
content types and schemas the document declares.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from tests.e2e.conftest import Server, corpus
from tests.e2e.test_auth_e2e import create_key

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 25  # per operation: ~20 operations, about a minute on 2 cores with the real model


# What the issue asks of every answer: no 5xx, and status, content type and body as documented.
# (schemathesis' negative_data_rejection also found real leniencies, fixed since, but which invalid
# inputs it tries depends on the server's changing data; it is left to manual runs.)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_target(launch, tmp_path_factory) -> dict[str, Any]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "data"
    key = create_key(data_dir, "fuzzer", "admin")
    server: Server = launch(data_dir, extra_env={"HYPERCORR_RATE_LIMIT_PER_SECOND": "0"})
    headers = {"Authorization": f"Bearer {key}"}
    assert server.client.post("/v1/events", json={"events": corpus()}, headers=headers).status_code == 201
    return {"server": server, "headers": headers}


@pytest.fixture(scope="module")
def api_schema(fuzz_target: dict[str, Any]) -> schemathesis.BaseSchema:
    server: Server = fuzz_target["server"]
    return schemathesis.openapi.from_url(f"{server.base_url}/openapi.json", timeout=30)


def fuzz_operation(operation: schemathesis.APIOperation, mode: GenerationMode, target: dict[str, Any],
                   statuses: Counter[int]) -> None:
    """Run the bounded Hypothesis search for one operation; raises on the first failing check."""
    server: Server = target["server"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        case.headers = {**(case.headers or {}), **target["headers"]}
        response = case.call_and_validate(base_url=server.base_url, checks=CHECKS, timeout=60)
        statuses[response.status_code] += 1

    run()


def test_every_operation_conforms(api_schema: schemathesis.BaseSchema, fuzz_target: dict[str, Any]) -> None:
    """Positive and negative cases for every operation in the served document (pytest 9 has no
    room for schemathesis' lazy per-operation parametrisation, so one test walks them all)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 19
    failures, statuses = [], Counter[int]()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz_operation(operation, mode, fuzz_target, statuses)
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every failure, then report
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    print(f"\nfuzz: {len(operations)} operations, {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    assert sum(statuses.values()) >= 10 * len(operations)
    assert not any(status >= 500 for status in statuses)
    assert "unhandled error" not in fuzz_target["server"].log()
