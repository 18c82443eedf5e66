"""A piece of the controller's core built from only the capabilities it takes
(`controller/core/capabilities.py`), over a real SQLite store, without `Services`, an app or
an invoker: firing a trigger whose rule runs a sequence that names a deleted action.

What runs is the real code of each part: the fire throttled and read from the store, the
rule's sequence resolved through the entity cache and invoked (throttled, journaled, run
detached), the missing component found and the sequence's record written, then the
trigger's record with one line per rule."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pywhisk.common.config import Settings
from pywhisk.common.entities import Action, EntityRef, Exec, Identity, RuleLink, Trigger
from pywhisk.common.metrics import Metrics
from pywhisk.common.names import QualifiedName
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.journal import ActivationJournal
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.controller.core.balancer import StaticBalancer
from pywhisk.controller.core.cache import EntityCache
from pywhisk.controller.core.capabilities import Firing
from pywhisk.controller.core.detached import Detached
from pywhisk.controller.core.placement import Placement
from pywhisk.controller.core.sequences.checks import MISSING
from pywhisk.controller.core.throttles import Throttles
from pywhisk.controller.core.tracker import ActivationTracker
from pywhisk.controller.core.triggers.firing import fire_trigger, inactive_message
from tests.support.polling import wait_until_async

CALLER = Identity(namespace="ns", subject="someone", uuid="u" * 36, key="k" * 64)


@dataclass
class Alone:
    """Exactly what `Firing` asks for: no identities, no feeds, no balancer of its own."""

    settings: Settings
    metrics: Metrics
    store: SqliteStore
    entities: EntityCache
    throttles: Throttles
    tracker: ActivationTracker
    placement: Placement
    journal: ActivationJournal | None
    detached: Detached[dict[str, Any]] = field(default_factory=Detached)


@pytest.fixture
async def alone(tmp_path: Path) -> AsyncIterator[Alone]:
    settings = Settings(data_dir=tmp_path)
    store = SqliteStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.open()
    queue = MemoryQueue()
    tracker = ActivationTracker(queue, settings.controller_id, store=store)
    metrics = Metrics()
    try:
        yield Alone(
            settings=settings,
            metrics=metrics,
            store=store,
            entities=EntityCache(store, metrics),
            throttles=Throttles(settings, metrics),
            tracker=tracker,
            placement=Placement(StaticBalancer(queue), tracker),
            journal=store.journal,
        )
    finally:
        await store.close()


async def test_a_trigger_fires_its_rules_with_only_what_firing_takes(alone: Alone) -> None:
    sequence = Action(
        namespace="ns",
        name="chain",
        exec=Exec(kind="sequence", components=("/ns/deleted",)),
    )
    await alone.store.entities.put(
        sequence.doc_id, {**sequence.to_json(), "entityType": "action"}, None
    )
    chain = EntityRef(path="ns", name="chain")
    trigger = Trigger(
        namespace="ns",
        name="t",
        rules={
            "ns/runs": RuleLink(action=chain, status="active"),
            "ns/off": RuleLink(action=chain, status="inactive"),
        },
    )
    await alone.store.entities.put(trigger.doc_id, trigger.to_doc(), None)
    services: Firing = alone  # checked by the type checker: `Alone` offers what firing takes

    fired = await fire_trigger(services, CALLER, QualifiedName("ns", "t"), {"x": 1}, transid="tx")

    assert fired is not None
    record = await wait_until_async(
        lambda: alone.store.activations.get("ns", fired), "the trigger's record"
    )
    assert record is not None
    lines = {line["rule"]: line for line in map(json.loads, record["logs"])}
    assert lines["ns/off"]["error"] == inactive_message("ns/off", "ns/chain")
    ran = lines["ns/runs"]
    assert (ran["success"], ran["action"]) == (True, "ns/chain")
    assert record["response"]["result"] == {"x": 1}

    chained = await wait_until_async(
        lambda: alone.store.activations.get("ns", ran["activationId"]), "the sequence's record"
    )
    assert chained is not None
    assert chained["name"] == "chain" and chained["subject"] == "someone"
    assert chained["response"]["result"] == {"error": MISSING}
    # Promised by the rule's 202 and journaled until its record was written: nothing pending.
    assert alone.journal is not None and await alone.journal.pending() == []
    await wait_until_async(lambda: len(alone.detached) == 0, "the detached work to end")
