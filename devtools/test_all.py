"""`python -m devtools.test_all` (what `make test` calls): every test suite, each in
its own pytest process, then one line with the totals.

Suites, in this order: the repository's own checks (`devtools/tests`: lint,
formatting, import layers), the shared library (`libs/commerce_core/tests`), every
project folder of the topology that has a `pytest.ini`, the load scenario's unit
tests (`load/tests`), then the cross-service end-to-end tests (`tests/`, which
start the whole platform themselves). A failing suite does not stop the next one.
The last line reads `12 passed, 0 failed` (and `, 3 skipped` when any were); the
exit code is 0 only when every suite passed and at least one test ran. A suite
that exists but collects no test, or that fails without a failing test (a crash,
a usage error), counts as one failure.

Selecting: `python -m devtools.test_all catalog tests -- -k product -x`, or
`make test ARGS="catalog -- -x"`, or `TEST_SUITES=catalog,tests`. Suite names are a
project's name or folder, `commerce_core` (alias `lib`), `load` and `tests` (alias `e2e`).
Everything from `--` (or from the first argument starting with `-`) goes to every
pytest run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from commerce_core.settings.topology import PROJECTS

REPO_ROOT = Path(__file__).resolve().parent.parent
EXIT_MEANINGS = {1: "tests failed", 2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}


@dataclass
class Suite:
    name: str
    cwd: Path
    paths: list[str] = field(default_factory=list)
    aliases: tuple[str, ...] = ()


@dataclass
class Outcome:
    suite: Suite
    exit_code: int
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def failures(self) -> int:
        """Failed tests plus errors; a suite that failed with neither counts as one."""
        counted = self.failed + self.errors
        return counted if counted or self.ok else 1


def discover_suites(root: Path = REPO_ROOT) -> list[Suite]:
    suites = []
    if (root / "devtools" / "tests").is_dir():
        suites.append(Suite("repository", root / "devtools" / "tests", [], ("repo", "lint")))
    if (root / "libs" / "commerce_core" / "tests").is_dir():
        suites.append(Suite("commerce_core", root / "libs" / "commerce_core", ["tests"], ("lib",)))
    for project in PROJECTS:
        if (root / project.directory / "pytest.ini").is_file():
            suites.append(Suite(project.directory, root / project.directory, [], (project.name,)))
    if (root / "load" / "pytest.ini").is_file():
        suites.append(Suite("load", root / "load", [], ()))
    if (root / "tests").is_dir():
        suites.append(Suite("tests", root / "tests", [], ("e2e",)))
    return suites


def parse_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """(suite names, pytest arguments)."""
    for index, arg in enumerate(argv):
        if arg == "--":
            return argv[:index], argv[index + 1 :]
        if arg.startswith("-"):
            return argv[:index], argv[index:]
    return argv, []


def select(suites: list[Suite], names: list[str]) -> list[Suite]:
    if not names:
        return suites
    known = {alias: s for s in suites for alias in (s.name, *s.aliases)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown test suite(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    wanted = {known[n].name for n in names}
    return [s for s in suites if s.name in wanted]


def run_suite(suite: Suite, pytest_args: list[str]) -> Outcome:
    print(f"\n===== {suite.name} =====", flush=True)
    with tempfile.TemporaryDirectory(prefix="commerce-tests-") as tmp:
        report = Path(tmp) / "junit.xml"
        command = [sys.executable, "-m", "pytest", *suite.paths, f"--junitxml={report}", *pytest_args]
        process = subprocess.Popen(command, cwd=suite.cwd)
        interrupted = False
        while True:
            try:
                exit_code = process.wait()
                break
            except KeyboardInterrupt:
                # pytest got the same Ctrl-C and is tearing down (the end-to-end suite
                # stops its platform then): wait for it instead of killing it.
                interrupted = True
        outcome = Outcome(suite, exit_code)
        if report.is_file():
            _count(report, outcome)
    if interrupted:
        raise Interrupted(outcome)
    return outcome


class Interrupted(Exception):
    def __init__(self, outcome: Outcome):
        super().__init__(outcome.suite.name)
        self.outcome = outcome


def _count(report: Path, outcome: Outcome) -> None:
    try:
        root = ET.parse(report).getroot()
    except ET.ParseError:
        return
    for testsuite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
        tests = int(testsuite.get("tests", 0))
        failed, errors, skipped = (int(testsuite.get(k, 0)) for k in ("failures", "errors", "skipped"))
        outcome.failed += failed
        outcome.errors += errors
        outcome.skipped += skipped
        outcome.passed += max(0, tests - failed - errors - skipped)


def summary(passed: int, failed: int, skipped: int) -> str:
    line = f"{passed} passed, {failed} failed"
    return f"{line}, {skipped} skipped" if skipped else line


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names, pytest_args = parse_args(argv)
    if not names and os.environ.get("TEST_SUITES"):
        names = [n.strip() for n in os.environ["TEST_SUITES"].split(",") if n.strip()]
    suites = select(discover_suites(), names)
    outcomes = []
    try:
        for suite in suites:
            outcomes.append(run_suite(suite, pytest_args))
    except Interrupted as interrupted:
        outcomes.append(interrupted.outcome)
        print("\ninterrupted", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)

    print("\n===== summary =====")
    for o in outcomes:
        note = "" if o.ok else f"  (pytest exit {o.exit_code}: {EXIT_MEANINGS.get(o.exit_code, 'failed')})"
        print(f"{o.suite.name}: {summary(o.passed, o.failures, o.skipped)}{note}")
    passed = sum(o.passed for o in outcomes)
    failed = sum(o.failures for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    print(summary(passed, failed, skipped), flush=True)
    everything_passed = bool(outcomes) and len(outcomes) == len(suites) and all(o.ok for o in outcomes)
    return 0 if everything_passed and passed + failed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
