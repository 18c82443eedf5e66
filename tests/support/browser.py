"""Headless Chromium driven over the DevTools protocol, for tests that need a real browser
(CORS preflights, the DOM a page builds).

The protocol is a websocket of JSON commands; the three used here (`Page.navigate`,
`Runtime.evaluate` with `awaitPromise`, and waiting by polling an expression) are all a
page test needs, so this takes the `websockets` client the server stack already brings
instead of selenium plus a chromedriver matched to the browser. The browser is started
with everything that would call out (component updates, sync, metrics) turned off, so its
only traffic is to the loopback pages a test opens.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from tests.support.polling import wait_until

FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests run as root, where Chromium's own sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-default-browser-check",
    "--no-first-run",
    "--remote-debugging-port=0",
)


class BrowserError(Exception):
    pass


class Page:
    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:  # events arrive in between; only our answer matters
            message = json.loads(self._socket.recv(timeout=60))
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return dict(message.get("result") or {})

    def evaluate(self, expression: str) -> Any:
        """The expression's value (awaited when it is a promise), as JSON."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def open(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll until the expression is truthy; its value."""

        def evaluated() -> Any:
            try:
                return self.evaluate(expression)
            except BrowserError as exc:
                # A page that reloads itself (signing out) drops an evaluation under way:
                # ask the new page.
                if "navigated or closed" not in str(exc):
                    raise
                return None

        return wait_until(evaluated, f"the page's {expression}", timeout=timeout, interval=0.05)


def _debugger_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    active = profile / "DevToolsActivePort"

    def written() -> str:
        if process.poll() is not None:  # no use waiting: say why at once
            raise BrowserError(f"chromium exited with {process.returncode}")
        return active.read_text().strip() if active.exists() else ""

    port = wait_until(written, f"chromium's DevTools port in {active}", interval=0.05)
    return int(port.split()[0])


@contextmanager
def chromium() -> Iterator[Page]:
    """A headless Chromium with one blank page to drive."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise BrowserError("chromium is not installed (apt-get install chromium)")
    profile = Path(tempfile.mkdtemp(prefix="chromium-"))
    command = [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port = _debugger_port(profile, process)
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(t for t in targets if t.get("type") == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            yield Page(socket)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)
