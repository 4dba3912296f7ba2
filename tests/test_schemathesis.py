"""Property-based API testing: schemathesis drives the live service from its own /openapi.json.

Bounded: at most MAX_EXAMPLES generated cases per operation, derandomized (reproducible).
Checks: no 5xx (not_a_server_error) and responses match the documented schema
(response_schema_conformance). Write endpoints get a valid key, so their bodies are exercised
rather than stopped at 401.
"""
from __future__ import annotations

import hashlib
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from service_fixture import REPO, Service, run_cli

API_KEY = "schemathesis-key-1c2d"
MAX_EXAMPLES = 25
BUDGET_S = 480


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    store = tmp_path_factory.mktemp("schemathesis") / "store"
    run_cli("ingest", str(REPO / "samples"), store=store)
    svc = Service(store, {"DQA_API_KEY_HASHES": hashlib.sha256(API_KEY.encode()).hexdigest(),
                          "DQA_RATE_LIMIT_PER_MINUTE": "1000000",
                          "DQA_MAX_UPLOAD_BYTES": str(256 * 1024)})
    yield svc
    svc.stop()


def test_api_matches_its_openapi_and_never_5xx(service):
    schema = schemathesis.openapi.from_url(service.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/ask", "/v1/search", "/v1/documents"}
    failures: dict[str, str] = {}
    counts: dict[str, int] = {}
    started = time.monotonic()
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        counts[label] = 0

        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(case=operation.as_strategy())
        def run(case):
            counts[label] += 1
            response = case.call(base_url=service.url, headers={"X-API-Key": API_KEY}, timeout=120)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except KeyboardInterrupt:
            raise
        except BaseException as error:      # collect every operation's failure, then report all
            failures[label] = f"{type(error).__name__}: {str(error)[:1500]}"
        if time.monotonic() - started > BUDGET_S:
            failures["(budget)"] = f"stopped after {label}: over {BUDGET_S} s"
            break
    print("\nschemathesis cases per operation: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
