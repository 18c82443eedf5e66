"""The REST API as the end-to-end tests drive it: an httpx client whose base URL is a server's
`/api/v1` and whose auth is a namespace's key (the `api` fixture), and the few calls many
test modules make through it: create actions, rules and sequences, invoke, and read the
activation records, which are written after the answer and so are waited for."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.polling import wait_until


def put_action(
    api: httpx.Client, name: str, code: str, kind: str = "python:3.11", **extra: Any
) -> dict[str, Any]:
    """Create or replace an action from its source; `extra` adds fields (parameters, ...)."""
    r = api.put(
        f"/namespaces/_/actions/{name}?overwrite=true",
        json={"exec": {"kind": kind, "code": code}, **extra},
    )
    assert r.status_code == 200, r.text
    return r.json()


def put_sequence(
    api: httpx.Client, name: str, components: list[str], overwrite: bool = True
) -> httpx.Response:
    return api.put(
        f"/namespaces/_/actions/{name}",
        params={"overwrite": str(overwrite).lower()},
        json={"exec": {"kind": "sequence", "components": components}},
    )


def put(api: httpx.Client, collection: str, name: str, body: Any, **query: str) -> httpx.Response:
    """PUT an entity of `collection` (triggers, rules, packages, ...) as given."""
    return api.put(f"/namespaces/_/{collection}/{name}", params=query, json=body)


def setup_rule(api: httpx.Client, trigger: str, rule: str, action: str) -> None:
    r = put(api, "rules", rule, {"trigger": f"/_/{trigger}", "action": f"/_/{action}"})
    assert r.status_code == 200, r.text


def invoke(api: httpx.Client, name: str, payload: Any = None, **query: str) -> httpx.Response:
    """A blocking invoke (the query may add `result`, or turn `blocking` off)."""
    params = {"blocking": "true", **query}
    return api.post(
        f"/namespaces/_/actions/{name}", params=params, json=payload if payload is not None else {}
    )


def wait_for_record(api: httpx.Client, activation_id: str, timeout: float = 30) -> dict[str, Any]:
    """The activation's stored record, once it is there."""
    found = wait_until(
        lambda: api.get(f"/namespaces/_/activations/{activation_id}"),
        f"the activation record {activation_id}",
        timeout=timeout,
        until=lambda r: r.status_code == 200,
    )
    return found.json()


def records(api: httpx.Client, name: str) -> list[dict[str, Any]]:
    """The records of `name`'s activations (up to 200), newest first."""
    r = api.get("/namespaces/_/activations", params={"name": name, "docs": "true", "limit": 200})
    assert r.status_code == 200, r.text
    return list(r.json())
