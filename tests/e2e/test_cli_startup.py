"""What a `wsk` process imports: only what the command it runs needs.

A person types `wsk` all day and every run is a new interpreter, so every module imported is
paid each time (the figures are `python -m bench cli`'s). The real console script runs
against the real server, with Python's own import trace (PYTHONPROFILEIMPORTTIME) naming
every module it loaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# Each of these costs more to import than the interpreter takes to start, or pulls in a
# package no common command needs (manifests, TLS for an http:// host, package metadata).
HEAVY = (
    "httpx",
    "pydantic",
    "yaml",
    "http.client",
    "email",
    "urllib.request",
    "importlib.metadata",
    "ssl",
    "asyncio",
    "shutil",
    "hashlib",
    "zipfile",
    "pywhisk.cli.project",
    "pywhisk.common",
)
COMMAND_MODULES = {
    "action": "pywhisk.cli.commands.action",
    "property": "pywhisk.cli.commands.property",
    "activation": "pywhisk.cli.commands.activation",
    "trigger": "pywhisk.cli.commands.trigger",
    "package": "pywhisk.cli.commands.package",
    "rule": "pywhisk.cli.commands.rule",
    "api": "pywhisk.cli.commands.api",
}


def imported(wskprops: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    wsk = shutil.which("wsk")
    assert wsk, "the wsk CLI is not installed (pip install -e .)"
    env = {**os.environ, "WSK_CONFIG_FILE": str(wskprops), "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(
        [wsk, *args], env=env, capture_output=True, text=True, timeout=60, cwd=wskprops.parent
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "self [us]" not in line
    }
    assert "click" in modules  # the trace is there
    return done, modules


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules for h in HEAVY if m == h or m.startswith(f"{h}.")}


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (("property", "get"), "whisk API build\t\t"),
        (("--help",), "Available Commands:"),
        (("action", "list"), "actions\n"),
        (("activation", "list"), "\n"),  # a new namespace: none yet, one empty line
    ],
)
def test_a_command_imports_what_it_needs(wskprops: Path, args: tuple[str, ...], shows: str) -> None:
    done, modules = imported(wskprops, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert shows in done.stdout
    assert heavy(modules) == set()
    ran = COMMAND_MODULES.get(args[0])
    assert {m for m in COMMAND_MODULES.values() if m in modules} == ({ran} if ran else set())


def test_a_command_without_a_request_loads_no_http_client(wskprops: Path) -> None:
    done, modules = imported(wskprops, "property", "get", "--auth", "-o", "raw")
    assert done.returncode == 0
    assert done.stdout.strip() == dict(
        line.split("=", 1) for line in wskprops.read_text().splitlines()
    ).get("AUTH")
    assert {"socket", "pywhisk.cli.transport", "pywhisk.cli.client"} & modules == set()
