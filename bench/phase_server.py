"""A standalone server that notes when each blocking invoke passes each of its steps, for
`python -m bench first-invoke` (bench/first_invoke.py).

    python -P bench/phase_server.py standalone --port P --data-dir D   (PYWHISK_BENCH_PHASES=file)

It is the server's own code: before `pywhisk standalone` starts, wrappers are put around
the functions named in STEPS, each calling the original and taking `perf_counter_ns()`
before or after it. Once an invoke's answer is sent, one JSON line goes to the file:
`{"id": activation id, "marks": {step: ns}}`. Nothing else changes; the wrappers' own cost
(a microsecond or two each, a dozen per invoke) is in every figure alike. Run by path with
`-P` (its folder, whose platform.py would shadow the standard library's, is not put on the
path), from the data directory, where only the installed `pywhisk` is importable.

Steps, in the order an invoke passes them (c: controller, i: invoker, same process):

    c.lane      the invoke route's request is taken (invoke_lane.py)
    c.auth      the caller is authenticated
    c.resolved  the action is resolved (its entity read: the controller's cache or the store)
    c.message   the activation id is made (arguments merged, throttles checked)
    c.placed    the message is on the invoker's queue (tracker registered)
    i.handle    the invoker takes the message
    i.prepared  the action is prepared (the invoker's action cache, or the store)
    i.acquired  a container is in hand (warm, or a stem cell adopted)
    i.init      /init sent (layers, body built)          } cold starts only
    i.inited    /init answered                           }
    i.run       /run sent
    i.ran       /run answered
    i.complete  the record is made, the completion about to be journaled and sent
    i.published the completion is on the controller's queue
    c.answered  the blocking caller's future is answered
    c.sent      the HTTP answer is written
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

Marks = dict[str, int]


def _now() -> int:
    return time.perf_counter_ns()


class _Request:
    """One invoke request's marks, and the activation id it got."""

    def __init__(self) -> None:
        self.activation_id: str | None = None
        self.marks: Marks = {"c.lane": _now()}


_REQUEST: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("phases", default=None)
_INVOKER: dict[str, Marks] = {}  # activation id -> the invoker's marks, until the answer
_out: Any = None


def _invoker_mark(step: str) -> None:
    from pywhisk.common.logcontext import ACTIVATION

    activation_id = ACTIVATION.get()
    if activation_id:
        _INVOKER.setdefault(activation_id, {})[step] = _now()


def _request_mark(step: str) -> None:
    request = _REQUEST.get()
    if request is not None:
        request.marks[step] = _now()


def _wrap_async(
    owner: Any, name: str, before: str | None, after: str | None, mark: Callable[[str], None]
) -> None:
    original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    static = isinstance(original, staticmethod)
    function = original.__func__ if static else original

    @functools.wraps(function)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            mark(before)
        result = await function(*args, **kwargs)
        if after is not None:
            mark(after)
        return result

    setattr(owner, name, staticmethod(wrapped) if static else wrapped)


def _write(request: _Request) -> None:
    if request.activation_id is None:  # refused before an activation was made
        return
    marks = {**request.marks, **_INVOKER.pop(request.activation_id, {})}
    _out.write(json.dumps({"id": request.activation_id, "marks": marks}) + "\n")
    _out.flush()


def install(path: str) -> None:
    global _out
    _out = open(path, "a")

    from pywhisk.common import ids
    from pywhisk.controller.api import invoke_lane
    from pywhisk.controller.api.routes import invoke as route
    from pywhisk.controller.core import invoke as core_invoke
    from pywhisk.controller.core import placement, primitive
    from pywhisk.invoker import actions, client, pool, service

    lane = invoke_lane.InvokeLane.__dict__["_invoke"].__func__

    async def traced_lane(scope: Any, receive: Any, send: Any) -> None:
        request = _Request()
        token = _REQUEST.set(request)
        try:
            await lane(scope, receive, send)
        finally:
            _REQUEST.reset(token)
        request.marks["c.sent"] = _now()
        _write(request)

    invoke_lane.InvokeLane._invoke = staticmethod(traced_lane)  # type: ignore[method-assign]

    def traced_id() -> str:
        activation_id = ids.new_activation_id()
        request = _REQUEST.get()
        if request is not None:
            request.activation_id = activation_id
            request.marks["c.message"] = _now()
        return activation_id

    primitive.new_activation_id = traced_id  # type: ignore[assignment]
    _wrap_async(route, "identity", None, "c.auth", _request_mark)
    _wrap_async(route, "resolve_action", None, "c.resolved", _request_mark)
    _wrap_async(placement.Placement, "place", None, "c.placed", _request_mark)
    _wrap_async(core_invoke, "invoke_primitive", None, "c.answered", _request_mark)

    handle = service.Invoker.handle

    async def traced_handle(self: Any, msg: Any) -> None:
        _INVOKER.setdefault(msg.activation_id, {})["i.handle"] = _now()
        await handle(self, msg)

    service.Invoker.handle = traced_handle  # type: ignore[method-assign]
    _wrap_async(actions.ActionCache, "get", None, "i.prepared", _invoker_mark)
    _wrap_async(pool.ContainerPool, "acquire", None, "i.acquired", _invoker_mark)
    _wrap_async(client.ContainerClient, "init", "i.init", "i.inited", _invoker_mark)
    _wrap_async(client.ContainerClient, "run", "i.run", "i.ran", _invoker_mark)
    _wrap_async(service.Invoker, "_complete", "i.complete", "i.published", _invoker_mark)


def main() -> None:
    path = os.environ.get("PYWHISK_BENCH_PHASES")
    if path:
        install(path)
    from pywhisk.deploy.commands import main as commands

    sys.argv[0] = "pywhisk"
    commands()


if __name__ == "__main__":
    main()
