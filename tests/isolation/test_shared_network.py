"""Docker containers on a network that lets containers talk to each other, as compose's
`pywhisk` network must (invokers and nginx are containers there too): the runtime's token
alone keeps an action out of another namespace's runtime, and actions still reach the API."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator

import pytest

from tests.isolation.platform import SECRET_PATTERN, Platform


@pytest.fixture(scope="module")
def shared() -> Iterator[Platform]:
    network = f"pywhisk-iso-shared-{secrets.token_hex(3)}"
    subprocess.run(["docker", "network", "create", network], check=True, capture_output=True)
    started = Platform("docker", f"docker://?network={network}")
    try:
        started.start()
        yield started
    finally:
        started.stop()
        subprocess.run(["docker", "network", "rm", network], capture_output=True)


def test_a_runtime_answers_only_its_invoker(shared: Platform) -> None:
    shared.warm_victim()
    targets = shared.runtime_endpoints()
    assert len(targets) >= 2, targets  # the victim's and the attacker's containers at least
    record = shared.attack("drive_runtimes", targets=targets, patterns=[SECRET_PATTERN])
    result = record["response"]["result"]
    assert shared.secret not in result["found"], record
    assert result["initialized"] == [], record
    replies = [run for run, _ in result["report"].values()]
    # Reached, and refused: the network lets the connection through, the token does not.
    assert any(reply.startswith("HTTP/1.1 403") for reply in replies), result["report"]
