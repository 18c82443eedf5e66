"""Sequence rules at PUT (docs/openwhisk-compatibility.md §1.3.1 item 5; OW SequenceApiTests): component names,
emptiness, the limit over atomic actions after inlining, missing components and cycles."""

from __future__ import annotations

import pytest

from pywhisk.common.entities import ActionPut, LimitRanges
from pywhisk.common.entities import params as P
from pywhisk.common.names import QualifiedName
from pywhisk.common.runtimes import default_manifest
from pywhisk.controller.core.action_updates import make_action, update_action
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.sequences.checks import (
    CYCLE,
    EMPTY,
    MISSING,
    TOO_LONG,
    ComponentMissing,
    InvalidSequence,
    MalformedComponents,
    count_atomic,
    parse_component,
    parse_components,
)

LIMIT = 50


def q(text: str) -> QualifiedName:
    return parse_component(text, "guest")


class Store:
    """A namespace's actions: name → None (atomic) or the components of a sequence."""

    def __init__(self, actions: dict[str, list[str] | None]) -> None:
        self.actions = actions
        self.lookups = 0

    async def __call__(self, fqn: QualifiedName) -> tuple[str, tuple[QualifiedName, ...] | None]:
        self.lookups += 1
        if fqn.doc_id not in self.actions:
            raise ComponentMissing
        inner = self.actions[fqn.doc_id]
        return fqn.doc_id, None if inner is None else tuple(q(c) for c in inner)


async def check(store: Store, sequence: str, components: list[str], limit: int = LIMIT) -> int:
    return await count_atomic(q(sequence), [q(c) for c in components], store, limit)


async def refused(store: Store, sequence: str, components: list[str], limit: int = LIMIT) -> str:
    with pytest.raises(InvalidSequence) as caught:
        await check(store, sequence, components, limit)
    return caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/guest/a", QualifiedName("guest", "a")),
        ("/_/a", QualifiedName("guest", "a")),
        ("_/pkg/a", QualifiedName("guest", "a", "pkg")),  # the leading slash is optional
        ("/other/pkg/a", QualifiedName("other", "a", "pkg")),
    ],
)
def test_components_are_fully_qualified_names(text: str, expected: QualifiedName) -> None:
    assert parse_component(text, "guest") == expected


@pytest.mark.parametrize("text", ["a", "/a", "/ns/p/q/r", "/ns/bad*name"])
def test_malformed_components_are_refused(text: str) -> None:
    with pytest.raises(MalformedComponents):
        parse_component(text, "guest")


def test_components_must_be_given() -> None:
    with pytest.raises(MalformedComponents, match="'components' must be defined"):
        parse_components(None, "guest")


async def test_empty_sequence() -> None:
    assert await refused(Store({}), "/_/s", []) == EMPTY


async def test_limit_counts_atomic_actions_after_inlining() -> None:
    store = Store({"guest/a": None, "guest/x": ["/_/a", "/_/a"]})
    assert await check(store, "/_/s", ["/_/a"] * LIMIT) == LIMIT
    assert await refused(store, "/_/s", ["/_/a"] * (LIMIT + 1)) == TOO_LONG
    # s -> (x, x), x -> (a, a): four atomic actions, as OW counts them
    assert await check(store, "/_/s", ["/_/x", "/_/x"]) == 4
    assert await refused(store, "/_/s", ["/_/x"] * 26) == TOO_LONG
    assert await check(store, "/_/s", ["/_/x"] * 25) == LIMIT


async def test_missing_component() -> None:
    store = Store({"guest/a": None})
    assert await refused(store, "/_/s", ["/_/a", "/_/nope"]) == MISSING


async def test_a_new_sequence_naming_itself_is_a_cycle_not_a_missing_component() -> None:
    assert await refused(Store({"guest/a": None}), "/_/s", ["/_/a", "/_/s"]) == CYCLE


async def test_cycle_through_nested_sequences() -> None:
    # OW's complex case: y -> a; x -> b, z; s -> a, x, y
    store = Store(
        {
            "guest/a": None,
            "guest/b": None,
            "guest/z": None,
            "guest/y": ["/_/a"],
            "guest/x": ["/_/b", "/_/z"],
            "guest/s": ["/_/a", "/_/x", "/_/y"],
        }
    )
    assert await check(store, "/_/s", ["/_/a", "/_/x", "/_/y"]) == 4
    # updating z to run s closes the loop z -> s -> x -> z
    assert await refused(store, "/_/z", ["/_/s"]) == CYCLE
    assert await refused(store, "/_/s", ["/_/a", "/_/s", "/_/b"]) == CYCLE
    assert await check(store, "/_/z", ["/_/y"]) == 1
    assert await check(store, "/_/s", ["/_/a", "/_/x", "/_/y", "/_/a", "/_/b"]) == 6


async def test_a_loop_elsewhere_does_not_hang_the_check() -> None:
    store = Store({"guest/p": ["/_/r"], "guest/r": ["/_/p"]})
    assert await refused(store, "/_/s", ["/_/p"]) == CYCLE


async def test_nested_sequences_are_counted_once_each() -> None:
    # a diamond ten levels deep: inlined, 2**10 actions; looked up once per sequence
    actions: dict[str, list[str] | None] = {"guest/l0": None}
    for level in range(1, 11):
        actions[f"guest/l{level}"] = [f"/_/l{level - 1}", f"/_/l{level - 1}"]
    store = Store(actions)
    assert await refused(store, "/_/s", ["/_/l10"]) == TOO_LONG
    assert store.lookups <= 2 * 11


def test_stored_sequence_keeps_resolved_components_as_its_only_parameter() -> None:
    ranges, manifest = LimitRanges(), default_manifest()
    body = {
        "exec": {"kind": "sequence", "components": ["/_/a", "_/pkg/b", "/other/c"]},
        "parameters": [{"key": "ignored", "value": 1}],
    }
    seq = make_action(
        QualifiedName("guest", "s"), ActionPut.model_validate(body), manifest, ranges, 1
    )
    components = ["/guest/a", "/guest/pkg/b", "/other/c"]
    assert seq.exec.to_json() == {"kind": "sequence", "components": components}
    assert P.to_dict(seq.parameters) == {"_actions": components}
    assert P.to_dict(seq.annotations) == {"provide-api-key": False, "exec": "sequence"}
    # an update without exec keeps the components whatever parameters it sends
    kept = update_action(seq, ActionPut.model_validate({"parameters": []}), manifest, ranges, 2)
    assert P.to_dict(kept.parameters) == {"_actions": components}
    # turned into code, the sequence's parameter does not leak into the action
    code = {"exec": {"kind": "python:3.11", "code": "def main(a): return a"}}
    plain = update_action(seq, ActionPut.model_validate(code), manifest, ranges, 3)
    assert plain.parameters == ()


def test_malformed_components_are_a_malformed_request() -> None:
    body = ActionPut.model_validate({"exec": {"kind": "sequence", "components": ["a", "b"]}})
    with pytest.raises(ApiError) as caught:
        make_action(QualifiedName("guest", "s"), body, default_manifest(), LimitRanges(), 1)
    assert caught.value.status == 400
    assert caught.value.message == (
        "The request content was malformed:\nrequirement failed: The fully qualified name of "
        "the entity must contain at least the namespace and the name of the entity."
    )
