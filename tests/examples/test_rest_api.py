"""examples/rest-api: PHP actions over a real PostgreSQL, deployed from the manifest with
`wsk project deploy`, served by the API gateway, and driven from the example's page on
another origin in headless Chromium (CORS preflights included): the page's DOM and the
database are checked after every step."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from pywhisk.common.entities import Identity
from tests.support.browser import Page, chromium
from tests.support.examples import EXAMPLES
from tests.support.postgres import Postgres, postgres_cluster
from tests.support.server import StandaloneServer
from tests.support.static_site import static_site

Wsk = Callable[..., subprocess.CompletedProcess[str]]
EXAMPLE = EXAMPLES / "rest-api"
ENTITIES = 11  # the package, five actions, five API routes


def project(wskprops: Path, dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    wsk = shutil.which("wsk")
    assert wsk
    env = {k: v for k, v in os.environ.items() if not k.startswith("__OW_")}
    env.update({"WSK_CONFIG_FILE": str(wskprops), "PGDSN": dsn})
    done = subprocess.run(
        [wsk, "project", *args], env=env, cwd=EXAMPLE, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def rows(pg: Postgres) -> list[tuple[str, str]]:
    """The items table as (name, done) pairs, in id order."""
    out = pg.psql("SELECT name, done FROM items ORDER BY id")
    return [tuple(line.split("|")) for line in out.splitlines()]  # type: ignore[misc]


def dom(page: Page) -> list[list[object]]:
    return list(
        page.evaluate(
            "[...document.querySelectorAll('#items li')].map(li => "
            "[li.querySelector('.name') ? li.querySelector('.name').textContent : null, "
            "li.querySelector('input.done').checked, li.classList.contains('done')])"
        )
    )


def settle(page: Page, loads: int) -> int:
    """Wait for the page's next list refresh after an action; the new count."""
    page.wait_for(f"Number(document.body.dataset.loaded) > {loads}")
    return int(page.evaluate("Number(document.body.dataset.loaded)"))


def drive_page(page: Page, url: str, pg: Postgres) -> None:
    page.open(url)
    loads = settle(page, 0)
    assert dom(page) == [] and page.evaluate("document.getElementById('status').textContent") == ""

    for name in ("Buy milk", "Call <b>Rob</b>"):
        page.evaluate(
            f"document.getElementById('name').value = {json.dumps(name)};"
            "document.getElementById('new').requestSubmit()"
        )
        loads = settle(page, loads)
    assert dom(page) == [["Buy milk", False, False], ["Call <b>Rob</b>", False, False]]
    assert page.evaluate("document.querySelectorAll('#items b').length") == 0  # text, not HTML
    assert rows(pg) == [("Buy milk", "f"), ("Call <b>Rob</b>", "f")]

    page.evaluate("document.querySelector('#items li input.done').click()")  # PUT {done}
    loads = settle(page, loads)
    assert dom(page)[0] == ["Buy milk", True, True]
    assert rows(pg)[0] == ("Buy milk", "t")

    page.evaluate("document.querySelectorAll('#items li button.edit')[1].click()")
    page.evaluate(
        "const li = document.querySelectorAll('#items li')[1];"
        "li.querySelector('.new-name').value = 'Call Rob back';"
        "li.querySelector('form.editing').requestSubmit()"
    )
    loads = settle(page, loads)
    assert dom(page)[1] == ["Call Rob back", False, False]
    assert rows(pg)[1] == ("Call Rob back", "f")

    # bad input: the API's 400 reaches the page (CORS headers on errors too), nothing stored
    page.evaluate(
        "document.getElementById('name').value = 'x'.repeat(201);"
        "document.getElementById('new').requestSubmit()"
    )
    loads = settle(page, loads)
    assert page.evaluate("document.getElementById('status').textContent") == (
        "name must be 1 to 200 characters of text"
    )
    assert len(rows(pg)) == 2

    page.evaluate("document.querySelectorAll('#items li button.delete')[0].click()")
    loads = settle(page, loads)
    assert dom(page) == [["Call Rob back", False, False]]
    assert rows(pg) == [("Call Rob back", "f")]


def gateway_url(wsk: Wsk) -> str:
    """The API's URL as a user finds it: `wsk api list`, the list route's URL."""
    listing = wsk("api", "list").stdout.splitlines()
    row = next(line for line in listing if line.split()[0].endswith("/items/list"))
    return row.split()[-1].removesuffix("/items")


def test_rest_api(wsk: Wsk, wskprops: Path, server: StandaloneServer, namespace: Identity) -> None:
    with postgres_cluster(database="items", user="items") as pg:
        pg.psql((EXAMPLE / "schema.sql").read_text())
        deployed = project(wskprops, pg.pdo_dsn, "deploy")
        assert deployed.stdout.count("has been successfully deployed.") == ENTITIES
        again = project(wskprops, pg.pdo_dsn, "deploy")
        assert again.stdout.count("is unchanged; skipped.") == ENTITIES

        api = gateway_url(wsk)
        assert api.startswith(f"{server.url}/api/") and api.endswith("/store")
        with httpx.Client(timeout=60) as http:
            assert http.get(f"{api}/items").json() == []
            assert http.get(f"{api}/items/abc").status_code == 400
            missing = http.get(f"{api}/items/999")
            assert (missing.status_code, missing.json()) == (404, {"error": "no item 999"})
            # the DSN is a final parameter: a caller cannot point the actions elsewhere
            redirected = http.post(f"{api}/items", json={"name": "x", "dsn": "sqlite::memory:"})
            assert redirected.status_code == 400

        with static_site(EXAMPLE / "web") as site, chromium() as page:
            assert site.rsplit(":", 1)[1] != server.url.rsplit(":", 1)[1]  # another origin
            drive_page(page, f"{site}/index.html?api={api}", pg)

        # the one route the page leaves alone: an item read by its id
        (item,) = httpx.get(f"{api}/items", timeout=60).json()
        read = httpx.get(f"{api}/items/{item['id']}", timeout=60)
        assert (read.status_code, read.json()) == (200, item)
        assert item["name"] == "Call Rob back" and item["done"] is False

        # the web action URLs serve the same data without the gateway
        web = f"{server.url}/api/v1/web/{namespace.namespace}/items"
        assert [i["name"] for i in httpx.get(f"{web}/list.http", timeout=60).json()] == [
            "Call Rob back"
        ]
        wrong = httpx.get(f"{web}/delete.http/1", timeout=60)
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "DELETE")

        project(wskprops, pg.pdo_dsn, "undeploy")
        assert httpx.get(f"{web}/list.http", timeout=60).status_code == 404
        assert httpx.get(f"{api}/items", timeout=60).status_code == 404  # the routes too
        assert rows(pg) == [("Call Rob back", "f")]  # undeploy leaves the data alone
