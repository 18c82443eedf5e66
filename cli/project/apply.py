"""Carrying out a plan: PUT what changed, drive feeds as `wsk` does, delete what is named.

Deploy order is the plan's (packages before their actions, actions before the sequences,
rules and APIs that name them); undeploy runs it backwards and deletes only what the
manifest names: an entity missing on the server is reported and skipped, and a package
still holding entities created outside the manifest is kept (the API's 409) rather than
forced, so undeploy never deletes what it did not deploy. A trigger whose feed or feed
inputs changed is re-created as wskdeploy does (feed DELETE, trigger deleted, trigger PUT,
feed CREATE), since feeds honour no update; its rules are then re-put and activated,
because a deleted trigger leaves its rules inactive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pywhisk.cli.commands.feeds import feed_arguments, feed_of, invoke_feed
from pywhisk.cli.errors import EXIT_NOT_FOUND, WskError
from pywhisk.cli.names import parse_name_or_fail
from pywhisk.cli.session import Session

from .entities import Entity, Manifest
from .plan import CREATE, UNCHANGED, Step, apimgmt_url, entity_url, fetch, fetch_api

Echo = Callable[[str], None]
CONFLICT_EXIT = (409 - 256) % 256


class StepFailed(Exception):
    def __init__(self, entity: Entity, cause: WskError) -> None:
        super().__init__(f"{entity.kind} [{entity.name}]: {cause}")
        self.cause = cause


def _feed(session: Session, feed: str, trigger: str, event: str, params: dict[str, Any]) -> None:
    qualified = parse_name_or_fail(feed, session.namespace)
    target = parse_name_or_fail(trigger, session.namespace)
    invoke_feed(session, qualified, feed_arguments(session, target, event, params))


def _put(session: Session, entity: Entity) -> None:
    client = session.client
    if entity.kind == "api":
        client.request(
            "POST", apimgmt_url(client, "createApi"), query=entity.query, body=entity.body
        )
        return
    client.request(
        "PUT", entity_url(client, entity), query=[("overwrite", "true")], body=entity.body
    )
    if entity.kind == "rule":
        client.request("POST", entity_url(client, entity), body={"status": "active"})


def _put_trigger(session: Session, entity: Entity, change: str) -> None:
    client = session.client
    if not entity.feed:
        _put(session, entity)
        return
    if change != CREATE:
        old = fetch(client, entity)
        old_feed = feed_of(old)
        if old_feed:  # a feed that fails to let go must not keep the old trigger alive
            try:
                _feed(session, old_feed, entity.name, "DELETE", {})
            except WskError:
                pass
        client.request("DELETE", entity_url(client, entity))
    client.request(
        "PUT", entity_url(client, entity), query=[("overwrite", "false")], body=entity.body
    )
    try:
        _feed(session, entity.feed, entity.name, "CREATE", entity.feed_params)
    except WskError:
        client.request("DELETE", entity_url(client, entity))
        raise


def deploy(session: Session, steps: list[Step], echo: Echo) -> tuple[int, int]:
    """Apply the steps in order; (changed, unchanged). Raises StepFailed at the first failure."""
    changed_triggers: set[str] = set()
    counts = [0, 0]
    for step in steps:
        entity, change = step.entity, step.change
        if entity.kind == "rule" and change == UNCHANGED:
            trigger = entity.body["trigger"].rsplit("/", 1)[-1]
            change = "update" if trigger in changed_triggers else change
        if change == UNCHANGED:
            echo(f"Info: {entity.kind} [{entity.name}] is unchanged; skipped.")
            counts[1] += 1
            continue
        try:
            if entity.kind == "trigger":
                _put_trigger(session, entity, change)
                changed_triggers.add(entity.name)
            else:
                _put(session, entity)
        except WskError as err:
            raise StepFailed(entity, err) from None
        echo(f"Info: {entity.kind} [{entity.name}] has been successfully deployed.")
        counts[0] += 1
    return counts[0], counts[1]


def _route_exists(swagger: Any, entity: Entity) -> bool:
    doc = entity.body["apidoc"]
    paths = (swagger or {}).get("paths") or {}
    return doc["gatewayMethod"].lower() in (paths.get(doc["gatewayPath"]) or {})


def _delete(session: Session, entity: Entity) -> bool:
    """Delete one entity; False when it was not there."""
    client = session.client
    if entity.kind == "api":
        doc = entity.body["apidoc"]
        if not _route_exists(fetch_api(client, doc["gatewayBasePath"]), entity):
            return False
        query = [
            ("basepath", doc["gatewayBasePath"]),
            ("relpath", doc["gatewayPath"]),
            ("operation", doc["gatewayMethod"]),
        ]
        client.request("DELETE", apimgmt_url(client, "deleteApi"), query=query)
        return True
    if entity.kind == "trigger":
        feed = feed_of(fetch(client, entity))
        if feed:
            try:
                _feed(session, feed, entity.name, "DELETE", {})
            except WskError:
                pass  # as `wsk trigger delete`: the trigger goes even if its feed objects
    try:
        client.request("DELETE", entity_url(client, entity))
    except WskError as err:
        if err.exit_code == EXIT_NOT_FOUND:
            return False
        raise
    return True


def undeploy(session: Session, manifest: Manifest, echo: Echo) -> None:
    for entity in reversed(manifest.entities):
        try:
            gone = _delete(session, entity)
        except WskError as err:
            if entity.kind == "package" and err.exit_code == CONFLICT_EXIT:
                echo(
                    f"Warning: package [{entity.name}] holds entities the manifest does not name; kept."
                )
                continue
            raise StepFailed(entity, err) from None
        if gone:
            echo(f"Info: {entity.kind} [{entity.name}] has been successfully undeployed.")
        else:
            echo(f"Info: {entity.kind} [{entity.name}] is not deployed; skipped.")
