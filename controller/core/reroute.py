"""What a gone invoker had not started runs elsewhere; what it had started ends as lost.

When an invoker falls silent for 10 s (`controller.health`), the activations this
controller sent it and heard nothing back about are in one of three places: running in
its containers, fetched but not started yet, or still queued on its Kafka topic. Only the
first are lost with it. The controller cannot tell them apart from what it knows itself
(it never sees the invoker's offsets, and a commit lags by up to a second), so the invoker
says so in the store: it claims each activation before running it (`common.store.claims`,
batched: `invoker.claims`). Here, for the held activations of a gone invoker:

1. each is placed again as a new invocation would be (`Balancer.move`: the action's home
   invoker, stepping on past full or unhealthy ones), holding its memory there;
2. one claim call hands each unstarted one to its new invoker (or to nobody, when no
   invoker can take it), atomically per activation: the ones found started were running
   where they were;
3. the handed-over ones are sent to their new invokers' topics, where they run once, and
   their blocking callers get the real result; the started ones, and those no invoker
   could take, are answered by the tracker with a whisk internal error record.

Nothing runs twice: the gone invoker may only be paused (SIGSTOP, a GC pause, a cut
network) and resume consuming its topic, or be restarted and have its uncommitted
messages delivered again; either way it finds the claim handed over (or started) and skips
the activation. A claim it wrote just before the hand-over wins instead: then the
activation is recorded as lost although it runs to the end there (its own record loses
to the controller's in CouchDB, which keeps the first writer's; SQLite keeps the last).

Measured with 200 invocations (half blocking) and one of two invokers SIGKILLed after 50
answers (tests/integration/test_cluster_reroute.py): 4 to 8 activations lost (the victim
has 8 containers), every other one run exactly once; before claims, 104 were lost, and a
replayed topic ran some twice.

Caveats: an invoker paused mid-run resumes that run (it was started, so it is not run
again elsewhere, but its caller was told it was lost); a controller that itself stalls
past the health window takes every invoker for gone and answers all running work as lost
(as before; nothing runs twice). The decision needs the store: if the claim call fails,
every held activation is answered as lost, as before, and is not fenced. And claims cost
the cluster's hot path a store request before each run (batched when runs start
together): `python -m bench cluster`, four runs each way alternating on a loaded 2-core
machine (load 9 to 19), median p50 of a blocking invoke 25 -> 31 ms, CPU per invoke over
all processes 14.6 -> 22.5 ms (invokers 4.0 -> 7.4, pouchdb-server 2.1 -> 4.7). Most of the
invokers' share is the HTTP client: one CouchDB request costs about 2.5 ms of CPU in httpx
here, a claim as much as an entity get. `python -m bench.store`: one claim p50 4.7 ms on
pouchdb-server, 0.37 ms each in bursts of 32, 0.21 ms on SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from pywhisk.common.logcontext import activation_context
from pywhisk.common.messages import ActivationMessage, invoker_topic
from pywhisk.common.queue.base import Queue
from pywhisk.common.store.base import Store, StoreError
from pywhisk.common.store.claims import FENCE, claim_owner
from pywhisk.controller.core.balancer import Balancer, NoInvokers

log = logging.getLogger(__name__)


@dataclass
class Takeover:
    """What became of a gone invoker's held activations."""

    moved: dict[str, int] = field(default_factory=dict)  # id -> the invoker it went to
    started: list[str] = field(default_factory=list)  # running where it was: lost
    stranded: list[str] = field(default_factory=list)  # no invoker took it: never runs


def owners(targets: Mapping[str, int | None]) -> dict[str, str]:
    """Whom each activation's claim goes to: its new invoker, or nobody."""
    return {aid: FENCE if t is None else claim_owner(t) for aid, t in targets.items()}


def takeover(targets: Mapping[str, int | None], handed: set[str]) -> Takeover:
    """Split by the claim call's answer: handed over to an invoker (send it there), handed
    to nobody (no invoker could take it), or not handed at all (it had started)."""
    done = Takeover()
    for aid, target in targets.items():
        if aid not in handed:
            done.started.append(aid)
        elif target is None:
            done.stranded.append(aid)
        else:
            done.moved[aid] = target
    return done


class Rerouter:
    def __init__(self, balancer: Balancer, store: Store, queue: Queue) -> None:
        self.balancer = balancer
        self.store = store  # its claims exist once it is open
        self.queue = queue

    async def take_over(self, messages: list[ActivationMessage]) -> Takeover:
        """Send what of `messages` (a gone invoker's) had not started to other invokers."""
        targets: dict[str, int | None] = {}
        by_id = {m.activation_id: m for m in messages}
        for message in messages:
            try:
                targets[message.activation_id] = self.balancer.move(message)
            except NoInvokers:
                targets[message.activation_id] = None
        try:
            handed = await self.store.claims.assign(owners(targets))
        except StoreError as exc:
            log.error("handing over %d activations failed: %s", len(targets), exc)
            handed = set()
        done = takeover(targets, handed)
        for aid, invoker in list(done.moved.items()):
            with activation_context(aid, by_id[aid].transid):
                try:
                    await self.queue.publish(invoker_topic(invoker), by_id[aid])
                except Exception:
                    log.exception("re-sending activation %s to invoker%d failed", aid, invoker)
                    del done.moved[aid]
                    done.stranded.append(aid)
                else:
                    log.debug("handed over to invoker%d", invoker)
        return done

    async def fence(self, activation_ids: list[str]) -> None:
        """The controller answered these itself: no invoker may start them from now on."""
        try:
            await self.store.claims.assign(dict.fromkeys(activation_ids, FENCE))
        except StoreError as exc:
            log.warning("fencing %d answered activations failed: %s", len(activation_ids), exc)
