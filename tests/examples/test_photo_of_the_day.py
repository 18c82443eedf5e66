"""examples/photo-of-the-day: an alarm trigger and a rule run the render action, which reads
a photo API (a local stub here) and rewrites the static page whenever a new photo appears."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.examples import host_files_server, run_deploy, shared_dir
from tests.support.polling import wait_until
from tests.support.rest import records
from tests.support.server import StandaloneServer
from tests.support.static_site import serving, static_site

__all__ = ["host_files_server", "shared_dir"]  # the fixtures, used below


@pytest.fixture(scope="module")
def server(host_files_server: StandaloneServer) -> StandaloneServer:
    """The example keeps its state in the host's files: a server without the sandbox."""
    return host_files_server


@contextmanager
def photo_api(photos: list[dict[str, Any]]) -> Iterator[str]:
    """The photo list as JSON on a loopback port, read afresh at every request."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(photos).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        yield f"{url}/photos"


def test_the_page_follows_the_photos(
    wskprops: Path, api: httpx.Client, shared_dir: Path, wsk: Any
) -> None:
    photos = [
        {"date": "2026-11-28", "title": "Fog on the Elbe", "url": "/img/332.jpg"},
        {"date": "2026-11-29", "title": "Rob's <b>bike</b>", "url": "/img/333.jpg"},
    ]
    with photo_api(photos) as photo_url, static_site(shared_dir) as site:
        output = run_deploy(
            wskprops, "photo-of-the-day", photo_url, str(shared_dir), "*/2 * * * * *"
        )
        assert "ok: created trigger photo-tick\n" in output
        assert "ok: updated rule photo-tick-render\n" in output
        page = shared_dir / "index.html"
        wait_until(page.exists, f"the first render's {page}")
        first = httpx.get(f"{site}/index.html").text
        assert '<img src="/img/333.jpg" alt="Rob&#x27;s &lt;b&gt;bike&lt;/b&gt;">' in first
        assert "2026-11-29: Rob&#x27;s &lt;b&gt;bike&lt;/b&gt;" in first
        assert "<h2>Earlier (1 days)</h2>" in first and "/img/332.jpg" in first

        # Nothing new: the page is left alone, run after run.
        written = page.stat().st_mtime_ns
        wait_until(
            lambda: records(api, "photo365/render"),
            "three renders",
            until=lambda rs: len(rs) >= 3,
        )
        assert page.stat().st_mtime_ns == written
        assert records(api, "photo365/render")[0]["response"]["result"] == {
            "updated": False,
            "photos": 2,
            "today": "2026-11-29",
        }

        photos.append({"date": "2026-11-30", "title": "The talk", "url": "/img/334.jpg"})
        wait_until(
            page.read_text, "the new photo on the page", until=lambda html: "/img/334.jpg" in html
        )
        latest = httpx.get(f"{site}/index.html").text
        assert '<figure id="today"><img src="/img/334.jpg" alt="The talk">' in latest
        assert "<h2>Earlier (2 days)</h2>" in latest

    assert wsk("trigger", "delete", "photo-tick").stdout.endswith(
        "ok: deleted trigger photo-tick\n"
    )
