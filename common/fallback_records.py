"""Records for activations that never ran to an answer in a container (OW
generateFallbackActivation): the action was gone, or the invoker holding the activation
stopped. Built from the ActivationMessage alone, so invokers and controllers both write
them."""

from __future__ import annotations

from pywhisk.common.entities.activation import Activation, ActivationResponse
from pywhisk.common.entities.params import KeyValue
from pywhisk.common.messages import ActivationMessage

UNKNOWN_KIND = "unknown"


def fallback(msg: ActivationMessage, response: ActivationResponse, now: int) -> Activation:
    """Kind `unknown`, zero duration, at `now` (epoch ms)."""
    annotations = [
        KeyValue(key="path", value=msg.action),
        KeyValue(key="kind", value=UNKNOWN_KIND),
    ]
    if msg.cause:
        annotations.append(KeyValue(key="causedBy", value="sequence"))
    return Activation(
        namespace=msg.user.namespace,
        name=msg.action.rpartition("/")[2],
        version=msg.version,
        subject=msg.user.subject,
        activation_id=msg.activation_id,
        start=now,
        end=now,
        duration=0,
        cause=msg.cause,
        response=response,
        annotations=tuple(annotations),
    )
