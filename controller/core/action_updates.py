"""Create and update semantics of PUT /actions (docs/openwhisk-compatibility.md §1.3.1), as pure functions.

Create fills defaults; update merges limits per field and annotations by key, replaces
parameters wholesale and bumps the patch version, exactly as OpenWhisk does.
"""

from __future__ import annotations

import base64
import binascii
import re

from pywhisk.common.entities import Action, ActionLimits, ActionPut, Exec, ExecPut, LimitRanges
from pywhisk.common.entities import params as P
from pywhisk.common.entities.params import KeyValue, Params
from pywhisk.common.names import QualifiedName
from pywhisk.common.runtimes import BLACKBOX, SEQUENCE, Manifest
from pywhisk.controller.core.errors import ApiError, malformed
from pywhisk.controller.core.sequences.checks import MalformedComponents, parse_components

_BASE64 = re.compile(r"\A[A-Za-z0-9+/]*={0,2}\Z")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b\x08")


def looks_binary(code: str) -> bool:
    """Base64 of an archive: OW flags any valid base64 as binary, which misfires on short
    source like `pass`; requiring a zip/tgz header after decoding keeps source as source."""
    text = code.strip()
    if not text or len(text) % 4 or not _BASE64.match(text):
        return False
    try:
        head = base64.b64decode(text[:64], validate=True)
    except (binascii.Error, ValueError):
        return False
    return head.startswith(_ARCHIVE_MAGIC)


def build_exec(put: ExecPut, manifest: Manifest, namespace: str) -> Exec:
    """`namespace` (the owner's) stands in for `_` in sequence components."""
    kind = put.kind.strip().lower()
    if kind == SEQUENCE:
        try:
            components = parse_components(put.components, namespace)
        except MalformedComponents as e:
            raise malformed(str(e)) from None
        return Exec(kind=SEQUENCE, components=tuple(f"/{c.doc_id}" for c in components))
    if kind == BLACKBOX:
        if not put.image:
            raise ApiError(
                400,
                "The request content was malformed:\nimage must be defined for blackbox actions",
            )
        binary = bool(put.binary) if put.binary is not None else looks_binary(put.code or "")
        return Exec(kind=BLACKBOX, image=put.image, code=put.code, main=put.main, binary=binary)
    runtime = manifest.resolve(kind)
    if runtime is None:
        raise ApiError(
            400, f"The request content was malformed:\n{manifest.unsupported_message(put.kind)}"
        )
    if put.code is None:
        raise ApiError(400, "The request content was malformed:\ncode must be defined")
    binary = bool(put.binary) if put.binary is not None else looks_binary(put.code)
    return Exec(kind=runtime.kind, code=put.code, main=put.main, binary=binary)


def _limits(base: ActionLimits, put: ActionPut, ranges: LimitRanges) -> ActionLimits:
    given = put.limits.model_dump(exclude_none=True) if put.limits else {}
    limits = base.model_copy(update=given)
    problem = ranges.violations(limits)
    if problem:
        raise ApiError(400, problem)
    return limits


def _sequence_parameters(exec_: Exec) -> Params:
    # OW keeps a sequence's components as its only parameter; given parameters are dropped.
    return (KeyValue(key="_actions", value=list(exec_.components or ())),)


def _parameters(old: Action, put: ActionPut, exec_: Exec) -> Params:
    """OW updateWhiskAction: a sequence's parameters never leak into what replaces it."""
    if exec_.kind == SEQUENCE:
        return _sequence_parameters(exec_) if put.exec is not None else old.parameters
    if put.parameters is not None:
        return tuple(put.parameters)
    return () if old.exec.kind == SEQUENCE else old.parameters


def bump_version(version: str) -> str:
    parts = version.split(".")
    try:
        major, minor, patch = (int(p) for p in parts)
    except ValueError:
        return "0.0.1"
    return f"{major}.{minor}.{patch + 1}"


def make_action(
    fqn: QualifiedName, put: ActionPut, manifest: Manifest, ranges: LimitRanges, now: int
) -> Action:
    if put.exec is None:
        raise ApiError(400, "exec undefined")
    exec_ = build_exec(put.exec, manifest, fqn.namespace)
    annotations = P.merge((), put.annotations or ())
    if P.get(annotations, "provide-api-key") is None:
        annotations = P.put(annotations, "provide-api-key", False)
    annotations = P.put(annotations, "exec", exec_.kind)
    return Action(
        namespace=fqn.path,
        name=fqn.name,
        version=put.version or "0.0.1",
        publish=bool(put.publish),
        exec=exec_,
        parameters=(
            _sequence_parameters(exec_) if exec_.kind == SEQUENCE else tuple(put.parameters or ())
        ),
        limits=_limits(ActionLimits(), put, ranges),
        annotations=annotations,
        updated=now,
    )


def update_action(
    old: Action, put: ActionPut, manifest: Manifest, ranges: LimitRanges, now: int
) -> Action:
    exec_ = build_exec(put.exec, manifest, old.fqn.namespace) if put.exec is not None else old.exec
    annotations = P.without(old.annotations, put.delAnnotations or ())
    annotations = P.merge(annotations, put.annotations or ())
    annotations = P.put(annotations, "exec", exec_.kind)
    return old.model_copy(
        update={
            "exec": exec_,
            "parameters": _parameters(old, put, exec_),
            "limits": _limits(old.limits, put, ranges),
            "version": put.version or bump_version(old.version),
            "publish": put.publish if put.publish is not None else old.publish,
            "annotations": annotations,
            "updated": now,
        }
    )
