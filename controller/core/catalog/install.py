"""Putting the built-in packages into the store, at every start of a controller.

Idempotent: what already matches is left alone, so a restart bumps no versions; what
differs (our code or its documentation changed) is replaced, with the patch version bumped,
so invokers fetch the new code by its new revision; an action a built-in package no longer
has is deleted (these packages are ours: nothing else belongs in them). Controllers starting together may race:
a lost race (Conflict) means another one has just written the same thing.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from pywhisk.common.entities import ActionPut, ExecPut, KeyValue, LimitRanges, PackagePut
from pywhisk.common.names import QualifiedName
from pywhisk.common.runtimes import Manifest
from pywhisk.common.store.base import Conflict, Doc, Store
from pywhisk.controller.core.action_updates import bump_version, make_action
from pywhisk.controller.core.bootstrap import SYSTEM
from pywhisk.controller.core.catalog import alarms, couchdb, utils
from pywhisk.controller.core.catalog.model import CatalogPackage
from pywhisk.controller.core.package_updates import make_package

log = logging.getLogger(__name__)

CATALOG: tuple[CatalogPackage, ...] = (utils.PACKAGE, alarms.PACKAGE, couchdb.PACKAGE)
KIND = "python:default"  # the catalog's code is Python, whatever the default version is

# What makes an entity "ours as written"; the rest (version, updated) follows from writes.
_PACKAGE_FIELDS = ("publish", "binding", "parameters", "annotations")
_ACTION_FIELDS = ("exec", "parameters", "limits", "annotations", "publish")


def _annotations(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=v) for k, v in values.items()]


_parameters = _annotations  # bound parameters have the same key/value shape


async def _sync(store: Store, doc_id: str, doc: Doc, fields: tuple[str, ...]) -> bool:
    """Write `doc` unless the stored one already has the same `fields`; True if written."""
    found = await store.entities.get(doc_id)
    rev = None
    if found is not None:
        old, rev = found
        same_type = old.get("entityType") == doc["entityType"]
        if same_type and all(old.get(f) == doc.get(f) for f in fields):
            return False
        doc = {**doc, "version": bump_version(str(old.get("version", "0.0.1")))}
    try:
        await store.entities.put(doc_id, doc, rev)
    except Conflict:
        return False
    return True


async def _prune(store: Store, package_path: str, keep: set[str]) -> list[str]:
    namespace, _, package = package_path.partition("/")
    listed = await store.entities.list(namespace, "action", package=package, limit=10_000)
    gone = [f"{package_path}/{d['name']}" for d in listed if d["name"] not in keep]
    for doc_id in gone:
        found = await store.entities.get(doc_id)
        if found is not None:
            with contextlib.suppress(Conflict):
                await store.entities.delete(doc_id, found[1])
    return gone


async def install(
    store: Store,
    manifest: Manifest,
    ranges: LimitRanges,
    namespace: str = SYSTEM,
    catalog: tuple[CatalogPackage, ...] = CATALOG,
) -> list[str]:
    """Create, refresh or prune every built-in package and action; the doc ids written."""
    now = int(time.time() * 1000)
    written: list[str] = []
    for package in catalog:
        put = PackagePut(
            publish=True,
            annotations=_annotations(package.annotations()),
            parameters=_parameters(package.bound),
        )
        entity = make_package(QualifiedName(namespace, package.name), put, now)
        doc = {**entity.to_json(), "entityType": "package"}
        if await _sync(store, entity.doc_id, doc, _PACKAGE_FIELDS):
            written.append(entity.doc_id)
        for item in package.actions:
            action_put = ActionPut(
                exec=ExecPut(kind=KIND, code=item.source.read_text()),
                annotations=_annotations(item.annotations()),
                parameters=_parameters(item.bound),
            )
            fqn = QualifiedName(namespace, item.name, package.name)
            action = make_action(fqn, action_put, manifest, ranges, now)
            doc = {**action.to_json(), "entityType": "action"}
            if await _sync(store, action.doc_id, doc, _ACTION_FIELDS):
                written.append(action.doc_id)
        written += await _prune(store, entity.path, {item.name for item in package.actions})
    if written:
        log.info("catalog: installed, updated or removed %s", ", ".join(written))
    return written
