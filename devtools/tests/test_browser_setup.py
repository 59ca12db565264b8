"""The browser tests' setup (devtools/browser.py): nothing to do when Chromium is there,
an installation when it is not, and a failure that says why when that fails."""

import subprocess

import pytest

from devtools import browser
from devtools.browser import BrowserUnavailable, ensure_chromium


class AptCalls(list):
    """The apt-get commands asked for, each answered by `answer(args)` instead of being run."""

    def answer(self, args) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(["apt-get", *args], 0, "")


@pytest.fixture
def apt_calls(monkeypatch):
    calls = AptCalls()

    def fake_apt(*args):
        calls.append(args)
        return calls.answer(args)

    monkeypatch.setattr(browser, "_apt", fake_apt)
    monkeypatch.setattr(browser.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(browser.os, "geteuid", lambda: 0)
    return calls


def test_a_chromium_already_there_is_used_without_installing_anything(tmp_path, apt_calls):
    executable = tmp_path / "chromium"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)

    assert ensure_chromium(executable) == executable
    assert apt_calls == []


def test_a_missing_chromium_is_installed_with_apt_get(tmp_path, apt_calls):
    executable = tmp_path / "chromium"

    def install(args):
        if args[0] == "install":
            executable.write_text("#!/bin/sh\n")
            executable.chmod(0o755)
        return subprocess.CompletedProcess(["apt-get", *args], 0, "")

    apt_calls.answer = install

    assert ensure_chromium(executable) == executable
    assert [call[0] for call in apt_calls] == ["install"]
    assert apt_calls[0][-1] == "chromium"


def test_when_it_cannot_be_installed_the_failure_says_why_after_updating_the_package_lists_once(tmp_path, apt_calls):
    apt_calls.answer = lambda args: subprocess.CompletedProcess(
        ["apt-get", *args], 100, "E: Unable to locate package chromium"
    )

    with pytest.raises(BrowserUnavailable) as failure:
        ensure_chromium(tmp_path / "chromium")

    assert [call[0] for call in apt_calls] == ["install", "update", "install"]
    assert "could not install Debian's 'chromium' package" in str(failure.value)
    assert "Unable to locate package chromium" in str(failure.value)


def test_without_apt_get_the_failure_says_so(tmp_path, apt_calls, monkeypatch):
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)

    with pytest.raises(BrowserUnavailable, match="no apt-get"):
        ensure_chromium(tmp_path / "chromium")
    assert apt_calls == []
