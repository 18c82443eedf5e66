"""Every way `pywhisk standalone` (and `pywhisk controller`) can fail to start ends the same
way, as a user sees it: one line on stderr, a non-zero exit, and the process gone, never a
traceback or a server that hangs on after saying it failed. Each case runs the real command
in its own process; the subprocess timeout is what catches a hang."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.couchdb import PouchDBServer, couchdb_server  # noqa: F401 - fixture
from tests.support.server import free_port

# Far more than any of these needs (the Kafka case waits its 2 s timeout): a process still
# running by then is the hang this suite is about.
HANG = 90


def run_pywhisk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pywhisk.deploy.commands", *args],
        capture_output=True,
        text=True,
        timeout=HANG,
        env={**os.environ, **(env or {})},
    )


def standalone(tmp_path: Path, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    base = ["standalone", "--port", str(free_port()), "--data-dir", str(tmp_path / "data")]
    env = {"WSK_CONFIG_FILE": str(tmp_path / "wskprops"), **kw.pop("env", {})}  # type: ignore[dict-item]
    return run_pywhisk(*base, *args, env=env)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0, done.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


def test_missing_docker_sdk(tmp_path: Path) -> None:
    shim = tmp_path / "shim" / "docker"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('the docker package is hidden')\n")
    done = standalone(tmp_path, "--containers", "docker", env={"PYTHONPATH": str(shim.parent)})
    assert "Docker SDK" in one_error_line(done)


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_port_in_use(tmp_path: Path, taken_port: int) -> None:
    done = run_pywhisk(
        "standalone", "--port", str(taken_port), "--data-dir", str(tmp_path / "data"),
        env={"WSK_CONFIG_FILE": str(tmp_path / "wskprops")},
    )  # fmt: skip
    line = one_error_line(done)
    assert f"127.0.0.1:{taken_port}" in line and "already in use" in line


def test_cluster_controller_port_in_use(tmp_path: Path, taken_port: int) -> None:
    done = run_pywhisk(
        "controller", "--port", str(taken_port), "--data-dir", str(tmp_path / "data")
    )
    assert "already in use" in one_error_line(done)


def test_cluster_invoker_failures(tmp_path: Path, taken_port: int) -> None:
    shim = tmp_path / "shim" / "docker"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('the docker package is hidden')\n")
    base = ["invoker", "--data-dir", str(tmp_path / "data")]
    hidden = run_pywhisk(*base, "--containers", "docker", env={"PYTHONPATH": str(shim.parent)})
    assert "Docker SDK" in one_error_line(hidden)
    taken = run_pywhisk(*base, "--metrics-port", str(taken_port))
    assert f"127.0.0.1:{taken_port}" in one_error_line(taken)
    url = f"kafka://127.0.0.1:{free_port()}?timeout=2"
    assert "cannot connect to Kafka" in one_error_line(run_pywhisk(*base, "--queue-url", url))


def test_couchdb_refusing_the_login(tmp_path: Path, couchdb_server: PouchDBServer) -> None:  # noqa: F811
    url = couchdb_server.store_url("startup_").replace(":secret@", ":wrong@")
    line = one_error_line(standalone(tmp_path, "--store-url", url))
    assert "refused the login" in line
    line = one_error_line(run_pywhisk("admin", "list", "--store-url", url))
    assert "refused the login" in line


def test_unreachable_kafka(tmp_path: Path) -> None:
    url = f"kafka://127.0.0.1:{free_port()}?timeout=2"  # nobody listens there
    line = one_error_line(standalone(tmp_path, env={"PYWHISK_QUEUE_URL": url}))
    assert "cannot connect to Kafka" in line


def test_unknown_url_scheme(tmp_path: Path) -> None:
    line = one_error_line(standalone(tmp_path, "--store-url", "postgres://db/x"))
    assert "unknown store URL scheme" in line and "sqlite://" in line
    line = one_error_line(standalone(tmp_path, env={"PYWHISK_QUEUE_URL": "rabbit://h"}))
    assert "unknown queue URL scheme" in line


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # even root cannot make a directory below a file
    done = run_pywhisk(
        "standalone", "--port", str(free_port()), "--data-dir", str(blocker / "data"),
        env={"WSK_CONFIG_FILE": str(tmp_path / "wskprops")},
    )  # fmt: skip
    assert f"cannot use the data directory {blocker / 'data'}" in one_error_line(done)


def test_a_store_file_that_is_no_database(tmp_path: Path) -> None:
    # The store's connection opens before SQLite reads the file; the failure must close it,
    # or its thread keeps the process alive after the error line.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pywhisk.db").write_bytes(b"not a database, just text\n" * 400)
    assert "file is not a database" in one_error_line(standalone(tmp_path))


def test_setting_of_the_wrong_type(tmp_path: Path) -> None:
    line = one_error_line(standalone(tmp_path, env={"PYWHISK_USER_MEMORY": "lots"}))
    assert "user_memory" in line
