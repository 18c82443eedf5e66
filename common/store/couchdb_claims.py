"""Activation claims in CouchDB (`common.store.claims`): one document per activation id in
`<prefix>claims`, changed only at its revision.

A claim call first assumes no claim exists (the common case: an invoker starting what was
sent to it alone) and creates them all in one `_bulk_docs` request. The ids that conflict
are read (`_bulk_get`), decided again from what is stored, and written at
the revision read; a conflict again (someone wrote between) goes round once more. So the
hot path is one request per batch of activations, and a hand-over or a redelivery two or
three.

Caveat: CouchDB's revisions make each write atomic on one node; a clustered CouchDB
(n > 1) that is partitioned may accept two conflicting writes on two nodes, and only one
survives the merge. Run claims on a quorum (the default w = 2 of 3) and this stays rare, not
impossible.
"""

from __future__ import annotations

import logging
from typing import Any

from pywhisk.common.store.base import StoreError
from pywhisk.common.store.claims import Claim, ClaimStore, Decide
from pywhisk.common.store.couchdb_client import CouchClient

ROUNDS = 5  # conflicts in a row before an id is given up as not won

log = logging.getLogger(__name__)


def _claim(doc: dict[str, Any]) -> Claim:
    return Claim(str(doc.get("owner", "")), bool(doc.get("started")), str(doc.get("token", "")))


class CouchDBClaims(ClaimStore):
    def __init__(self, couch: CouchClient, db: str) -> None:
        self._couch = couch
        self._db = db

    async def _read(self, ids: list[str]) -> dict[str, tuple[Claim, str]]:
        docs = await self._couch.get_docs(self._db, ids)
        return {doc_id: (_claim(doc), str(doc["_rev"])) for doc_id, doc in docs.items()}

    async def settle(self, activation_ids: list[str], decide: Decide) -> set[str]:
        won: set[str] = set()
        current: dict[str, tuple[Claim, str]] = {}  # first round: assume none exists
        todo = activation_ids
        for _ in range(ROUNDS):
            docs = []
            for activation_id in todo:
                claim, rev = current.get(activation_id, (None, None))
                ok, write = decide(activation_id, claim)
                if write is None:
                    if ok:
                        won.add(activation_id)
                    continue
                doc: dict[str, Any] = {
                    "_id": activation_id,
                    "owner": write.owner,
                    "started": write.started,
                    "token": write.token,
                }
                if rev is not None:
                    doc["_rev"] = rev
                docs.append(doc)
            if not docs:
                return won
            answers = await self._couch.bulk_docs(self._db, docs)
            conflicted = []
            for answer in answers:
                if answer.get("ok"):
                    won.add(answer["id"])
                elif answer.get("error") == "conflict":
                    conflicted.append(answer["id"])
                else:
                    raise StoreError(
                        f"CouchDB refused claim {answer.get('id')}: {answer.get('reason')}"
                    )
            if not conflicted:
                return won
            todo = conflicted
            current = await self._read(conflicted)
        log.warning("%d claims still conflicted after %d rounds: not won", len(todo), ROUNDS)
        return won

    async def get(self, activation_id: str) -> Claim | None:
        found = await self._read([activation_id])
        return found[activation_id][0] if activation_id in found else None
