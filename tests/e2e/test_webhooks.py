"""Webhooks (a pywhisk extension): a per-trigger URL with a secret fires the trigger without
credentials; created, rotated and revoked with the real `wsk`, called over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from pywhisk.common.entities import Identity
from tests.support.rest import wait_for_record
from tests.support.server import StandaloneServer

Wsk = Callable[..., subprocess.CompletedProcess[str]]

ECHO = "def main(args):\n    return args\n"


def setup(wsk: Wsk, tmp_path: Path) -> str:
    """Trigger `paid` with a rule to `echo`, and its webhook URL."""
    path = tmp_path / "echo.py"
    path.write_text(ECHO)
    wsk("action", "create", "echo", str(path))
    wsk("trigger", "create", "paid", "-p", "source", "gateway")
    wsk("rule", "create", "r", "paid", "echo")
    created = wsk("trigger", "webhook", "paid")
    header, url = created.stdout.splitlines()
    assert header == "ok: created webhook for trigger paid"
    return url


def ran_with(api: httpx.Client, answer: httpx.Response) -> dict[str, Any]:
    """What the rule's action got from the fire that `answer` reports."""
    assert answer.status_code == 202, answer.text
    record = wait_for_record(api, answer.json()["activationId"])
    line = json.loads(record["logs"][0])
    return wait_for_record(api, line["activationId"])["response"]["result"]  # type: ignore[no-any-return]


def count(api: httpx.Client) -> int:
    return int(api.get("/namespaces/_/activations", params={"count": "true"}).json()["activations"])


def test_webhook_fires_as_the_owner(
    wsk: Wsk, api: httpx.Client, namespace: Identity, server: StandaloneServer, tmp_path: Path
) -> None:
    url = setup(wsk, tmp_path)
    ns = namespace.namespace
    assert url.startswith(f"{server.url}/api/v1/webhooks/{ns}/paid/")
    with httpx.Client(timeout=30) as outside:  # no credentials at all
        answer = outside.post(url, json={"amount": 42}, headers={"Stripe-Signature": "t=1"})
        args = ran_with(api, answer)
        assert answer.headers["x-openwhisk-activation-id"] == answer.json()["activationId"]
        assert (args["source"], args["amount"]) == ("gateway", 42)
        assert args["__ow_headers"]["stripe-signature"] == "t=1"
        # Forms and query strings are read as a web action reads them.
        args = ran_with(api, outside.post(url + "?order=7", data={"status": "paid"}))
        assert (args["order"], args["status"]) == ("7", "paid")
        args = ran_with(api, outside.post(url, json=[1, 2]))
        assert args["__ow_body"] == [1, 2]

        # The trigger's JSON is OpenWhisk's: nothing of the webhook shows.
        assert "webhook" not in api.get("/namespaces/_/triggers/paid").json()
        assert api.get("/namespaces/_/triggers/paid/webhook").json().keys() == {"created"}

        # The store keeps the secret's SHA-256 only.
        secret = url.rsplit("/", 1)[1]
        with sqlite3.connect(server.data_dir / "pywhisk.db") as db:
            stored = "\n".join(str(row) for row in db.execute("SELECT * FROM entities"))
        assert secret not in stored
        assert hashlib.sha256(secret.encode()).hexdigest() in stored

        big = outside.post(url, content=b"{" + b" " * (1024 * 1024) + b"}")
        assert big.status_code == 413


def test_wrong_rotated_and_revoked_secrets_fire_nothing(
    wsk: Wsk, api: httpx.Client, namespace: Identity, server: StandaloneServer, tmp_path: Path
) -> None:
    url = setup(wsk, tmp_path)
    base, _, secret = url.rpartition("/")
    ns = namespace.namespace
    with httpx.Client(timeout=30) as outside:
        before = count(api)
        for wrong in (
            f"{base}/{secret[:-1]}x",
            f"{base}/{secret}x",
            f"{server.url}/api/v1/webhooks/{ns}/nope/{secret}",
            f"{server.url}/api/v1/webhooks/nobody{time.monotonic_ns()}/paid/{secret}",
        ):
            refused = outside.post(wrong, json={"amount": 1})
            assert refused.status_code == 401, wrong
            assert refused.json()["error"] == "The supplied authentication is invalid."
            assert refused.json()["code"]
        assert outside.post(f"{base}/", json={}).status_code == 404  # no secret, no route

        again = wsk("trigger", "webhook", "paid", check=False)
        assert again.returncode == 153  # 409: an accidental second call does not rotate
        assert "has a webhook already" in again.stderr

        rotated = wsk("trigger", "webhook", "paid", "--rotate").stdout.splitlines()
        assert rotated[0] == "ok: rotated webhook for trigger paid"
        new_url = rotated[1]
        assert new_url != url
        assert outside.post(url, json={}).status_code == 401
        time.sleep(1)
        assert count(api) == before  # nothing of the above fired
        ran_with(api, outside.post(new_url, json={"after": "rotate"}))

        assert wsk("trigger", "webhook", "paid", "--revoke").stdout == (
            "ok: revoked webhook for trigger paid\n"
        )
        after = count(api)
        assert outside.post(new_url, json={}).status_code == 401
        assert api.get("/namespaces/_/triggers/paid/webhook").status_code == 404
        gone = wsk("trigger", "webhook", "paid", "--revoke", check=False)
        assert gone.returncode == 148
        time.sleep(1)
        assert count(api) == after

        # Deleting the trigger takes its webhook along: a trigger re-created by the same
        # name does not answer the old URL.
        url = wsk("trigger", "webhook", "paid").stdout.splitlines()[1]
        wsk("trigger", "delete", "paid")
        wsk("trigger", "create", "paid")
        assert outside.post(url, json={}).status_code == 401
        # Without an active rule, a webhook answers 204 like a fire.
        url = wsk("trigger", "webhook", "paid").stdout.splitlines()[1]
        assert outside.post(url, json={}).status_code == 204


VERIFY = """import base64, hashlib, hmac, json

def main(args):
    body = base64.b64decode(args["__ow_body"])
    given = args["__ow_headers"].get("x-signature", "")
    expected = hmac.new(args["signing_key"].encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given, expected):
        return {"error": "bad signature"}
    return {"verified": True, "amount": json.loads(body)["amount"]}
"""


def test_a_raw_webhook_lets_the_action_check_a_signature(
    wsk: Wsk, api: httpx.Client, tmp_path: Path
) -> None:
    """A gateway signs the exact bytes it sends: with `raw-http` on the trigger the action
    gets them untouched, as a raw web action would."""
    path = tmp_path / "verify.py"
    path.write_text(VERIFY)
    wsk("action", "create", "verify", str(path), "-p", "signing_key", "whsec_test")
    wsk("trigger", "create", "paid", "-a", "raw-http", "true")
    wsk("rule", "create", "check", "paid", "verify")
    url = wsk("trigger", "webhook", "paid").stdout.splitlines()[1]
    body = b'{"amount": 42,  "currency": "EUR"}'  # spacing a re-encoding would lose
    signature = hmac.new(b"whsec_test", body, hashlib.sha256).hexdigest()
    with httpx.Client(timeout=30) as outside:
        headers = {"Content-Type": "application/json", "X-Signature": signature}
        answer = outside.post(url + "?attempt=1", content=body, headers=headers)
        result = ran_with(api, answer)
        assert (result["verified"], result["amount"]) == (True, 42)
        headers["X-Signature"] = "0" * 64
        forged = ran_with(api, outside.post(url, content=body, headers=headers))
    assert forged == {"error": "bad signature"}
