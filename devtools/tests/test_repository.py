"""The repository as a newcomer receives it: formatted, lint clean, self-contained."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def test_every_python_file_passes_the_linter():
    result = ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_python_file_is_formatted():
    result = ruff("format", "--check", "--no-cache", ".")
    assert result.returncode == 0, f"run `make format`:\n{result.stdout}{result.stderr}"


def test_nothing_in_the_repository_cites_a_document_outside_it():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = ("CONTRACT.md", "GUIDE.md", "../shared/")
    citing = []
    for name in tracked:
        path = REPO_ROOT / name
        if path == Path(__file__):  # names them, to look for them
            continue
        if path.suffix not in {".py", ".md", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".txt", ".html", ".js"}:
            continue
        text = path.read_text(errors="replace")
        citing += [f"{name}: {needle}" for needle in outside if needle in text]
    assert citing == [], "the repository documents its own contract in docs/api.md"
