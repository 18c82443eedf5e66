"""What makes a sequence acceptable at PUT (docs/openwhisk-compatibility.md §1.3.1 item 5, OW `Actions.scala`
`checkSequenceActionLimits`, `countAtomicActionsAndCheckCycle`).

Pure: the store is reached only through the `Lookup` the caller passes in, so the rules
(component names, emptiness, the length limit counted over atomic actions after inlining
nested sequences, no way back to the sequence itself) are tested without one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from pywhisk.common.names import (
    DEFAULT_NAMESPACE,
    InvalidName,
    QualifiedName,
    check_name,
    check_namespace,
)

TOO_LONG = "Too many actions in the sequence."
EMPTY = "No component specified for the sequence."
CYCLE = "Sequence may not refer to itself."
MISSING = "Sequence component does not exist."
# OW Messages.malformedFullyQualifiedEntityName, behind the deserializer's "requirement failed: ".
NOT_QUALIFIED = (
    "requirement failed: The fully qualified name of the entity must contain at least the "
    "namespace and the name of the entity."
)
UNDEFINED = "'components' must be defined for sequence kind"


class InvalidSequence(Exception):
    """A sequence OpenWhisk refuses with 400 and this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedComponents(ValueError):
    """Components that do not parse; the request content was malformed."""


class ComponentMissing(Exception):
    """Raised by a Lookup: the component (or its package) does not exist."""


# A component → (the doc id of the action it reaches, bindings followed; that action's own
# components when it is a sequence, else None).
Lookup = Callable[[QualifiedName], Awaitable[tuple[str, tuple[QualifiedName, ...] | None]]]


def parse_component(text: str, namespace: str) -> QualifiedName:
    """`/ns/[pkg/]name` (the leading slash optional, as OW's EntityPath reads it); `_` is
    the caller's namespace."""
    parts = [part for part in text.split("/") if part]
    if len(parts) < 2:
        raise MalformedComponents(NOT_QUALIFIED)
    if len(parts) > 3:
        raise MalformedComponents("requirement failed: fully qualified name malformed")
    try:
        check_namespace(parts[0])
        for part in parts[1:]:
            check_name(part)
    except InvalidName as e:
        raise MalformedComponents(f"requirement failed: {e}") from None
    ns = namespace if parts[0] == DEFAULT_NAMESPACE else parts[0]
    return QualifiedName(ns, parts[-1], parts[1] if len(parts) == 3 else None)


def parse_components(texts: Sequence[str] | None, namespace: str) -> tuple[QualifiedName, ...]:
    if texts is None:
        raise MalformedComponents(UNDEFINED)
    return tuple(parse_component(text, namespace) for text in texts)


async def count_atomic(
    sequence: QualifiedName,
    components: Sequence[QualifiedName],
    lookup: Lookup,
    limit: int,
) -> int:
    """How many atomic actions `sequence` runs with `components` once nested sequences are
    inlined; InvalidSequence when it is empty, too long, reaches a missing component or
    reaches `sequence` itself (which is how an update turns a sequence into a cycle)."""
    if len(components) > limit:
        raise InvalidSequence(TOO_LONG)
    if not components:
        raise InvalidSequence(EMPTY)
    counted: dict[str, int] = {}  # nested sequence doc id → its atomic count
    total = await _count(sequence.doc_id, components, lookup, limit, counted, ())
    if total > limit:
        raise InvalidSequence(TOO_LONG)
    return total


async def _count(
    origin: str,
    components: Sequence[QualifiedName],
    lookup: Lookup,
    limit: int,
    counted: dict[str, int],
    path: tuple[str, ...],
) -> int:
    if len(components) > limit:
        raise InvalidSequence(TOO_LONG)
    total = 0
    for component in components:
        # Compared before the lookup: a new sequence naming itself does not exist yet.
        if component.doc_id == origin:
            raise InvalidSequence(CYCLE)
        try:
            doc_id, inner = await lookup(component)
        except ComponentMissing:
            raise InvalidSequence(MISSING) from None
        if doc_id == origin:
            raise InvalidSequence(CYCLE)
        if inner is None:
            total += 1
            continue
        if doc_id in path:
            # A loop that does not pass through `origin` (left by concurrent updates):
            # inlining it would never end, and running it would not either.
            raise InvalidSequence(CYCLE)
        if doc_id not in counted:
            counted[doc_id] = await _count(origin, inner, lookup, limit, counted, (*path, doc_id))
        total += counted[doc_id]
    return total
