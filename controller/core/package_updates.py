"""Create and update semantics of PUT /packages (docs/openwhisk-compatibility.md §1.6), as pure functions.

Unlike actions, an update replaces each field it gives (annotations included) and keeps the
rest; the `binding` annotation is never the user's: the controller sets it on bindings.
"""

from __future__ import annotations

from pywhisk.common.entities import Binding, KeyValue, Package, PackagePut
from pywhisk.common.entities import params as P
from pywhisk.common.entities.package import BINDING_ANNOTATION
from pywhisk.common.names import QualifiedName
from pywhisk.controller.core.action_updates import bump_version

RESERVED_NAMES = frozenset({"default"})  # `default` stands for "no package" in web URLs


def _annotations(given: tuple[KeyValue, ...], binding: Binding | None) -> P.Params:
    annotations = P.without(given, (BINDING_ANNOTATION,))
    if binding is not None:
        annotations = P.put(annotations, BINDING_ANNOTATION, binding.to_json())
    return annotations


def make_package(fqn: QualifiedName, put: PackagePut, now: int) -> Package:
    return Package(
        namespace=fqn.namespace,
        name=fqn.name,
        version=put.version or "0.0.1",
        publish=bool(put.publish),
        binding=put.binding,
        parameters=tuple(put.parameters or ()),
        annotations=_annotations(tuple(put.annotations or ()), put.binding),
        updated=now,
    )


def update_package(old: Package, put: PackagePut, now: int) -> Package:
    binding = put.binding or old.binding
    annotations = tuple(put.annotations) if put.annotations is not None else old.annotations
    return old.model_copy(
        update={
            "binding": binding,
            "parameters": tuple(put.parameters) if put.parameters is not None else old.parameters,
            "version": put.version or bump_version(old.version),
            "publish": put.publish if put.publish is not None else old.publish,
            "annotations": _annotations(annotations, binding),
            "updated": now,
        }
    )
