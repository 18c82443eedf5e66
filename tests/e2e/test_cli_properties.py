"""The real `wsk` configuration commands, namespaces and connection/auth failures."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

Wsk = Callable[..., subprocess.CompletedProcess[str]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_property_get_shows_the_configuration(wsk: Wsk, wskprops: Path) -> None:
    props = dict(line.split("=", 1) for line in wskprops.read_text().splitlines() if "=" in line)
    assert wsk("property", "get", "--apihost").stdout == f"whisk API host\t\t{props['APIHOST']}\n"
    assert wsk("property", "get", "--auth", "-o", "raw").stdout == f"{props['AUTH']}\n"
    everything = wsk("property", "get").stdout
    assert f"whisk auth\t\t{props['AUTH']}\n" in everything
    assert "whisk API version\tv1\n" in everything
    assert re.search(r"^whisk namespace\t\t\S+$", everything, re.MULTILINE)
    assert re.search(r"^whisk CLI version\t\S+$", everything, re.MULTILINE)


def test_namespace_list_names_the_callers_namespace(wsk: Wsk) -> None:
    listed = wsk("namespace", "list").stdout.splitlines()
    assert listed[0] == "namespaces"
    assert len(listed) == 2
    namespace = wsk("property", "get", "--namespace", "-o", "raw").stdout.strip()
    assert listed[1] == namespace


def test_property_set_and_unset(wsk: Wsk, wskprops: Path) -> None:
    assert wsk("property", "set", "--apiversion", "v1").stdout == (
        "ok: whisk API version set to v1\n"
    )
    assert "APIVERSION=v1" in wskprops.read_text()
    assert wsk("property", "unset", "--auth").stdout == "ok: whisk auth unset.\n"
    unauthorized = wsk("action", "list", check=False)
    assert unauthorized.returncode == 2
    assert "Authorization key is not configured (--auth is required)" in unauthorized.stderr
    assert "wsk property set --auth" in unauthorized.stderr


def test_wrong_key_is_unauthorized(wsk: Wsk) -> None:
    bad = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:" + "x" * 64
    denied = wsk("action", "list", "-u", bad, check=False)
    assert denied.returncode == 145  # 401 - 256
    assert denied.stderr.startswith("error: Unable to obtain the list of actions for namespace")


def test_connection_refused_names_the_host(wsk: Wsk) -> None:
    host = f"http://127.0.0.1:{free_port()}"
    refused = wsk("action", "list", "--apihost", host, check=False)
    assert refused.returncode == 3
    assert f"Unable to reach the API host '{host}'" in refused.stderr
    assert "wsk property set --apihost HOST" in refused.stderr
