"""The dashboard in headless Chromium against a real standalone server: sign in with a
namespace's key, an activation invoked through the API appears, its logs are one click
away (and an action's markup in them stays text), each action gets a chart of its latency
with its cold starts and errors over time, usage shows (a cost column only with a price).
Screenshots are kept as test artifacts (tests/support/artifacts.py; the paths are printed)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.artifacts import artifact_dir
from tests.support.browser import Page, chromium
from tests.support.polling import wait_until
from tests.support.server import StandaloneServer

HOSTILE = '<img src=x onerror="window.pwned=1">'
CODE = f"def main(a):\n    print({HOSTILE!r})\n    return {{'said': a.get('say', '')}}\n"
TRIP = "def main(a):\n    return {'error': 'tripped'}\n"
PAID = "def main(a):\n    return {'paid': True}\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StandaloneServer]:
    srv = StandaloneServer(tmp_path / "server")
    srv.start()
    yield srv
    srv.stop()


def screenshot(page: Page, path: Path) -> None:
    page.send(
        "Emulation.setDeviceMetricsOverride",
        width=1100,
        height=1400,
        deviceScaleFactor=1,
        mobile=False,
    )
    shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"dashboard screenshot: {path}")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def js(value: str) -> str:
    return json.dumps(value)


def test_sign_in_watch_an_activation_and_open_its_logs(
    server: StandaloneServer, request: pytest.FixtureRequest
) -> None:
    artifacts = artifact_dir(request.node.name)
    ns = server.create_namespace("watched")
    with chromium() as page:
        page.open(f"{server.url}/dashboard")  # redirected to /dashboard/
        assert page.evaluate("location.pathname") == "/dashboard/"
        # A wrong key is refused and not kept.
        page.evaluate(f"document.getElementById('key').value = {js(ns.uuid + ':nope')}")
        page.evaluate("document.getElementById('signin-button').click()")
        page.wait_for("document.getElementById('signin-error').textContent.includes('not valid')")
        assert page.evaluate("sessionStorage.length") == 0
        screenshot(page, artifacts / "refused.png")
        page.evaluate(f"document.getElementById('key').value = {js(ns.auth)}")
        page.evaluate("document.getElementById('signin-button').click()")
        page.wait_for("!document.getElementById('app').hidden")
        assert page.evaluate("document.getElementById('who').textContent") == "namespace watched"
        assert page.evaluate("localStorage.length") == 0  # the key lives for the tab only

        with httpx.Client(
            base_url=f"{server.url}/api/v1/namespaces/_", auth=(ns.uuid, ns.key), timeout=60
        ) as api:
            action = {"exec": {"kind": "python:3.11", "code": CODE}}
            assert api.put("/actions/greeter", json=action).status_code == 200
            ids = [
                api.post("/actions/greeter?blocking=true", json={"say": n}).json()["activationId"]
                for n in range(2)
            ]
            trip = {"exec": {"kind": "python:3.11", "code": TRIP}}
            assert api.put("/actions/trip", json=trip).status_code == 200
            for _ in range(2):
                assert api.post("/actions/trip?blocking=true").status_code == 502
        row = f"document.querySelector('#activations tr[data-id={js(ids[0])}]')"
        page.wait_for(f"!!{row}")
        cells = page.evaluate(f"[...{row}.cells].map(c => c.textContent)")
        assert cells[1:3] == ["greeter", "success"] and cells[4] == "cold"
        second = f"document.querySelector('#activations tr[data-id={js(ids[1])}]')"
        page.wait_for(f"!!{second}")
        assert page.evaluate(f"{second}.cells[4].textContent") == "warm"

        page.evaluate(f"{row}.click()")
        page.wait_for(f"document.getElementById('detail-id').textContent === {js(ids[0])}")
        page.wait_for(f"document.getElementById('logs').textContent.includes({js(HOSTILE)})")
        record = json.loads(page.evaluate("document.getElementById('record').textContent"))
        assert record["activationId"] == ids[0] and record["response"]["result"] == {"said": 0}
        # The action's markup was shown as text: no element was made of it, nothing ran.
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert page.evaluate("window.pwned === undefined")

        chart = "document.querySelector('.chart[data-action=\"greeter\"]')"
        page.wait_for(f"!!{chart}")
        assert page.evaluate(f"{chart}.querySelectorAll('svg polyline').length") == 1
        assert page.evaluate(f"{chart}.querySelectorAll('.cold-mark').length") == 1
        assert page.evaluate(f"{chart}.querySelectorAll('.error-mark').length") == 0
        bars = "[...{}.querySelectorAll('.{}-bar')].reduce((n, b) => n + +b.dataset.count, 0)"
        assert page.evaluate(bars.format(chart, "cold")) == 1
        # An action that fails: its errors marked on its line and counted below it.
        tripped = "document.querySelector('.chart[data-action=\"trip\"]')"
        page.wait_for(f"!!{tripped} && {tripped}.querySelectorAll('.error-mark').length === 2")
        assert page.evaluate(bars.format(tripped, "error")) == 2
        assert page.evaluate(bars.format(tripped, "cold")) == 1
        usage = "document.querySelector('#usage tr[data-action=\"greeter\"]')"
        page.wait_for(f"!!{usage}", timeout=20)
        assert page.evaluate(f"{usage}.cells[1].textContent") == "2"
        # No price per GB-second on this server: no cost column.
        cost = "getComputedStyle(document.querySelector('#usage th.cost')).display"
        assert page.evaluate(cost) == "none"
        screenshot(page, artifacts / "dashboard.png")

        # Signed in across a reload of the tab, out after signing out.
        page.open(f"{server.url}/dashboard/")
        page.wait_for("!document.getElementById('app').hidden")
        page.evaluate("document.getElementById('signout').click()")
        page.wait_for(
            "document.readyState === 'complete' && !document.getElementById('signin').hidden"
        )
        assert page.evaluate("sessionStorage.length") == 0


def test_dashboard_serves_only_its_own_files(server: StandaloneServer) -> None:
    index = httpx.get(f"{server.url}/dashboard/", timeout=10)
    assert index.status_code == 200 and "<title>pywhisk dashboard</title>" in index.text
    assert "script-src 'self'" in index.headers["content-security-policy"]
    assert httpx.get(f"{server.url}/dashboard/dashboard.js", timeout=10).status_code == 200
    for path in ("/dashboard/..%2Fapp.py", "/dashboard/nothing.js", "/dashboard/app.py"):
        missing = httpx.get(f"{server.url}{path}", timeout=10)
        assert missing.status_code == 404, path
        assert set(missing.json()) == {"error", "code"}


def test_usage_has_a_cost_column_when_a_price_is_set(tmp_path: Path) -> None:
    price = 0.0000166667
    srv = StandaloneServer(tmp_path / "server", env={"PYWHISK_PRICE_PER_GB_SECOND": str(price)})
    srv.start()
    try:
        ns = srv.create_namespace("priced")
        with httpx.Client(
            base_url=f"{srv.url}/api/v1/namespaces/_", auth=(ns.uuid, ns.key), timeout=60
        ) as api:
            action = {"exec": {"kind": "python:3.11", "code": PAID}}
            assert api.put("/actions/paid", json=action).status_code == 200
            assert api.post("/actions/paid?blocking=true").status_code == 200
            billed = wait_until(
                lambda: api.get("/usage").json(),
                "the activation's record counted in usage",
                until=lambda usage: usage["total"]["invocations"] == 1,
            )
        with chromium() as page:
            page.open(f"{srv.url}/dashboard/")
            page.evaluate(f"document.getElementById('key').value = {js(ns.auth)}")
            page.evaluate("document.getElementById('signin-button').click()")
            row = "document.querySelector('#usage tr[data-action=\"paid\"]')"
            page.wait_for(f"!!{row}", timeout=20)
            cost = "getComputedStyle(document.querySelector('#usage th.cost')).display"
            assert page.evaluate(cost) != "none"
            cells = page.evaluate(f"[...{row}.cells].map(c => c.textContent)")
            (paid,) = billed["actions"]
            assert cells[1] == "1" and cells[5] == f"{paid['cost']:.8f}"
            total = "document.querySelector('#usage tr[data-action=\"total\"]').cells[5]"
            assert page.evaluate(f"{total}.textContent") == f"{billed['total']['cost']:.8f}"
    finally:
        srv.stop()
