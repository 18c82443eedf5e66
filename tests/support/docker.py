"""Helpers for tests against the real Docker engine: the runtime images, the `docker` CLI (what
an operator would type) and what is left on the engine."""

from __future__ import annotations

import functools
import json
import subprocess
from typing import Any

from pywhisk.deploy.images import ensure_images

# Test invokers use ids of their own: `start()` removes leftovers of its id, and a real
# invoker 0 (a standalone server of someone else's test run) must not lose its containers.
TEST_INVOKER_ID = 77


@functools.cache
def runtime_images() -> dict[str, str]:
    """Build (or find cached) every runtime image, once per test session."""
    return ensure_images(progress=lambda line: None)


def docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def inspect(container_id: str) -> dict[str, Any]:
    return json.loads(docker("inspect", container_id))[0]  # type: ignore[no-any-return]


def containers(label: str) -> list[str]:
    """Ids of every container (running or not) carrying `label` (`key` or `key=value`)."""
    return docker("ps", "-aq", "--no-trunc", "--filter", f"label={label}").split()
