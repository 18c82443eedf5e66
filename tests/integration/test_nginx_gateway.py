"""The API gateway behind the cluster's nginx: deploy/nginx/nginx.conf as it is, but for its
upstream (the standalone server instead of the compose file's two controllers) and its
port, run by the machine's nginx. `wsk api create` goes through it, and so do the calls of
the route it prints, with the URL naming nginx's host; and the dashboard is served and signed
into through it, in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pywhisk.common.entities import Identity
from tests.support.actions import SHOW_TODO  # the same to-do action as the CLI tests
from tests.support.browser import chromium
from tests.support.polling import wait_until
from tests.support.prerequisites import program
from tests.support.server import StandaloneServer, free_port

WHERE = "def main(args):\n    return {'url': args['__ow_headers']['x-forwarded-url']}\n"
REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "deploy" / "nginx" / "nginx.conf"


@pytest.fixture
def nginx(server: StandaloneServer, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    text = CONF.read_text()
    text, upstreams = re.subn(r"server controller\d:3233[^;]*;", "", text)
    assert upstreams == 2
    text = text.replace("least_conn;", f"least_conn;\n        server 127.0.0.1:{server.port};")
    text = text.replace("listen 3233;", f"listen 127.0.0.1:{port};")
    (tmp_path / "nginx.conf").write_text(text)
    pid = tmp_path / "nginx.pid"
    log = tmp_path / "nginx.log"
    with open(log, "wb") as out:  # the child keeps its own copy of the fd
        process = subprocess.Popen(
            [
                program("nginx", "nginx-light"),
                *("-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")),
                *("-g", f"daemon off; pid {pid};"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def ping() -> str:
        assert process.poll() is None, log.read_text(errors="replace")  # no use waiting
        return httpx.get(f"{url}/ping", timeout=2).text

    try:
        wait_until(
            ping,
            "nginx to pass /ping on to the server",
            timeout=20,
            until=lambda answer: answer == "pong",
            ignoring=(httpx.TransportError,),
        )
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_an_api_route_through_nginx(nginx: str, tmp_path: Path, namespace: Identity) -> None:
    props = tmp_path / "nginx.wskprops"
    props.write_text(f"APIHOST={nginx}\nAUTH={namespace.auth}\n")
    env = {"WSK_CONFIG_FILE": str(props), "PATH": str(Path(shutil.which("wsk") or "").parent)}

    def run(*args: str) -> str:
        done = subprocess.run(
            ["wsk", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    (tmp_path / "show.py").write_text(SHOW_TODO)
    run("action", "create", "show-todo", "show.py", "--web", "true")
    made = run("api", "create", "/todos", "/{id}", "get", "show-todo", "--response-type", "http")
    route = made.strip().splitlines()[-1]
    assert route.startswith(f"{nginx}/api/") and route.endswith("/todos/{id}"), made
    answer = httpx.get(route.replace("{id}", "42"), timeout=90)
    assert answer.status_code == 200 and answer.text == "todo 42 /42"
    preflight = httpx.options(
        route.replace("{id}", "42"),
        headers={"Origin": "http://a.example", "Access-Control-Request-Method": "GET"},
        timeout=90,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"

    # the action is told the URL the caller used: nginx's, not the controller's
    (tmp_path / "where.py").write_text(WHERE)
    run("action", "create", "where", "where.py", "--web", "true")
    where = run("api", "create", "/todos", "/where", "get", "where").strip().splitlines()[-1]
    told = httpx.get(where, params={"a": "1"}, timeout=90)
    assert told.status_code == 200 and told.json() == {"url": f"{where}?a=1"}


def test_the_dashboard_through_nginx(nginx: str, namespace: Identity) -> None:
    # Redirected to the page at nginx's own address (a relative Location), under its CSP.
    root = httpx.get(f"{nginx}/dashboard", timeout=30)
    assert root.status_code == 308 and root.headers["location"] == "/dashboard/"
    page = httpx.get(f"{nginx}/dashboard/", timeout=30)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # The page's own 401 keeps no Basic challenge through nginx (no browser dialog).
    refused = httpx.get(
        f"{nginx}/api/v1/namespaces",
        auth=(namespace.uuid, "wrong"),
        headers={"X-Requested-With": "pywhisk-dashboard"},
        timeout=30,
    )
    assert refused.status_code == 401 and "www-authenticate" not in refused.headers
    with chromium() as browser:
        browser.open(f"{nginx}/dashboard/")
        browser.evaluate(f"document.getElementById('key').value = {json.dumps(namespace.auth)}")
        browser.evaluate("document.getElementById('signin-button').click()")
        browser.wait_for("!document.getElementById('app').hidden")
        who = browser.evaluate("document.getElementById('who').textContent")
        assert who == f"namespace {namespace.namespace}"
        total = "document.querySelector('#usage tr[data-action=\"total\"]')"
        browser.wait_for(f"!!{total}", timeout=20)  # the usage API answered through nginx
