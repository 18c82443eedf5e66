"""Unmodified Node.js clients for tests, installed from npm on first use into the pywhisk cache.

`ensure_npm("openwhisk-3", "openwhisk@3")` installs the given packages with npm under
`<cache>/node/<label>` once (one installer at a time, into a temporary directory renamed
when npm succeeded, so an interrupted install leaves nothing half done) and returns that
prefix; later sessions find it there. Serverless Framework v3 is about 250 MB and two
minutes to install; the `openwhisk` client a few seconds.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
from pathlib import Path

from pywhisk.deploy.baseimage import cache_dir
from tests.support.prerequisites import program

_MARKER = ".pywhisk-installed"


def ensure_npm(label: str, *specs: str) -> Path:
    prefix = cache_dir() / "node" / label
    wanted = "\n".join(specs)
    marker = prefix / _MARKER
    if marker.exists() and marker.read_text() == wanted:
        return prefix
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == wanted:
            return prefix
        npm = program("npm", "npm")
        staging = Path(tempfile.mkdtemp(prefix=".install-", dir=prefix.parent))
        try:
            done = subprocess.run(
                [
                    *(npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund"),
                    *("--loglevel=error", *specs),
                ],
                capture_output=True,
                text=True,
                timeout=900,
            )
            if done.returncode != 0:
                raise RuntimeError(f"npm install {' '.join(specs)} failed:\n{done.stderr[-4000:]}")
            (staging / _MARKER).write_text(wanted)
            staging.chmod(0o755)  # mkdtemp's 0700 would hide a root-made cache from users
            shutil.rmtree(prefix, ignore_errors=True)
            staging.rename(prefix)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return prefix
