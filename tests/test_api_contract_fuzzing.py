"""Property-based testing of the whole public API: schemathesis reads the gateway's
merged OpenAPI document and sends generated valid and invalid requests through the
gateway; no answer may be a 5xx or differ from what the document says (its status,
content type and body).

Every phase runs:
- examples: the document's own examples;
- coverage: each parameter and field at and just beyond its documented bounds (an
  id of 2**63, a string one character too long, a missing required field, a value
  of the wrong type...): what reaches the database's limits;
- fuzzing: `API_FUZZ_EXAMPLES` random requests per operation, valid and invalid;
- stateful: sequences of calls, the ids one answer gives feeding the next request.

It runs twice. As a customer over the whole API: the catalog's staff-only writes
must answer 403, and one product, in the customer's cart, gives the generated
requests real ids to find. As an operator over the catalog only, whose writes it
then really makes: it may change or delete any product that exists, so this module
comes first of the end-to-end tests (they run in file order) and meets only the
products it made itself. One worker: schemathesis's coverage phase is not
thread-safe in this version.

The seed is fixed, so that every run sends the same requests, and printed (shown
with the failure, or always with `-s`); `API_FUZZ_SEED` sets another. A longer run,
say before a release:

    API_FUZZ_EXAMPLES=1000 API_FUZZ_SEED=$RANDOM make test ARGS="tests -- -k fuzz -s"
"""

import os
import subprocess
import sys
from pathlib import Path

from commerce_core.testing.openapi_audit import unbounded_inputs
from devtools.journeys import add_to_cart, create_product, http, log_in_as_operator, register_and_log_in

VENV_BIN = Path(sys.executable).parent
DEFAULT_SEED = 20261127
#: Fuzzing cases per operation (the coverage phase adds its own, as many as the
#: document's bounds call for).
DEFAULT_EXAMPLES = 40
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def fuzz(platform, access_token: str, report_dir: Path, *options: str) -> None:
    """Run every phase of schemathesis as the holder of `access_token`; fail with its report."""
    seed = int(os.environ.get("API_FUZZ_SEED", DEFAULT_SEED))
    examples = int(os.environ.get("API_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
    print(f"schemathesis seed {seed}, {examples} examples per operation (API_FUZZ_SEED, API_FUZZ_EXAMPLES)")
    result = subprocess.run(
        [
            str(VENV_BIN / "schemathesis"),
            "run",
            f"{platform.base_url}/api/schema/",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(examples),
            "--seed",
            str(seed),
            "--generation-database",
            "none",
            "--workers",
            "1",
            "--request-timeout",
            "15",
            "--no-color",
            "--header",
            f"Authorization: Bearer {access_token}",
            "--suppress-health-check",
            "all",
            "--report",
            "junit",
            "--report-dir",
            str(report_dir),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(result.stdout[-4000:])  # the summary: cases per phase, warnings
    assert result.returncode == 0, (
        f"schemathesis seed {seed} (rerun with API_FUZZ_SEED={seed}):\n"
        + result.stdout[-20000:]
        + result.stderr[-5000:]
    )


def test_every_input_in_the_platforms_document_is_bounded(platform):
    with http(platform) as client:
        document = client.get("/api/schema/").json()
    assert "x-unavailable" not in document["info"], document["info"]
    assert unbounded_inputs(document) == []


def test_no_request_of_a_customer_gets_a_server_error_or_an_answer_that_breaks_the_schema(platform, tmp_path):
    with http(platform) as client:
        customer = register_and_log_in(client)
        product = create_product(client, log_in_as_operator(client), stock=1_000)
        add_to_cart(client, customer, product["id"])
    fuzz(platform, customer.access, tmp_path)


def test_no_catalog_request_of_an_operator_gets_a_server_error_or_an_answer_that_breaks_the_schema(platform, tmp_path):
    with http(platform) as client:
        operator = log_in_as_operator(client)
        create_product(client, operator, stock=1_000)
    fuzz(platform, operator.access, tmp_path, "--include-path-regex", "^/api/catalog/")
