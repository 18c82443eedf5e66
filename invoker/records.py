"""Request bodies for the container and the activation record (docs/openwhisk-compatibility.md §2.6, §4.2, §4.3).

Everything that depends only on the action revision is computed once in `PreparedAction`
(cached by the invoker), so the per-activation work is a dict or two and one JSON dump.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pywhisk.common import jsonio
from pywhisk.common.entities.action import Action
from pywhisk.common.entities.activation import Activation, ActivationResponse, Status
from pywhisk.common.entities.params import KeyValue
from pywhisk.common.fallback_records import fallback
from pywhisk.common.messages import ActivationMessage
from pywhisk.common.runtimes import BLACKBOX, Manifest, Runtime, blackbox, default_manifest
from pywhisk.invoker import outcomes
from pywhisk.invoker.containers.base import MIB
from pywhisk.invoker.containers.layer_tree import LayerTree


@dataclass(frozen=True, slots=True)
class PreparedAction:
    """An action at one revision, with what every activation of it needs precomputed."""

    action: Action
    doc_id: str
    revision: str
    runtime: Runtime | None  # None: nothing runs this kind (unknown kind, blackbox sans image)
    action_name: str  # `/ns/[pkg/]name`, as /run and __OW_ACTION_NAME spell it
    timeout: int  # ms
    memory: int  # MB
    log_limit: int  # bytes
    annotations: tuple[KeyValue, ...]  # limits, path, kind: the same for every activation
    init_value: dict[str, Any]  # /init `value` without `env`
    layers: LayerTree | None = None  # put into each new container before its /init
    layers_error: str | None = None  # why the action's layers cannot be had (its inits fail)

    @classmethod
    def of(
        cls,
        action: Action,
        revision: str,
        manifest: Manifest | None = None,
        layers: LayerTree | None = None,
        layers_error: str | None = None,
    ) -> PreparedAction:
        """`layers`, `layers_error`: see invoker/layers.py."""
        manifest = manifest or default_manifest()
        doc_id = action.doc_id
        exec_ = action.exec
        init_value: dict[str, Any] = {
            "name": action.name,
            "main": exec_.main or "main",
            "binary": exec_.binary,
        }
        if exec_.code is not None:
            init_value["code"] = exec_.code
        runtime = manifest.resolve(exec_.kind)
        if exec_.kind == BLACKBOX and exec_.image:
            runtime = blackbox(exec_.image)
        return cls(
            action=action,
            doc_id=doc_id,
            revision=revision,
            runtime=runtime,
            action_name=f"/{doc_id}",
            timeout=action.limits.timeout,
            memory=action.limits.memory,
            log_limit=action.limits.logs * MIB,
            annotations=(
                KeyValue(key="limits", value=action.limits.to_json()),
                KeyValue(key="path", value=doc_id),
                KeyValue(key="kind", value=exec_.kind),
            ),
            init_value=init_value,
            layers=layers,
            layers_error=layers_error,
        )

    def unsupported(self) -> ActivationResponse:
        kind = self.action.exec.kind
        return outcomes.developer_error(
            f"The '{kind}' runtime is not supported by this invoker's containers."
        )


def env_string(value: Any) -> str:
    """/init env values are all strings (§4.2): null → "", scalars as JSON text."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return jsonio.dumps_str(value)


def _is_provided(prepared: PreparedAction) -> bool:
    return prepared.runtime is not None and prepared.runtime.language == "provided"


def _metadata(msg: ActivationMessage, prepared: PreparedAction, deadline: int) -> dict[str, str]:
    return {
        "namespace": msg.user.namespace,
        "action_name": prepared.action_name,
        "action_version": prepared.action.version,
        "activation_id": msg.activation_id,
        "transaction_id": msg.transid,
        "deadline": str(deadline),
    }


def init_body(
    msg: ActivationMessage, prepared: PreparedAction, deadline: int, opt: str | None = None
) -> bytes:
    """`opt`: where the container holds the action's layers, if it has any."""
    env: dict[str, str] = {}
    content = msg.content
    if isinstance(content, dict):
        for key in msg.init_args:
            if key in content:
                env[key] = env_string(content[key])
    if prepared.action.provides_api_key:
        env["__OW_API_KEY"] = msg.user.auth
    for key, value in _metadata(msg, prepared, deadline).items():
        env[f"__OW_{key.upper()}"] = value
    if _is_provided(prepared):
        # Lambda tells a custom runtime its memory size; nothing else in /init carries it.
        env.setdefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", str(prepared.memory))
    init: dict[str, Any] = {**prepared.init_value, "env": env}
    if opt is not None:
        init["opt"] = opt
    return jsonio.dumps({"value": init})


def run_body(msg: ActivationMessage, prepared: PreparedAction, deadline: int) -> bytes:
    value = msg.content
    if msg.init_args and isinstance(value, dict):
        drop = set(msg.init_args)
        value = {k: v for k, v in value.items() if k not in drop}
    body: dict[str, Any] = {"value": value, **_metadata(msg, prepared, deadline)}
    if prepared.action.provides_api_key:
        body["api_key"] = msg.user.auth
    if msg.client_context is not None and _is_provided(prepared):
        # For the Runtime API's Lambda-Runtime-Client-Context only: other runtimes export
        # every /run key as __OW_<KEY>, which OpenWhisk actions do not expect.
        body["client_context"] = msg.client_context
    return jsonio.dumps(body)


def activation(
    msg: ActivationMessage,
    prepared: PreparedAction,
    response: ActivationResponse,
    *,
    start: int,
    end: int,
    init_time: int | None,
    timed_out: bool,
    logs: tuple[str, ...] = (),
) -> Activation:
    """The record of an activation that reached a container (OW constructWhiskActivation).

    `start` is the init start on a cold start, else the run start; waitTime runs from the
    controller's receipt to it.
    """
    annotations = [*prepared.annotations, KeyValue(key="timeout", value=timed_out)]
    if msg.cause:
        annotations.append(KeyValue(key="causedBy", value="sequence"))
    if init_time is not None:
        annotations.append(KeyValue(key="initTime", value=init_time))
    annotations.append(KeyValue(key="waitTime", value=max(0, start - msg.received)))
    if msg.binding:
        annotations.append(KeyValue(key="binding", value=msg.binding))
    return Activation(
        namespace=msg.user.namespace,
        name=prepared.action.name,
        version=prepared.action.version,
        subject=msg.user.subject,
        activation_id=msg.activation_id,
        start=start,
        end=end,
        duration=end - start,
        cause=msg.cause,
        response=response,
        logs=logs,
        annotations=tuple(annotations),
        publish=False,
    )


def not_found(msg: ActivationMessage, now: int) -> Activation:
    return fallback(
        msg, ActivationResponse.error(Status.APPLICATION_ERROR, outcomes.NOT_FOUND), now
    )
