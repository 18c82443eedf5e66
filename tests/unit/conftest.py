"""tests/unit holds pure code: each test here fails if it binds or connects a socket or starts
a process (tests/support/purity.py); such a test belongs in tests/integration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import purity

purity.install()


@pytest.fixture(autouse=True)
def pure(request: pytest.FixtureRequest) -> Iterator[None]:
    with purity.watching() as done:
        yield
    if done:
        pytest.fail(
            f"{request.node.nodeid} is a unit test but "
            + "; ".join(done)
            + ": it belongs in tests/integration",
            pytrace=False,
        )
