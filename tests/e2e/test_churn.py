"""Churn: 60 small actions in Python, PHP and Node.js, invoked blocking by 4 clients with a
skewed choice, against a real standalone server whose pool holds 8 of them at a time (so
containers are started, evicted, paused and resumed all along). No invoke may end as a whisk
internal error, and the server must log none. `python -m bench.churn` runs it longer.

Before process containers read their pipes themselves (invoker/containers/pipes.py), about
one invoke in 2,000-3,000 ended as "Failed to provision resources to run the action.".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import churn
from tests.support.server import StandaloneServer

SECONDS = 60


@pytest.fixture
def churned(tmp_path: Path) -> Iterator[StandaloneServer]:
    # Paused after 1 s idle instead of 10: resumes are part of the churn too.
    srv = StandaloneServer(tmp_path / "churn", env={"PYWHISK_PAUSE_GRACE": "1"})
    srv.start()
    yield srv
    srv.stop()


def test_no_whisk_errors_under_churn(churned: StandaloneServer) -> None:
    ident = churned.create_namespace(
        "churn", invocationsPerMinute=1_000_000, concurrentInvocations=100_000
    )
    uuid, _, key = ident.auth.partition(":")

    def connect() -> httpx.Client:
        return httpx.Client(base_url=f"{churned.url}/api/v1", auth=(uuid, key), timeout=120)

    with connect() as api:
        names = churn.create_actions(api, 60, memory=256)
    result = churn.run(connect, names, clients=4, seconds=SECONDS)
    assert result.failures == []
    assert result.statuses[200] == result.invokes > 0
    assert {kind for kind, n in result.kinds.items() if n} == set(churn.SOURCES)
    assert "whisk internal error" not in churned.log()
