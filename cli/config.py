"""The `.wskprops` file and the properties resolved from it, the environment and flags.

Precedence follows openwhisk-cli: defaults < properties file < ``WHISK_*`` environment
variables < command-line flags. The file is ``$WSK_CONFIG_FILE`` when that variable exists
(even empty: then no file is read, as wsk does), else ``~/.wskprops``.

``NAMESPACE`` is read and written as older wsk releases did (current wsk dropped it and
always sends ``_``); names without a namespace resolve against it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

DEFAULT_PROPS_FILE = "~/.wskprops"
DEFAULT_API_VERSION = "v1"
DEFAULT_NAMESPACE = "_"
API_PATH = "/api"

# wsk reads these variables after the file; they beat the file but not flags.
ENV_OVERRIDES = {
    "WHISK_AUTH": "AUTH",
    "WHISK_APIHOST": "APIHOST",
    "WHISK_APIVERSION": "APIVERSION",
    "WHISK_NAMESPACE": "NAMESPACE",
}

_COMMENT = re.compile(r"#.*")


# The `wsk` start-up path defines its value types as NamedTuples or plain classes: a
# dataclass costs several times more to define, in every process.
class Properties(NamedTuple):
    """Everything a command needs to know about where and as whom to talk."""

    props_file: str
    auth: str = ""
    apihost: str = ""
    apiversion: str = DEFAULT_API_VERSION
    namespace: str = DEFAULT_NAMESPACE
    cert: str = ""
    key: str = ""
    namespace_configured: bool = False  # NAMESPACE came from the file or environment


def props_file_path(env: Mapping[str, str]) -> str:
    if "WSK_CONFIG_FILE" in env:
        return env["WSK_CONFIG_FILE"]
    return os.path.expanduser(DEFAULT_PROPS_FILE)


def parse_props(text: str) -> dict[str, str]:
    """``KEY=value`` lines; ``#`` starts a comment anywhere; malformed lines are skipped."""
    props: dict[str, str] = {}
    for raw in text.splitlines():
        line = _COMMENT.sub("", raw).strip()
        key, sep, value = line.partition("=")
        # wsk splits on every "=" and drops lines with more than one; we keep the value
        # whole so base64-padded keys survive.
        if not sep or not key.strip():
            continue
        props[key.strip()] = value.strip()
    return props


def read_props(path: str) -> dict[str, str]:
    """The file's properties; a missing or unreadable file is an empty one, as in wsk."""
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_props(handle.read())
    except (OSError, UnicodeDecodeError):
        return {}


def render_props(existing_text: str, props: Mapping[str, str]) -> str:
    """Rewrite a properties file: update keys in place, drop removed ones, append new ones.

    Comments and blank lines are kept (wsk rewrites the file from its map and loses them).
    """
    remaining = dict(props)
    lines: list[str] = []
    for raw in existing_text.splitlines():
        key, sep, _ = _COMMENT.sub("", raw).strip().partition("=")
        key = key.strip()
        if not sep or not key:
            lines.append(raw)
        elif key in remaining:
            lines.append(f"{key}={remaining.pop(key)}")
        # else: the key was unset; drop its line
    lines.extend(f"{key.upper()}={value}" for key, value in remaining.items())
    return "".join(f"{line}\n" for line in lines)


def write_props(path: str, props: Mapping[str, str]) -> None:
    try:
        with open(path, encoding="utf-8") as handle:
            existing = handle.read()
    except (OSError, UnicodeDecodeError):
        existing = ""
    text = render_props(existing, props)
    # The file holds a credential: create it private (wsk uses 0666 & umask).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def load_properties(env: Mapping[str, str]) -> Properties:
    path = props_file_path(env)
    values = read_props(path) if path else {}
    for variable, key in ENV_OVERRIDES.items():
        if env.get(variable):
            values[key] = env[variable]
    apihost = values.get("APIHOST", "")
    namespace = values.get("NAMESPACE", "")
    return Properties(
        props_file=path,
        auth=values.get("AUTH", ""),
        # wsk trims trailing slashes from the file's host so URLs join cleanly
        apihost=apihost.rstrip("/"),
        apiversion=values.get("APIVERSION") or DEFAULT_API_VERSION,
        namespace=namespace or DEFAULT_NAMESPACE,
        cert=values.get("CERT", ""),
        key=values.get("KEY", ""),
        namespace_configured=bool(namespace),
    )


def with_overrides(
    props: Properties,
    *,
    auth: str | None = None,
    apihost: str | None = None,
    apiversion: str | None = None,
    cert: str | None = None,
    key: str | None = None,
) -> Properties:
    """Apply command-line flags; empty values leave the property alone, as in wsk."""
    return props._replace(
        auth=auth or props.auth,
        apihost=apihost or props.apihost,
        apiversion=apiversion or props.apiversion,
        cert=cert or props.cert,
        key=key or props.key,
    )


def url_base(apihost: str, path: str = API_PATH) -> str:
    """``whisk.GetURLBase``: a bare host means https, e.g. ``localhost:3233`` ->
    ``https://localhost:3233/api``; hosts starting with ``http`` are used as given."""
    if not apihost:
        raise ValueError("An API host must be provided.")
    apihost = apihost.rstrip("/")
    host = apihost if apihost.startswith("http") else f"https://{apihost}"
    base = f"{host}{path}"
    parts = urlsplit(base)
    if not parts.scheme or not parts.netloc:
        base = f"https://{host}{path}"
    return base
