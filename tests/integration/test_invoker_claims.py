"""A cluster invoker claims each activation before its run (real SQLite claims, process
containers, the in-process queue): what is handed to another invoker, started already
(a redelivery) or unclaimable (the store refuses) is skipped, answered by nobody here,
and its container serves the next activation."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pywhisk.common.store.claims import Claim
from pywhisk.invoker import claims as claims_module
from tests.support.invoker import (
    HELLO,
    USER,
    Harness,
    close,
    make_harness,
    root,
)
from tests.support.polling import wait_until_async

__all__ = ["root"]  # the fixture make_harness needs


@pytest.fixture
async def harness(tmp_path: Path, root: Path) -> AsyncIterator[Harness]:
    h = await make_harness(tmp_path, root, claims=True)
    yield h
    await close(h)


async def test_only_activations_this_invoker_may_start_run(harness: Harness) -> None:
    doc_id = await harness.put_action("hello", HELLO)
    handed = harness.message(doc_id, {"name": "elsewhere"})
    await harness.store.claims.assign({handed.activation_id: "invoker1"})
    ours = harness.message(doc_id, {"name": "here"})
    await harness.send(handed)
    await harness.send(ours)
    done = await harness.completion()  # the handed-over one is not answered from here
    assert done.activation_id == ours.activation_id
    assert await harness.store.claims.get(handed.activation_id) == Claim("invoker1", False)
    assert (await harness.store.claims.get(ours.activation_id)).started  # type: ignore[union-attr]

    await harness.send(ours)  # delivered again (a consumer restart, a replayed log)
    again = await harness.invoke(doc_id, {"name": "next"})
    assert again["response"]["result"] == {"greeting": "Hello next"}
    record = await harness.record(ours.activation_id)
    assert record["response"]["result"] == {"greeting": "Hello here"}
    assert await harness.store.activations.get(USER.namespace, handed.activation_id) is None
    # The skipped runs gave their containers back: none is held busy.
    assert all(slot.idle for slot in harness.invoker.pool.slots()), harness.invoker.pool.slots()


async def test_an_unclaimable_activation_is_skipped_not_run(
    harness: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(claims_module, "BACKOFF", 0.01)
    doc_id = await harness.put_action("hello", HELLO)
    other = sqlite3.connect(tmp_path / "store.db")
    other.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON claims BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    other.commit()
    refused = harness.message(doc_id, {"name": "refused"})
    await harness.send(refused)
    try:
        await wait_until_async(
            lambda: caplog.text,
            "the refused claim logged",
            timeout=10,
            interval=0.02,
            until=lambda logged: "the store could not claim it" in logged,
        )
    finally:
        other.execute("DROP TRIGGER refuse")
        other.commit()
        other.close()
    after = await harness.invoke(doc_id, {"name": "after"})
    assert after["response"]["result"] == {"greeting": "Hello after"}
    assert await harness.store.claims.get(refused.activation_id) is None
    assert await harness.store.activations.get(USER.namespace, refused.activation_id) is None
    assert not harness.invoker._unstored  # pings do not wait for a record that never comes


async def test_a_second_delivery_during_the_run_leaves_the_first_accounted(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    doc_id = await harness.put_action(
        "slow", "import time\ndef main(args):\n    time.sleep(1)\n    return {'ok': True}\n"
    )
    msg = harness.message(doc_id)
    await harness.send(msg)
    await wait_until_async(
        lambda: msg.activation_id in harness.invoker._unstored,
        "the activation taken",
        timeout=10,
        interval=0.01,
    )
    taken = harness.invoker._unstored[msg.activation_id]
    await harness.send(msg)  # delivered again while it runs
    await wait_until_async(
        lambda: caplog.text,
        "the second delivery logged",
        timeout=10,
        interval=0.01,
        until=lambda logged: "started or handed over elsewhere" in logged,
    )
    # Still unstored, as taken the first time: pings do not vouch for its record yet.
    assert harness.invoker._unstored.get(msg.activation_id) == taken
    assert harness.invoker.stored_until() <= taken
    done = await harness.completion()
    assert done.activation_id == msg.activation_id and done.accepted == taken
    assert (await harness.record(msg.activation_id))["response"]["result"] == {"ok": True}
