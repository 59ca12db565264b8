"""The repository as a newcomer receives it: formatted, lint clean, self-contained."""

import re
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


#: A document's name as text cites it, by its path from the repository root or from the citing file.
DOCUMENT = re.compile(r"[\w./-]*[\w-]+\.md\b")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".txt", ".html", ".js"}


def test_nothing_in_the_repository_cites_a_document_outside_it():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    documents = {name for name in tracked if name.endswith(".md")}
    citing = []
    for name in tracked:
        if Path(name).suffix not in TEXT_SUFFIXES:
            continue
        text = (REPO_ROOT / name).read_text(errors="replace")
        for cited in DOCUMENT.findall(text):
            beside = (REPO_ROOT / name).parent / cited
            inside = beside.resolve().is_relative_to(REPO_ROOT)
            if not (cited in documents or (inside and beside.resolve().relative_to(REPO_ROOT).as_posix() in documents)):
                citing.append(f"{name}: {cited}")
    assert citing == [], "every document the repository cites is in it (the API contract: docs/api.md)"
