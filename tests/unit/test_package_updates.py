"""PUT /packages create and update semantics (docs/openwhisk-compatibility.md §1.6), without a server."""

from __future__ import annotations

from pywhisk.common.entities import Binding, Package, PackagePut
from pywhisk.common.entities import params as P
from pywhisk.common.names import QualifiedName
from pywhisk.controller.core.package_updates import make_package, update_package

FQN = QualifiedName("ns", "pkg")
BOUND = {"namespace": "other", "name": "base"}


def put(**fields: object) -> PackagePut:
    return PackagePut.model_validate(fields)


def test_create_defaults_and_the_binding_annotation() -> None:
    plain = make_package(FQN, put(binding={}, annotations=[{"key": "binding", "value": "x"}]), 5)
    assert (plain.binding, plain.version, plain.publish, plain.updated) == (None, "0.0.1", False, 5)
    assert plain.annotations == ()  # a user's `binding` annotation is never kept
    assert plain.to_json()["binding"] == {} and plain.summary()["binding"] is False

    bound = make_package(FQN, put(binding=BOUND, annotations=[{"key": "a", "value": 1}]), 5)
    assert bound.binding == Binding(namespace="other", name="base")
    assert P.to_dict(bound.annotations) == {"a": 1, "binding": BOUND}
    assert bound.summary()["binding"] == BOUND


def test_update_replaces_given_fields_and_keeps_the_rest() -> None:
    old = make_package(
        FQN,
        put(
            binding=BOUND,
            parameters=[{"key": "p", "value": 1}],
            annotations=[{"key": "a", "value": 1}],
            publish=True,
        ),
        1,
    )
    kept = update_package(old, put(), 2)
    assert (kept.parameters, kept.publish, kept.binding) == (old.parameters, True, old.binding)
    assert (kept.version, kept.updated) == ("0.0.2", 2)
    assert P.to_dict(kept.annotations) == {"a": 1, "binding": BOUND}

    changed = update_package(old, put(annotations=[], parameters=[], publish=False), 3)
    assert (changed.parameters, changed.publish) == ((), False)
    # annotations are replaced, not merged as an action's are; the binding's comes back
    assert P.to_dict(changed.annotations) == {"binding": BOUND}
    assert update_package(old, put(version="2.0.0"), 4).version == "2.0.0"


def test_stored_documents_read_back() -> None:
    stored = {**make_package(FQN, put(binding=BOUND), 1).to_json(), "entityType": "package"}
    assert Package.model_validate(stored).binding == Binding(**BOUND)
    plain = {**make_package(FQN, put(), 1).to_json(), "entityType": "package"}
    assert Package.model_validate(plain).binding is None
