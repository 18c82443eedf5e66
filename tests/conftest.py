"""Shared fixtures: a real standalone server per test session, a fresh namespace per test,
and the real `wsk` CLI pointed at it."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from pywhisk.common.entities import Identity
from tests.support.server import TEST_LIMITS, StandaloneServer

# Fails a run whose tests leave threads that would keep the process from exiting.
pytest_plugins = ["tests.support.thread_leaks"]

_names = itertools.count()


class _BareFolderNames(importlib.abc.MetaPathFinder):
    """The code is installed as pywhisk.<folder>; pytest runs from the checkout, where the bare
    folder names (`common`, `controller`, ...) would import too and hide a forgotten prefix
    (as `importlib.resources.files("common")` once did). Refused here, as for a user."""

    FOLDERS = frozenset({"common", "controller", "invoker", "cli", "action_runtime", "deploy"})

    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if path is None and name in self.FOLDERS:
            raise ModuleNotFoundError(f"No module named {name!r}: it is pywhisk.{name}")
        return None


sys.meta_path.insert(0, _BareFolderNames())

WskRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneServer]:
    srv = StandaloneServer(tmp_path_factory.mktemp("standalone"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def namespace(server: StandaloneServer, request: pytest.FixtureRequest) -> Identity:
    return server.create_namespace(
        f"t{next(_names)}_{request.node.name[:40]}".replace("[", "_").replace("]", "_"),
        **TEST_LIMITS,
    )


@pytest.fixture
def api(server: StandaloneServer, namespace: Identity) -> Iterator[httpx.Client]:
    uuid, _, key = namespace.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=90) as client:
        yield client


@pytest.fixture
def wskprops(server: StandaloneServer, namespace: Identity, tmp_path: Path) -> Path:
    path = tmp_path / "wskprops"
    path.write_text(f"APIHOST={server.url}\nAUTH={namespace.auth}\n")
    return path


@pytest.fixture
def wsk(wskprops: Path) -> WskRunner:
    executable = shutil.which("wsk")
    assert executable, "the wsk CLI is not installed (pip install -e .)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("__OW_")}
    env["WSK_CONFIG_FILE"] = str(wskprops)

    def run(
        *args: str, check: bool = True, input: str | None = None, cwd: Path | str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [executable, *args],
            env=env,
            input=input,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"wsk {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    return run
