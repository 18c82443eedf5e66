"""What a test needs before it can run, and what happens when it is missing.

Two kinds, treated differently:
- What the test command installs (deploy/test.sh: every Python extra, nginx, Node.js and
  npm, PHP, bubblewrap, Chromium, Docker...) is never a reason to skip: `program` fails the
  test, naming the package, and an extra's module is simply imported.
- What it cannot install is the machine's: root, a cgroup hierarchy the sandbox can use, a
  base image built on this host. `require` skips the test on a developer's machine, and
  fails it under CI (`CI=true`, as CI services set it), where a skip would let a whole suite
  vanish from a green run.
"""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip unless `condition` holds on this machine; under CI, fail instead. Works in a test,
    a fixture, or at a module's top (then the whole module)."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this machine must provide it)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def program(name: str, package: str) -> str:
    """The path of the command `name`, which deploy/test.sh installs (as the Debian package
    `package`); the test fails, on any machine, when it is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed: deploy/test.sh installs it (apt-get install {package})",
            pytrace=False,
        )
    return found
