"""Packages and bindings over the REST API, in-process over ASGI (docs/openwhisk-compatibility.md §1.6).

Invocation through packages runs end to end in tests/e2e/test_cli_packages.py; here the
API's shapes, refusals and the parameters an action is resolved with (GET shows them).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from pywhisk.common.config import Settings
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.controller.api.app import create_app
from pywhisk.controller.core.bootstrap import ensure_namespace
from pywhisk.controller.core.services import Services
from tests.support.asgi_api import CODE, Env, basic, env
from tests.support.polling import wait_until_async

__all__ = ["env"]  # the fixture (the in-process app with namespaces guest and other)
NS = "/api/v1/namespaces"
DENIED = "The supplied authentication is not authorized to access '{}'."


def kv(**values: object) -> list[dict[str, object]]:
    return [{"key": k, "value": v} for k, v in values.items()]


async def put(client: httpx.AsyncClient, path: str, body: object, **kw: object) -> httpx.Response:
    return await client.put(f"{NS}/_/{path}", json=body, **kw)  # type: ignore[arg-type]


async def test_create_get_update_list_delete(env: Env) -> None:
    client, _, _ = env
    r = await put(client, "packages/tools", {"parameters": kv(a=1), "annotations": kv(d="x")})
    assert r.status_code == 200, r.text
    created = r.json()
    assert {k: created[k] for k in ("namespace", "name", "version", "publish", "binding")} == {
        "namespace": "guest",
        "name": "tools",
        "version": "0.0.1",
        "publish": False,
        "binding": {},
    }
    again = await put(client, "packages/tools", {})
    assert (again.status_code, again.json()["error"]) == (409, "resource already exists")

    assert (await put(client, "actions/tools/hello", {"exec": CODE})).status_code == 200
    feed = {"exec": CODE, "annotations": kv(feed=True)}
    assert (await put(client, "actions/tools/changes", feed)).status_code == 200
    got = (await client.get(f"{NS}/_/packages/tools")).json()
    assert [a["name"] for a in got["actions"]] == ["hello"]
    assert [f["name"] for f in got["feeds"]] == ["changes"]
    assert set(got["actions"][0]) == {"name", "version", "annotations"}

    # update replaces what it gives (annotations too), keeps the rest, bumps the patch
    r = await put(client, "packages/tools?overwrite=true", {"publish": True, "annotations": []})
    updated = r.json()
    assert (updated["version"], updated["publish"]) == ("0.0.2", True)
    assert (updated["parameters"], updated["annotations"]) == (kv(a=1), [])

    listed = (await client.get(f"{NS}/_/packages")).json()
    assert [(p["name"], p["binding"], p["publish"]) for p in listed] == [("tools", False, True)]
    assert (await client.get(f"{NS}/_/packages?count=true")).json() == {"packages": 1}
    # actions in packages are listed with the namespace's actions and on their own
    names = {(a["namespace"], a["name"]) for a in (await client.get(f"{NS}/_/actions")).json()}
    assert ("guest/tools", "hello") in names
    inside = (await client.get(f"{NS}/_/actions/tools/")).json()
    assert sorted(a["name"] for a in inside) == ["changes", "hello"]


async def test_non_empty_delete_is_refused_unless_forced(env: Env) -> None:
    client, _, _ = env
    await put(client, "packages/full", {})
    for name in ("one", "two"):
        await put(client, f"actions/full/{name}", {"exec": CODE})
    r = await client.delete(f"{NS}/_/packages/full")
    assert (r.status_code, r.json()["error"]) == (
        409,
        "Package not empty (contains 2 entities). Set force param or delete package contents.",
    )
    await client.delete(f"{NS}/_/actions/full/two")
    r = await client.delete(f"{NS}/_/packages/full")
    assert r.json()["error"].startswith("Package not empty (contains 1 entity).")
    r = await client.delete(f"{NS}/_/packages/full?force=true")
    assert (r.status_code, r.json()["name"]) == (200, "full")
    assert (await client.get(f"{NS}/_/actions/full/one")).status_code == 404
    assert (await client.get(f"{NS}/_/packages/full")).status_code == 404
    assert (await client.delete(f"{NS}/_/packages/full")).status_code == 404


async def test_binding_merges_parameters_and_shows_the_bound_package(env: Env) -> None:
    client, _, _ = env
    await put(client, "packages/base", {"parameters": kv(a="package", b="package", c="package")})
    await put(client, "actions/base/act", {"exec": CODE, "parameters": kv(c="action")})
    binding = {"binding": {"namespace": "_", "name": "base"}, "parameters": kv(b="binding")}
    r = await put(client, "packages/mine", {**binding, "annotations": kv(binding="forged")})
    assert r.status_code == 200, r.text
    assert r.json()["binding"] == {"namespace": "guest", "name": "base"}
    # the controller sets the `binding` annotation itself
    assert r.json()["annotations"] == kv(binding={"namespace": "guest", "name": "base"})

    shown = (await client.get(f"{NS}/_/packages/mine")).json()
    assert shown["name"] == "mine"
    assert shown["binding"] == {"namespace": "guest", "name": "base"}
    assert {p["key"]: p["value"] for p in shown["parameters"]} == {
        "a": "package",
        "b": "binding",
        "c": "package",
    }
    assert [a["name"] for a in shown["actions"]] == ["act"]

    # package < binding < action, on the bound package's action
    act = (await client.get(f"{NS}/_/actions/mine/act")).json()
    assert act["namespace"] == "guest/base"
    assert {p["key"]: p["value"] for p in act["parameters"]} == {
        "a": "package",
        "b": "binding",
        "c": "action",
    }
    listed = (await client.get(f"{NS}/_/actions/mine/")).json()
    assert [(a["namespace"], a["name"]) for a in listed] == [("guest/base", "act")]
    summary = {p["name"]: p["binding"] for p in (await client.get(f"{NS}/_/packages")).json()}
    assert summary == {"mine": {"namespace": "guest", "name": "base"}, "base": False}
    # a binding holds nothing, so it is always deletable; the bound package is untouched
    assert (await client.delete(f"{NS}/_/packages/mine")).status_code == 200
    assert (await client.get(f"{NS}/_/actions/base/act")).status_code == 200


async def test_package_and_binding_refusals(env: Env) -> None:
    client, _, _ = env
    await put(client, "packages/base", {})
    await put(client, "actions/lonely", {"exec": CODE})
    await put(client, "packages/bound", {"binding": {"namespace": "guest", "name": "base"}})
    cases = [
        ("packages/default", {}, 400, "Package name 'default' is reserved."),
        (
            "packages/b1",
            {"binding": {"namespace": "_", "name": "nothere"}},
            400,
            "Binding references a package that does not exist.",
        ),
        (
            "packages/b2",
            {"binding": {"namespace": "_", "name": "lonely"}},
            409,
            "Cannot bind to a resource that is not a package.",
        ),
        (
            "packages/b3",
            {"binding": {"namespace": "_", "name": "bound"}},
            400,
            "Cannot bind to another package binding.",
        ),
        (
            "packages/base?overwrite=true",
            {"binding": {"namespace": "_", "name": "bound"}},
            409,
            "Resource is a package and cannot be converted into a binding.",
        ),
        (
            "packages/lonely?overwrite=true",
            {},
            409,
            "Resource by this name exists but is not in this collection.",
        ),
        ("actions/bound/act", {"exec": CODE}, 400, "Operation not permitted on package binding."),
        ("actions/nopkg/act", {"exec": CODE}, 404, "The requested resource does not exist."),
        ("packages/bad%20name%20", {}, 400, "The name of the entity contains illegal characters."),
        ("packages/p", {"binding": {"name": "x"}}, 400, None),
        ("packages/p", {"parameters": "nope"}, 400, None),
        ("packages/p", [1], 400, "The request content was malformed:\nexpected a JSON object"),
    ]
    for path, body, status, message in cases:
        r = await put(client, path, body)
        assert r.status_code == status, (path, r.text)
        assert set(r.json()) == {"error", "code"}
        if message is not None:
            assert r.json()["error"] == message, path
        else:
            assert r.json()["error"].startswith("The request content was malformed:"), path
    big = {"parameters": kv(x="y" * (1024 * 1024))}
    r = await put(client, "packages/huge", big)
    assert r.status_code == 413 and r.json()["error"].startswith("parameters larger than allowed")
    # a 405 names every method the resource has (OW's MethodRejection), not one route's
    r = await client.post(f"{NS}/_/packages/base", json={})
    assert (r.status_code, r.json()["error"], r.headers["allow"]) == (
        405,
        "HTTP method not allowed, supported methods: GET, PUT, DELETE",
        "GET, PUT, DELETE",
    )
    r = await client.patch(f"{NS}/_/actions/base/a")
    assert (r.status_code, r.json()["error"]) == (
        405,
        "HTTP method not allowed, supported methods: GET, PUT, DELETE, POST",
    )
    r = await client.post(f"{NS}/_/packages")
    assert (r.status_code, r.json()["error"]) == (
        405,
        "HTTP method not allowed, supported methods: GET",
    )
    r = await client.get(f"{NS}/_/packages?limit=201")
    assert r.json()["error"] == "The value '201' is not in the range of 0 to 200 for packages."


async def test_other_namespaces_see_public_packages_only(env: Env) -> None:
    client, _, other = env
    as_other = basic(other)
    await put(client, "packages/public", {"publish": True, "parameters": kv(p=1)})
    await put(client, "packages/private", {})
    await put(client, "actions/public/act", {"exec": CODE})
    await put(client, "actions/private/act", {"exec": CODE})
    await put(client, "packages/alias", {"binding": {"namespace": "_", "name": "public"}})

    listed = (await client.get(f"{NS}/guest/packages", headers=as_other)).json()
    assert [p["name"] for p in listed] == ["public"]
    assert (await client.get(f"{NS}/guest/packages?count=true", headers=as_other)).json() == {
        "packages": 1
    }
    r = await client.get(f"{NS}/guest/packages/public", headers=as_other)
    assert r.status_code == 200 and [a["name"] for a in r.json()["actions"]] == ["act"]
    r = await client.get(f"{NS}/guest/actions/public/act", headers=as_other)
    assert r.status_code == 200 and r.json()["parameters"] == kv(p=1)
    r = await client.get(f"{NS}/guest/actions/public/", headers=as_other)
    assert [a["name"] for a in r.json()] == ["act"]

    # private packages, bindings, actions outside packages and absent ones: all 403
    for path, fqname in (
        ("packages/private", "guest/private"),
        ("packages/alias", "guest/alias"),
        ("packages/nothere", "guest/nothere"),
        ("actions/private/act", "guest/private/act"),
        ("actions/alias/act", "guest/alias/act"),
        ("actions/private/", "guest/private"),
        ("actions/nothere/act", "guest/nothere/act"),
    ):
        r = await client.get(f"{NS}/guest/{path}", headers=as_other)
        assert (r.status_code, r.json()["error"]) == (403, DENIED.format(fqname)), path
    r = await client.post(f"{NS}/guest/actions/private/act", headers=as_other, json={})
    assert (r.status_code, r.json()["error"]) == (403, DENIED.format("guest/private/act"))
    # nobody writes into another namespace, public or not
    for method, path in (
        ("PUT", "packages/public?overwrite=true"),
        ("DELETE", "packages/public"),
        ("PUT", "actions/public/new"),
        ("DELETE", "actions/public/act"),
    ):
        r = await client.request(method, f"{NS}/guest/{path}", headers=as_other, json={})
        assert r.status_code == 403, (method, path)

    # bindings may point at another namespace's public package, never at a private one
    r = await put(
        client,
        "packages/theirs",
        {"binding": {"namespace": "guest", "name": "public"}},
        headers=as_other,
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"{NS}/_/actions/theirs/act", headers=as_other)
    assert (r.status_code, r.json()["namespace"]) == (200, "guest/public")
    for target in ("private", "alias", "nothere"):
        body = {"binding": {"namespace": "guest", "name": target}}
        r = await put(client, "packages/nope", body, headers=as_other)
        assert (r.status_code, r.json()["error"]) == (403, DENIED.format(f"guest/{target}"))
    # once the package turns private, the binding stops working for its owner
    await put(client, "packages/public?overwrite=true", {"publish": False})
    r = await client.get(f"{NS}/_/actions/theirs/act", headers=as_other)
    assert r.status_code == 403
    r = await client.get(f"{NS}/_/packages/theirs", headers=as_other)
    assert r.status_code == 403


async def test_another_controllers_change_reaches_this_ones_cache(tmp_path: Path) -> None:
    """Two controllers on one store and queue: a package made private through one is no
    longer served to other namespaces by the one that had it cached."""
    store = SqliteStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.open()
    queue = MemoryQueue()
    controllers = [
        Services(Settings(data_dir=tmp_path, controller_id=i), store, queue) for i in (0, 1)
    ]
    for services in controllers:
        await services.start()
    guest = await ensure_namespace(store, "guest")
    other = await ensure_namespace(store, "other")
    try:
        one, two = (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(s, manage_services=False)),
                base_url="http://test",
                headers=basic(guest),
            )
            for s in controllers
        )
        await put(one, "packages/pub", {"publish": True})
        await put(one, "actions/pub/act", {"exec": CODE})
        as_other = basic(other)
        path = f"{NS}/guest/actions/pub/act"
        assert (await two.get(path, headers=as_other)).status_code == 200  # now cached in two
        await put(one, "packages/pub?overwrite=true", {"publish": False})
        await wait_until_async(
            lambda: two.get(path, headers=as_other),
            "the other controller to refuse the unpublished action",
            timeout=5,
            interval=0.02,
            until=lambda r: r.status_code == 403,
        )
        await one.aclose()
        await two.aclose()
    finally:
        for services in controllers:
            await services.stop()
        await store.close()
