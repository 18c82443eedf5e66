"""Database-changes feed configurations, after openwhisk-package-cloudant's `changes` feed.

Parameters: `dbname` and `host` (required), `port`, `protocol` (`http` by default: a local
CouchDB rarely speaks TLS; OpenWhisk's Cloudant feed defaults to https), `username` and
`password`, `since` (a sequence to start after; `now` by default, `0` for every change the
database holds), `filter` (`design/name`) with `query_params`, `maxTriggers`, and
`trigger_payload` (merged under each change).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from pywhisk.controller.core.feeds.alarm_spec import bad, max_triggers_of, payload_of

Config = dict[str, Any]


def _query_params(params: dict[str, Any]) -> dict[str, Any] | None:
    if not params.get("filter"):
        if params.get("query_params"):
            raise bad(
                "The query_params parameter is only allowed if the filter parameter is defined"
            )
        return None
    value = params.get("query_params")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise bad(
                "The query_params parameter cannot be parsed. Ensure it is valid JSON."
            ) from None
    if value is not None and not isinstance(value, dict):
        raise bad("The query_params parameter is not a valid JSON Object")
    return value


def create_config(params: dict[str, Any]) -> Config:
    if not params.get("dbname"):
        raise bad("couchdb trigger feed: missing dbname parameter")
    if not params.get("host"):
        raise bad("couchdb trigger feed: missing host parameter")
    if bool(params.get("username")) != bool(params.get("password")):
        raise bad("couchdb trigger feed: username and password go together")
    protocol = str(params.get("protocol") or "http").lower()
    if protocol not in ("http", "https"):
        raise bad("couchdb trigger feed: protocol must be http or https")
    port = params.get("port")
    if port not in (None, ""):
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise bad("couchdb trigger feed: port must be an integer") from None
    return {
        "host": str(params["host"]),
        "port": port or None,
        "protocol": protocol,
        "dbname": str(params["dbname"]),
        "username": params.get("username") or None,
        "password": params.get("password") or None,
        "filter": params.get("filter") or None,
        "query_params": _query_params(params),
        "maxTriggers": max_triggers_of(params.get("maxTriggers")),
        "payload": payload_of(params.get("trigger_payload")),
    }


def update_config(old: Config, params: dict[str, Any]) -> Config:
    """UPDATE may change the payload, the filter and its query, and maxTriggers."""
    new = dict(old)
    if params.get("trigger_payload"):
        new["payload"] = payload_of(params["trigger_payload"])
    if params.get("filter"):
        new["filter"] = params["filter"]
        new["query_params"] = _query_params(params)
    elif params.get("query_params"):
        new["query_params"] = _query_params({**params, "filter": old.get("filter")})
    if params.get("maxTriggers"):
        new["maxTriggers"] = max_triggers_of(params["maxTriggers"])
    if new == old:
        raise bad("no updatable parameters were specified")
    return new


def describe(config: Config) -> dict[str, Any]:
    """The `config` part of a READ answer; the password stays out."""
    keys = ("host", "port", "protocol", "dbname", "username", "filter", "query_params")
    out = {k: config[k] for k in keys if config.get(k) is not None}
    if config.get("maxTriggers", -1) != -1:
        out["maxTriggers"] = config["maxTriggers"]
    out["payload"] = config.get("payload", {})
    return out


def database_url(config: Config) -> str:
    host = config["host"]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = f":{config['port']}" if config.get("port") else ""
    return f"{config['protocol']}://{host}{port}/{quote(config['dbname'], safe='')}"


def host_header(config: Config) -> str:
    """The Host header for the feed's database: its name as the tenant gave it."""
    host = str(config["host"])
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{config['port']}" if config.get("port") else host
