"""examples/contact-form: a static page's form posts to a PHP web action (real HTTP)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import httpx

from tests.support.polling import wait_until
from tests.support.static_site import static_site

Wsk = Callable[..., subprocess.CompletedProcess[str]]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "contact-form"
SHIPPED_ACTION_URL = "http://127.0.0.1:3233/api/v1/web/guest/default/contact"


class FormReader(HTMLParser):
    """What a browser takes from the page: the form's method, action and field names."""

    def __init__(self) -> None:
        super().__init__()
        self.method = ""
        self.action = ""
        self.fields: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.method, self.action = found.get("method") or "", found.get("action") or ""
        elif tag in ("input", "textarea") and found.get("name"):
            self.fields.append(str(found["name"]))


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def activation_logs(wsk: Wsk, activation_id: str) -> str:
    done = wait_until(
        lambda: wsk("activation", "logs", activation_id, check=False),
        f"the logs of {activation_id}",
        interval=0.2,
        until=lambda done: done.returncode == 0 and done.stdout.strip(),
    )
    return done.stdout


def test_contact_form(wsk: Wsk, tmp_path: Path) -> None:
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    for name in ("index.html", "thanks.html"):
        shutil.copy(EXAMPLE / name, site_dir / name)
    with static_site(site_dir) as site:
        wsk(
            "action", "create", "contact", "contact.php", "--web", "true",
            "-p", "thanks_url", f"{site}/thanks.html",
            "-p", "form_url", f"{site}/index.html",
            cwd=EXAMPLE,
        )  # fmt: skip
        action_url = wsk("action", "get", "contact", "--url").stdout.splitlines()[-1]
        # the deploy step of the README: the form posts to the URL wsk printed
        index = site_dir / "index.html"
        assert SHIPPED_ACTION_URL in index.read_text()
        index.write_text(index.read_text().replace(SHIPPED_ACTION_URL, action_url))

        with httpx.Client(timeout=60) as browser:
            page = browser.get(f"{site}/index.html")
            assert page.status_code == 200
            form = read_form(page.text)
            assert (form.method, form.action) == ("post", action_url)
            assert form.fields == ["name", "email", "message", "website"]

            filled = {"name": "Ada", "email": "ada@example.org", "message": "Hello & bye"}
            sent = browser.post(form.action, data={**filled, "website": ""})
            assert sent.status_code == 303
            assert sent.headers["location"] == f"{site}/thanks.html"
            thanks = browser.get(sent.headers["location"])
            assert thanks.status_code == 200 and "Thank you" in thanks.text
            logged = activation_logs(wsk, sent.headers["x-openwhisk-activation-id"])
            assert json.dumps({"contact": filled}, separators=(",", ":")) in logged

            wrong = browser.post(
                form.action, data={"name": "", "email": "nope", "message": "<b>hi</b>"}
            )
            assert wrong.status_code == 400
            assert wrong.headers["content-type"] == "text/html; charset=UTF-8"
            assert "<li>Please tell us your name.</li>" in wrong.text
            assert "<li>Please give an email address we can answer to.</li>" in wrong.text
            assert f'<a href="{site}/index.html">' in wrong.text

            robot = browser.post(form.action, data={**filled, "website": "http://spam"})
            assert robot.status_code == 400 and "looks automated" in robot.text

            # a visitor cannot redirect the form elsewhere: parameters are final
            hijack = browser.post(form.action, data={**filled, "thanks_url": "http://evil"})
            assert hijack.status_code == 400

            refused = browser.get(form.action)
            assert (refused.status_code, refused.headers["allow"]) == (405, "POST")
