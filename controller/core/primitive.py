"""Running one primitive action: publish its ActivationMessage to an invoker and, for
blocking calls, wait for the completion (docs/openwhisk-compatibility.md §1.3.3; OW `PrimitiveActions`).

No throttles here: `controller.invoke` checks them once per request, and a sequence's
components run through this without being counted again (OW entitles a sequence once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from pywhisk.common.entities import Action, ActivationResponse, Identity, Status
from pywhisk.common.entities import params as P
from pywhisk.common.ids import new_activation_id
from pywhisk.common.logcontext import activation_context
from pywhisk.common.messages import ActivationMessage, User
from pywhisk.common.queue.base import QueueError
from pywhisk.common.store.base import StoreError
from pywhisk.controller.core.capabilities import Journaling, Promising, Publishing
from pywhisk.controller.core.errors import UNAVAILABLE, ApiError
from pywhisk.controller.core.sharding import NoInvokers

log = logging.getLogger("pywhisk.controller")

NOT_ALLOWED = "Request defines parameters that are not allowed (e.g., reserved properties)."


@dataclass(frozen=True, slots=True)
class Outcome:
    activation_id: str
    activation: dict[str, Any] | None  # None: accepted, or still running after the wait

    @property
    def status_code(self) -> int:
        """HTTP status for a blocking answer: 200 success, 502 app/dev error, 500 whisk error."""
        if self.activation is None:
            return 202
        status = ActivationResponse.from_json(self.activation["response"]).status
        return {Status.SUCCESS: 200, Status.WHISK_ERROR: 500}.get(status, 502)


def refuse_final_overrides(action: Action, payload: Any) -> None:
    """`final` actions refuse a payload that redefines a parameter they define (400)."""
    if payload and isinstance(payload, dict) and P.truthy(action.annotation("final", False)):
        defaults = P.to_dict(action.parameters)
        if any(defaults.get(key) is not None for key in payload):
            raise ApiError(400, NOT_ALLOWED)


def arguments(action: Action, payload: Any) -> dict[str, Any] | list[Any]:
    """Action parameters < payload; an array payload is passed as it is."""
    if isinstance(payload, list):
        return payload
    defaults = P.to_dict(action.parameters)
    if not payload:
        return defaults
    return {**defaults, **payload}


def merge_arguments(action: Action, payload: Any) -> dict[str, Any] | list[Any]:
    refuse_final_overrides(action, payload)
    return arguments(action, payload)


async def invoke_primitive(
    svc: Publishing,
    caller: Identity,
    action: Action,
    revision: str,
    content: dict[str, Any] | list[Any],
    *,
    blocking: bool,
    transid: str,
    wait: float | None = None,
    cause: str | None = None,
    binding: str | None = None,
    received: int | None = None,
    internal: bool = False,
    activation_id: str | None = None,
    client_context: str | None = None,
) -> Outcome:
    """Publish `action` with `content` (arguments already merged). `internal`: the controller
    itself waits (a sequence's component), so a shutdown's `stop_waiting` leaves it be.
    `activation_id`: chosen by the caller, so it knows the id before the answer.
    `client_context`: Lambda's, for a `provided` action's Runtime API (JSON text)."""
    activation_id = activation_id or new_activation_id()
    with activation_context(activation_id, transid):
        message = ActivationMessage(
            transid=transid,
            activation_id=activation_id,
            action=action.doc_id,
            revision=revision,
            version=action.version,
            user=User(namespace=caller.namespace, subject=caller.subject, auth=caller.auth),
            controller=svc.settings.controller_id,
            blocking=blocking,
            content=content,
            init_args=tuple(p.key for p in action.parameters if p.init),
            cause=cause,
            binding=binding,
            received=received if received is not None else int(time.time() * 1000),
            client_context=client_context,
        )
        if not blocking and svc.journal is not None:
            # The 202 is a promise: kept on disk before it is made (`common/store/journal.py`).
            try:
                await svc.journal.accept(message, action.limits.timeout)
            except StoreError:
                log.exception("could not journal activation %s", activation_id)
                raise ApiError(503, UNAVAILABLE) from None
        try:
            future = await svc.placement.place(
                message,
                blocking=blocking,
                timeout_ms=action.limits.timeout,
                memory=action.limits.memory,
                blackbox=action.exec.kind == "blackbox",
                internal=internal,
            )
        except NoInvokers:
            raise ApiError(503, UNAVAILABLE) from None
        except QueueError as e:
            log.warning("could not post activation %s: %s", activation_id, e)
            raise ApiError(503, UNAVAILABLE) from None
        # Anything else is a bug: the route's error handling logs it and answers 500.
        if future is None:
            return Outcome(activation_id, None)
        timeout = svc.settings.blocking_wait if wait is None else wait
        try:
            activation = await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            activation = None
        if activation is None and svc.journal is not None and not internal:
            await _journal_late(svc, message, action.limits.timeout)
        return Outcome(activation_id, activation)


async def _journal_late(svc: Journaling, message: ActivationMessage, time_limit: int) -> None:
    """A blocking invoke answered 202 (still running after the wait, or the controller
    stops): promised now, and as started, since the invoker may well be running it."""
    assert svc.journal is not None
    try:
        await svc.journal.accept(message, time_limit, started=True)
    except StoreError:
        log.exception("could not journal activation %s", message.activation_id)


async def journal_running(
    svc: Promising, caller: Identity, action: Action, activation_id: str, received: int
) -> None:
    """An activation the controller runs itself (a sequence) is promised by a 202: journaled
    as started, so a crash leaves it recorded as lost, never run twice. StoreError if the
    journal cannot keep it."""
    if svc.journal is None:
        return
    message = ActivationMessage(
        transid="",
        activation_id=activation_id,
        action=action.doc_id,
        revision="",
        version=action.version,
        user=User(namespace=caller.namespace, subject=caller.subject, auth=""),
        controller=svc.settings.controller_id,
        blocking=False,
        content={},
        received=received,
    )
    await svc.journal.accept(message, action.limits.timeout, started=True)
