"""examples/chat-bot: a Python web action answering Telegram-style updates (real HTTP)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

Wsk = Callable[..., subprocess.CompletedProcess[str]]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "chat-bot"
SECRET = "k3Jd9-test-secret"


def update(text: str | None, update_id: int = 1) -> dict[str, Any]:
    sample: dict[str, Any] = json.loads((EXAMPLE / "update.json").read_text())
    sample["update_id"] = update_id
    if text is None:
        del sample["message"]["text"]
        sample["message"]["sticker"] = {"file_id": "x"}
    else:
        sample["message"]["text"] = text
    return sample


def test_chat_bot(wsk: Wsk) -> None:
    wsk(
        "action",
        "create",
        "telegram",
        "bot.py",
        "--web",
        "true",
        "-p",
        "secret_token",
        SECRET,
        cwd=EXAMPLE,
    )
    url = wsk("action", "get", "telegram", "--url").stdout.splitlines()[-1]
    telegram = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    with httpx.Client(timeout=60) as client:

        def send(text: str | None, **extra: Any) -> httpx.Response:
            return client.post(url, json={**update(text), **extra}, headers=telegram)

        started = send("/start")
        assert started.status_code == 200
        assert started.headers["content-type"] == "application/json"
        assert started.json() == {
            "method": "sendMessage",
            "chat_id": 1111111,
            "reply_to_message_id": 1365,
            "text": "Hello Ada! Send /help to see what I can do.",
        }
        assert send("/help@ExampleBot").json()["text"].startswith("I know these commands:")
        assert send("/echo hi there").json()["text"] == "hi there"
        assert send("/reverse stressed").json()["text"] == "desserts"
        assert send("/dance").json()["text"] == "I do not know /dance. Send /help for the list."
        assert send("good morning").json()["text"] == "You said: good morning"

        sticker = send(None)
        assert (sticker.status_code, sticker.content) == (200, b"")

        forged = client.post(url, json=update("/start"))
        assert (forged.status_code, forged.json()) == (
            403,
            {"error": "wrong or missing secret token"},
        )
        # the secret is a final parameter: an update cannot bring its own
        overriding = send("/start", secret_token="mine")
        assert overriding.status_code == 400
        assert overriding.json()["error"] == (
            "Request defines parameters that are not allowed (e.g., reserved properties)."
        )
        looked_at = client.get(url, headers=telegram)
        assert (looked_at.status_code, looked_at.headers["allow"]) == (405, "POST")
