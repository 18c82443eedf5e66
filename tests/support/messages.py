"""Messages as the controller's tracker and balancer see them: an activation of
`guest/pkg/hello` published for an invoker, and the completion an invoker answers it with
(carrying the record, as OpenWhisk's CombinedCompletionAndResultMessage does)."""

from __future__ import annotations

from pywhisk.common.messages import ActivationMessage, CompletionMessage, User


def message(aid: str, blocking: bool = True) -> ActivationMessage:
    return ActivationMessage(
        transid="t",
        activation_id=aid,
        action="guest/pkg/hello",
        revision="1",
        version="0.0.2",
        user=User(namespace="guest", subject="alice", auth="u:k"),
        controller=0,
        blocking=blocking,
        content={},
        received=0,
    )


def answered(aid: str, accepted: int) -> CompletionMessage:
    record = {
        "namespace": "guest",
        "name": "hello",
        "version": "0.0.2",
        "subject": "alice",
        "activationId": aid,
        "start": 5,
        "end": 7,
        "duration": 2,
        "response": {"status": "success", "success": True, "result": {"n": aid}},
        "logs": [],
        "annotations": [],
        "publish": False,
    }
    return CompletionMessage(
        transid="t", activation_id=aid, invoker=0, activation=record, accepted=accepted
    )
