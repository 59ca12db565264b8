"""`make load`'s Locust scenario, run for a few seconds against the real platform."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_a_short_load_run_counts_paid_orders_pushes_and_no_errors(platform, tmp_path):
    summary_path = tmp_path / "summary.json"
    # The operator's account the scenario logs in with: the platform's, never a default.
    username, password = platform.platform.admin_credentials
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            "load/locustfile.py",
            "--headless",
            "--only-summary",
            "--host",
            platform.base_url,
            "--shoppers",
            "2",
            "--browsers",
            "1",
            "--listeners",
            "1",
            "--products",
            "2",
            "--accounts",
            "e2e-load",
            "--duration",
            "4",
            "--summary-json",
            str(summary_path),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "ADMIN_USERNAME": username, "ADMIN_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=100,
    )
    output = f"exit {run.returncode}\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    assert run.returncode == 0, output
    summary = json.loads(summary_path.read_text())
    assert summary["error_total"] == 0, output
    assert summary["paid"] > 0, output
    assert summary["latency_ms"]["p50"] > 0, output
    # Every paid order changes a product's stock, a public event each listener receives.
    assert summary["listener_events"] > 0, output
    # The run ends with its figures, the error count last.
    assert run.stdout.rstrip().splitlines()[-1].startswith("| errors "), output
