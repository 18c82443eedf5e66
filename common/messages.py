"""Messages between controller and invokers: bytes on the queue (docs/openwhisk-compatibility.md §8.2).

An in-process queue (standalone) hands the sender's message object over instead of its bytes
(`Queue.publish`): the models are frozen and nothing mutates what they hold, so sharing one is
as good as a copy, and a warm invoke saves an encode and a parse of both its activation
message and its completion (the arguments and the result among them). `from_bytes` takes
either.

Topics follow OpenWhisk: `invoker{N}` carries ActivationMessages to invoker N,
`completed{N}` carries CompletionMessages back to controller N, `health` carries every
invoker's PingMessage to all controllers once a second.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict


def invoker_topic(invoker_id: int) -> str:
    return f"invoker{invoker_id}"


def completion_topic(controller_id: int) -> str:
    return f"completed{controller_id}"


HEALTH_TOPIC = "health"

# Seconds without a ping before controllers take an invoker for gone (OW healthyTimeout):
# they stop sending it work and answer what it held with whisk internal errors.
OFFLINE_AFTER = 10.0


class Message(BaseModel):
    """A queue message: its JSON as bytes for a broker, itself for an in-process queue."""

    model_config = ConfigDict(frozen=True)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes | Message) -> Self:
        if isinstance(data, cls):  # handed over in-process
            return data
        if isinstance(data, Message):  # another kind on this topic: parsed as bytes would be
            data = data.to_bytes()
        return cls.model_validate_json(data)


class User(BaseModel):
    """The invoking identity, as much as the invoker needs (api key only if provided)."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    subject: str
    auth: str  # uuid:key, handed to the action only if it has provide-api-key


class ActivationMessage(Message):
    transid: str
    activation_id: str
    action: str  # store doc id `ns[/pkg]/name`
    revision: str  # the action's store revision, so invokers can cache by it
    version: str
    user: User
    controller: int  # whose `completed{N}` topic gets the answer
    blocking: bool
    content: dict[str, Any] | list[Any]  # fully merged arguments, init params included
    init_args: tuple[str, ...] = ()
    cause: str | None = None
    binding: str | None = None  # `ns/binding` when invoked through a package binding
    received: int  # epoch ms at the controller, for waitTime
    # Lambda's client context (JSON text), given to the invoke as X-Amz-Client-Context
    client_context: str | None = None


class CompletionMessage(Message):
    """Sent once per activation, when the result is known (before logs are collected).

    `activation` is the record (API form, logs empty). Blocking callers get it as their
    answer; for every activation the controller keeps it until the invoker's pings say the
    record is written, so a record an invoker had not written when it died is not lost.
    """

    transid: str
    activation_id: str
    invoker: int
    activation: dict[str, Any] | None = None
    system_error: bool = False
    # Epoch ms at the invoker when it took the activation, compared with pings'
    # `stored_until` (0: the sender keeps no such account).
    accepted: int = 0
    # Epoch ms at the invoker when sent (0: unknown): the completion topic's latency.
    sent: int = 0


class PingMessage(Message):
    """An invoker's heartbeat on `health` (OW PingMessage): it is alive, how much memory its
    containers may use, and whether it takes work (`enabled`; false while draining)."""

    invoker: int
    user_memory: int  # MB
    enabled: bool = True
    sent: int = 0  # epoch ms at the invoker, so a controller can skip replayed old pings
    # Epoch ms at the invoker: every activation it took before this has its record written
    # (0: says nothing).
    stored_until: int = 0


INVALIDATION_TOPIC = "cacheInvalidation"


class InvalidationMessage(Message):
    """An entity changed or went away (OW cacheInvalidation): invokers drop what they keep
    for that revision of it, warm containers included."""

    key: str  # store doc id `ns[/pkg]/name`
    revision: str  # the revision that is no longer current
