"""What the example tests share: a directory actions can write, and running an example's
deploy script with the real `wsk` on the PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import StandaloneServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the actions can write whatever user they run as (nobody, as root)."""
    path = Path(tempfile.mkdtemp(prefix="example-", dir="/tmp"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path)


def run_deploy(wskprops: Path, example: str, *args: str) -> str:
    """`examples/<example>/deploy.sh ARGS` as a user runs it; its output."""
    wsk = shutil.which("wsk")
    assert wsk
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("__OW_")},
        "WSK_CONFIG_FILE": str(wskprops),
        "PATH": f"{Path(wsk).parent}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["sh", str(EXAMPLES / example / "deploy.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def host_files_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneServer]:
    """A standalone server whose process containers run without the sandbox, for the examples
    that keep their state in the host's files: a sandboxed action sees only its own directory
    (their READMEs say so, and what to use instead)."""
    srv = StandaloneServer(
        tmp_path_factory.mktemp("host-files"),
        env={"PYWHISK_CONTAINERS_URL": "process://?sandbox=off"},
    )
    srv.start()
    yield srv
    srv.stop()
