"""The boundaries the architecture rests on, checked on the source itself.

- The shared library is layered, knows no project, and only its worker knows
  Celery: the import contracts in `.importlinter`, run by import-linter.
- A service imports no other project's code: services share only the library and
  its event contracts.
- A service's code (its tests aside) imports no HTTP client: services never call
  each other, they publish and consume events. Only the gateway speaks HTTP to them.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commerce_core.settings.topology import PROJECTS, SERVICES

REPO_ROOT = Path(__file__).resolve().parents[2]
HTTP_CLIENTS = {"requests", "httpx", "aiohttp", "urllib.request", "http.client", "urllib3", "pycurl"}


def top_level_packages(project_dir: Path) -> set[str]:
    return {path.parent.name for path in project_dir.glob("*/__init__.py")}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def python_files(project_dir: Path, *, include_tests: bool = True):
    for path in project_dir.rglob("*.py"):
        if not include_tests and ("tests" in path.parts or path.name in {"conftest.py"}):
            continue
        yield path


def test_the_shared_library_keeps_its_import_contracts():
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "libs" / "commerce_core")}
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), str(REPO_ROOT / ".importlinter"), "--no-cache"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("project", PROJECTS, ids=lambda project: project.name)
def test_a_project_imports_no_other_projects_code(project):
    own = top_level_packages(REPO_ROOT / project.directory)
    others = {
        package
        for other in PROJECTS
        if other is not project
        for package in top_level_packages(REPO_ROOT / other.directory)
    } - own
    offences = [
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in python_files(REPO_ROOT / project.directory)
        for module in imported_modules(path)
        if module.split(".")[0] in others
    ]
    assert offences == []


@pytest.mark.parametrize("service", SERVICES, ids=lambda project: project.name)
def test_a_service_imports_no_http_client(service):
    offences = [
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in python_files(REPO_ROOT / service.directory, include_tests=False)
        for module in imported_modules(path)
        if module in HTTP_CLIENTS or module.split(".")[0] in HTTP_CLIENTS
    ]
    assert offences == []


def test_the_shared_library_imports_no_http_client_outside_its_tests():
    library = REPO_ROOT / "libs" / "commerce_core" / "commerce_core"
    offences = [
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in python_files(library, include_tests=False)
        for module in imported_modules(path)
        if module in HTTP_CLIENTS or module.split(".")[0] in HTTP_CLIENTS
    ]
    assert offences == []
