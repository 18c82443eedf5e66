"""`/whisk.system/couchdb`: fire a trigger for every change of a CouchDB database.

After openwhisk-package-cloudant's `changes` feed (whose provider follows `_changes`); the
feed action code is `catalog/feed_action.py`, the follower runs in every controller.
"""

from __future__ import annotations

from pathlib import Path

from pywhisk.controller.core.catalog.model import CatalogAction, CatalogPackage

FEED = Path(__file__).parent.parent / "feed_action.py"


def _param(name: str, description: str, required: bool = False) -> dict[str, object]:
    return {"name": name, "required": required, "description": description}


PACKAGE = CatalogPackage(
    name="couchdb",
    description="Database change events from CouchDB (and CouchDB-compatible servers)",
    actions=(
        CatalogAction(
            "changes",
            FEED,
            "Fire trigger on changes to a database",
            (
                _param("dbname", "The database", True),
                _param("host", "Its server's host name or address", True),
                _param("port", "Its server's port (default: the protocol's)"),
                _param("protocol", "http (default) or https"),
                _param("username", "A user who may read the database"),
                _param("password", "That user's password"),
                _param("since", "Fire for changes after this sequence: now (default) or 0"),
                _param("filter", "A filter function, design/name"),
                _param("query_params", "Query parameters for the filter function"),
                _param("maxTriggers", "Stop after this many fires"),
                _param("trigger_payload", "Merged under each change"),
            ),
            {"dbname": "photos", "host": "127.0.0.1", "port": 5984},
            {
                "id": "doc1",
                "seq": 12,
                "changes": [{"rev": "1-967a00dff5e02add41819138abb3284d"}],
                "dbname": "photos",
            },
            feed=True,
        ),
    ),
)
