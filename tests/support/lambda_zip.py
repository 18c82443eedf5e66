"""Lambda-style action archives for tests: zips that keep executable bits (a `bootstrap` must
run), and AWS's own runtime interface client for Python installed from PyPI on first use.

`ensure_awslambdaric()` installs `awslambdaric` with pip into `<cache>/python/awslambdaric`
once (into a temporary directory renamed on success, under a lock) as binary wheels for the
Python the containers run, so they can be vendored into an action's zip as AWS documents for
custom runtimes (`pip install --target`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from pywhisk.deploy.baseimage import cache_dir
from tests.support.examples import EXAMPLES

AWSLAMBDARIC = "awslambdaric>=3,<5"
_MARKER = ".pywhisk-installed"

# A custom runtime as AWS documents it: examples/lambda-python's `bootstrap`, which runs
# awslambdaric (vendored into the zip beside it) on the handler named by `--main`.
RIC_BOOTSTRAP = (EXAMPLES / "lambda-python" / "bootstrap").read_text()

RIC_HANDLER = """\
import os

def hello(event, context):
    print("hello from", context.function_name, context.aws_request_id)
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {
        "msg": f"Hello {event.get('name', 'World')}",
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "time_left": context.get_remaining_time_in_millis() > 0,
        "pid": os.getpid(),
        "env": {k: os.environ.get(k) for k in ("_HANDLER", "AWS_LAMBDA_FUNCTION_NAME", "GREETING")},
        "event_keys": sorted(event),
        "custom": context.client_context.custom if context.client_context else None,
        "cognito": context.identity.cognito_identity_id,
    }
"""


def zip_tree(archive: Path, *roots: Path | tuple[Path, str]) -> Path:
    """Zip every file under each of `roots` (paths relative to that root, or under the folder
    named with it: `(prefix / "node_modules", "node_modules")`), modes kept."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for entry in roots:
            root, folder = entry if isinstance(entry, tuple) else (entry, "")
            for path in sorted(root.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    name = Path(folder, path.relative_to(root))
                    info = zipfile.ZipInfo.from_file(path, name)
                    zipped.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return archive


def write_executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def ensure_awslambdaric() -> Path:
    """A directory holding awslambdaric and its dependencies, importable from sys.path."""
    target = cache_dir() / "python" / "awslambdaric"
    marker = target / _MARKER
    if marker.exists() and marker.read_text() == AWSLAMBDARIC:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == AWSLAMBDARIC:
            return target
        staging = Path(tempfile.mkdtemp(prefix=".install-", dir=target.parent))
        try:
            version = container_python_version()
            done = subprocess.run(
                [
                    *(sys.executable, "-m", "pip", "install", "--quiet", "--no-compile"),
                    *("--target", str(staging), "--only-binary=:all:"),
                    *("--python-version", version, AWSLAMBDARIC),
                ],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                raise RuntimeError(f"pip install {AWSLAMBDARIC} failed:\n{done.stderr[-4000:]}")
            (staging / _MARKER).write_text(AWSLAMBDARIC)
            for path in (staging, *staging.rglob("*")):
                path.chmod(0o755 if path.is_dir() else 0o644)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def container_python_version() -> str:
    """`3.11`: the version of Debian's python3, which process containers and images run."""
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    done = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


# The host's zlib (it needs only libc, so it loads in the runtime images too), under a name
# no system has: only a library path holding the layer's lib/ finds it.
ZLIB = Path("/usr/lib/x86_64-linux-gnu/libz.so.1")

OPT_BOOTSTRAP = """\
#!/usr/bin/env python3
# A layer's /opt/bootstrap: what it finds in /opt, and which writes there are refused.
import ctypes, json, os, subprocess, urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def attempt(write):
    try:
        write()
        return "done"
    except OSError as exc:
        return exc.strerror


while True:
    with urllib.request.urlopen(API + "/invocation/next") as event:
        request_id = event.headers["Lambda-Runtime-Aws-Request-Id"]
    zlib = ctypes.CDLL("libpwz.so")  # on LD_LIBRARY_PATH only
    zlib.zlibVersion.restype = ctypes.c_char_p
    answer = {
        "bootstrap": os.path.abspath(__file__),
        "tool": subprocess.run(["tool"], capture_output=True, text=True).stdout.strip(),
        "zlib": zlib.zlibVersion().decode(),
        "writes": {
            "new file": attempt(lambda: open("/opt/new", "w").close()),
            "overwrite": attempt(lambda: open("/opt/bin/tool", "a").close()),
            "chmod": attempt(lambda: os.chmod("/opt/bin", 0o777)),
            "mkdir": attempt(lambda: os.mkdir("/opt/lib/more")),
            "unlink": attempt(lambda: os.unlink("/opt/lib/libpwz.so")),
        },
    }
    urllib.request.urlopen(
        urllib.request.Request(
            f"{API}/invocation/{request_id}/response", data=json.dumps(answer).encode()
        )
    )
"""


def opt_probe_layer(archive: Path) -> Path:
    """A layer laid out as Lambda's are: `bootstrap` (OPT_BOOTSTRAP), `bin/tool`, and
    `lib/libpwz.so` (a symlink to `libpwz.so.1`, as shared libraries' version chains go)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path, data, mode in (
            ("bootstrap", OPT_BOOTSTRAP.encode(), 0o100755),
            ("bin/tool", b"#!/bin/sh\necho tool from $(dirname $0)\n", 0o100755),
            ("lib/libpwz.so.1", ZLIB.read_bytes(), 0o100644),
            ("lib/libpwz.so", b"libpwz.so.1", 0o120777),
        ):
            info = zipfile.ZipInfo(path)
            info.external_attr = mode << 16
            zipped.writestr(info, data)
    return archive


def zlib_version() -> str:
    """The version the host's zlib reports, as the layer's copy will."""
    import ctypes

    zlib = ctypes.CDLL(str(ZLIB))
    zlib.zlibVersion.restype = ctypes.c_char_p
    return str(zlib.zlibVersion().decode())
