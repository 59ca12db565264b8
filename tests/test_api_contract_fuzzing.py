"""Property-based testing of the whole public API: schemathesis reads the gateway's
merged OpenAPI document and sends generated valid and invalid requests through the
gateway; no answer may be a 5xx or break the schema it documents.

It runs as a customer (the catalog's staff-only writes are still exercised, and must
answer 403) so that it cannot delete what the other end-to-end tests created. One
worker: schemathesis's coverage phase is not thread-safe in this version."""

import subprocess
import sys
from pathlib import Path

from devtools.journeys import http, register_and_log_in

VENV_BIN = Path(sys.executable).parent


def test_no_generated_request_gets_a_server_error_or_an_answer_that_breaks_the_schema(platform, tmp_path):
    with http(platform) as client:
        customer = register_and_log_in(client)
    result = subprocess.run(
        [
            str(VENV_BIN / "schemathesis"),
            "run",
            f"{platform.base_url}/api/schema/",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "15",
            "--seed",
            "20261127",
            "--generation-database",
            "none",
            "--workers",
            "1",
            "--request-timeout",
            "15",
            "--no-color",
            "--header",
            f"Authorization: Bearer {customer.access}",
            "--suppress-health-check",
            "all",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
