"""`pywhisk admin` as an operator uses it: the real command in its own process, against a
standalone server's store (and the running server, for limits that must take effect)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from pywhisk.common.entities import NamespaceLimits
from tests.support.server import StandaloneServer, create_namespace


def admin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pywhisk.deploy.commands", "admin", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYWHISK_STORE_URL": ""},
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory holding a store with the namespace `ops`."""
    create_namespace(f"sqlite:///{tmp_path / 'pywhisk.db'}", "ops")
    return tmp_path


def test_store_options_before_or_after_the_subcommand(data_dir: Path) -> None:
    before = admin("--data-dir", str(data_dir), "list")
    after = admin("list", "--data-dir", str(data_dir))
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert before.stdout == after.stdout and "ops" in after.stdout
    url = f"sqlite:///{data_dir / 'pywhisk.db'}"
    got = admin("get", "ops", "--store-url", url)
    assert got.returncode == 0 and got.stdout.count(":") == 1


def test_no_store_is_invented(tmp_path: Path) -> None:
    for args in (
        ["list"],
        ["create", "someone"],
        ["get", "guest"],
        ["delete", "guest"],
        ["limits", "guest"],
    ):
        done = admin(*args, "--data-dir", str(tmp_path / "typo"))
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert lines == [
            f"Error: no pywhisk store at {tmp_path / 'typo' / 'pywhisk.db'}: start the server "
            "once to create it, or name the store with --data-dir or --store-url"
        ]
    assert not (tmp_path / "typo").exists()


def test_no_store_is_invented_in_the_default_place(tmp_path: Path) -> None:
    """Without options: the user's data directory, where a server would have made it."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYWHISK_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"))
    done = subprocess.run(
        [sys.executable, "-m", "pywhisk.deploy.commands", "admin", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    where = home / ".local" / "share" / "pywhisk" / "pywhisk.db"
    assert done.stderr.startswith(f"Error: no pywhisk store at {where}: "), done.stderr
    assert not (home / ".local" / "share" / "pywhisk").exists()


@pytest.mark.parametrize("value", ["-5", "0", "1000001"])
def test_limit_values_out_of_range_are_refused(data_dir: Path, value: str) -> None:
    done = admin("limits", "ops", "--invocations-per-minute", value, "--data-dir", str(data_dir))
    assert done.returncode != 0
    assert done.stderr.startswith(f"Error: --invocations-per-minute {value}: input should be")
    listed = admin("list", "--data-dir", str(data_dir)).stdout
    assert listed.split() == ["ops"]  # nothing was stored


def test_a_limit_that_is_not_a_number_is_a_usage_error(data_dir: Path) -> None:
    done = admin("limits", "ops", "--concurrent-invocations", "many", "--data-dir", str(data_dir))
    assert done.returncode == 2 and "'many' is not a whole number or 'default'" in done.stderr


def test_the_model_refuses_bad_limits_whoever_writes_them() -> None:
    for bad in (-5, 0, 10**9, True, "7"):
        with pytest.raises(ValidationError):
            NamespaceLimits.model_validate({"concurrentInvocations": bad})


def test_overrides_set_shown_and_removed(data_dir: Path) -> None:
    where = ["--data-dir", str(data_dir)]
    done = admin(
        "limits", "ops", "--invocations-per-minute", "120", "--fires-per-minute", "7", *where
    )
    assert done.returncode == 0, done.stderr
    shown = admin("get", "ops", "--limits", *where).stdout.splitlines()
    assert [line.split() for line in shown] == [
        ["invocationsPerMinute", "120", "(override)"],
        ["concurrentInvocations", "30", "(default)"],
        ["firesPerMinute", "7", "(override)"],
    ]
    admin("limits", "ops", "--invocations-per-minute", "default", *where)
    table = admin("get", "ops", "--limits", *where).stdout
    assert "invocationsPerMinute     60 (default)" in table and "7 (override)" in table
    admin("limits", "ops", "--reset", *where)
    assert admin("get", "ops", "--limits", *where).stdout.count("(default)") == 3
    assert admin("list", *where).stdout.split() == ["ops"]


def test_an_override_takes_effect_on_the_running_server(server: StandaloneServer) -> None:
    where = ["--data-dir", str(server.data_dir)]
    key = admin("create", "limited_by_admin", *where).stdout.strip()
    assert (
        admin("limits", "limited_by_admin", "--invocations-per-minute", "2", *where).returncode == 0
    )
    uuid, _, secret = key.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, secret)) as api:
        echo = "/api/v1/namespaces/whisk.system/actions/utils/echo"
        codes = [api.post(f"{server.url}{echo}").status_code for _ in range(3)]
        assert codes == [202, 202, 429]
        limits = api.get("/namespaces/_/limits").json()
        assert limits["invocationsPerMinute"] == 2


def test_a_limit_stored_before_the_checks_falls_back_to_the_default(data_dir: Path) -> None:
    """An override written by an older release (-5 was accepted then) must not lock the
    namespace out: it reads as the default, and the valid ones stay."""
    with contextlib.closing(sqlite3.connect(data_dir / "pywhisk.db")) as db, db:
        db.execute(
            "UPDATE subjects SET limits = ? WHERE namespace = 'ops'",
            ('{"invocationsPerMinute": -5, "firesPerMinute": 7}',),
        )
    shown = admin("get", "ops", "--limits", "--data-dir", str(data_dir))
    assert shown.returncode == 0, shown.stderr
    assert "invocationsPerMinute     60 (default)" in shown.stdout
    assert "firesPerMinute           7 (override)" in shown.stdout
