"""The Serverless Framework v3 (`sls`, from npm on first use: tests/support/npm.py) run as a
user would against a server under test, with its telemetry and notifications off and a
private HOME, so that it contacts nothing but that server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pywhisk.common.entities import Identity
from tests.support.npm import ensure_npm
from tests.support.server import StandaloneServer

SERVERLESS = "serverless@3.40.0"


def sls_env(server: StandaloneServer, who: Identity, home: Path) -> dict[str, str]:
    """The environment for `sls` and the `openwhisk` npm client: `who`'s key on `server`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("__OW_", "OW_", "SLS_"))}
    env.update(
        HOME=str(home),
        APIHOST=server.url,
        AUTH=who.auth,
        OW_APIHOST=server.url,
        OW_AUTH=who.auth,
        SLS_TELEMETRY_DISABLED="1",
        SLS_NOTIFICATIONS_MODE="off",
        SLS_USAGE_DISABLED="1",
        SLS_DEPRECATION_DISABLE="*",
    )
    return env


def sls(service: Path, env: dict[str, str], *args: str) -> str:
    """`sls ARGS` in the service folder; its output, once it succeeded."""
    command = ensure_npm("serverless-3.40.0", SERVERLESS) / "node_modules" / ".bin" / "sls"
    done = subprocess.run(
        [str(command), *args],
        cwd=service,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"sls {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr
