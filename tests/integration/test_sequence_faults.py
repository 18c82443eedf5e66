"""Sequences whose components never answer, in-process: a controller's Services on SQLite
and in-memory queues, with no invoker consuming `invoker0`. The component wait ends the
chain with OW's timeout message; a shutdown lets the caller go and records the sequence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pywhisk.common.config import Settings
from pywhisk.common.entities import Action, ActionLimits, Exec, Identity
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.controller.core.bootstrap import ensure_namespace
from pywhisk.controller.core.invoke import invoke
from pywhisk.controller.core.sequences import run as sequences
from pywhisk.controller.core.services import Services


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Services]:
    store = SqliteStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.open()
    services = Services(Settings(data_dir=tmp_path, drain_timeout=0.2), store, MemoryQueue())
    await services.start()
    yield services
    await services.stop()
    await store.close()


async def stored(svc: Services, *actions: Action) -> Action:
    for action in actions:
        await svc.store.entities.put(
            action.doc_id, {**action.to_json(), "entityType": "action"}, None
        )
    return actions[-1]


def silent(name: str) -> Action:
    """An action nobody will run: no invoker listens."""
    code = Exec(kind="python:3.11", code="def main(args):\n    return args\n")
    return Action(namespace="guest", name=name, exec=code, limits=ActionLimits(timeout=100))


def sequence(name: str, *components: str) -> Action:
    return Action(namespace="guest", name=name, exec=Exec(kind="sequence", components=components))


def whisk_error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR and r.getMessage().startswith("whisk internal error")
    ]


async def test_a_component_that_never_answers(
    svc: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sequences, "COMPONENT_GRACE", 0.2)  # its timeout (0.1 s) + 0.2 s
    guest = await ensure_namespace(svc.store, "guest")
    seq = await stored(svc, silent("mute"), sequence("s", "/guest/mute"))
    with caplog.at_level(logging.ERROR, logger="pywhisk"):
        outcome = await invoke(svc, guest, seq, "1-0", {}, blocking=True, transid="t")
    assert outcome.status_code == 500
    record = outcome.activation
    assert record is not None
    (component,) = record["logs"]
    assert record["response"]["status"] == "whisk internal error"
    assert record["response"]["result"] == {
        "error": f"Timeout reached when retrieving activation {component} for sequence component."
    }
    assert await svc.store.activations.get("guest", outcome.activation_id) is not None
    assert whisk_error_lines(caplog) == [
        f"whisk internal error: activation {outcome.activation_id} (transaction t) of guest/s: "
        f"{record['response']['result']['error']} (cause: component guest/mute gave no answer "
        "within its time limit and grace)"
    ]


async def test_shutdown_lets_the_caller_go_and_records_the_sequence(
    svc: Services, caplog: pytest.LogCaptureFixture
) -> None:
    guest: Identity = await ensure_namespace(svc.store, "guest")
    seq = await stored(svc, silent("mute"), sequence("s", "/guest/mute"))
    waiting = invoke(svc, guest, seq, "1-0", {}, blocking=True, transid="t")
    caller = asyncio.create_task(waiting)
    await asyncio.sleep(0.1)  # the component is published and waited for
    svc.stop_waiting()
    outcome = await asyncio.wait_for(caller, 1)
    assert outcome.activation is None and outcome.status_code == 202  # its id, at once
    assert await svc.store.activations.get("guest", outcome.activation_id) is None  # running
    with caplog.at_level(logging.ERROR, logger="pywhisk"):
        await svc.drain()  # 0.2 s of grace, then ended
    record = await svc.store.activations.get("guest", outcome.activation_id)
    assert record is not None
    assert record["response"]["result"] == {"error": "Sequence failed."}
    assert len(record["logs"]) == 1  # the component it was waiting for
    assert whisk_error_lines(caplog) == [
        f"whisk internal error: activation {outcome.activation_id} (transaction t) of guest/s: "
        "Sequence failed. (cause: the controller stopped while it ran)"
    ]
