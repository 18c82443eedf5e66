"""Content types as web actions see them: JSON or not, text or bytes, and base64 (§5).

Text travels to and from actions as a string; bytes travel as base64. OpenWhisk asks
akka-http's media type table; we decide by rule: `text/*`, the JSON and XML families,
form data, JavaScript and anything that names a charset are text, all else is bytes.
"""

from __future__ import annotations

import base64
import binascii
import re

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"\A({_TOKEN})/({_TOKEN})\Z")
_TOKEN_ONLY = re.compile(rf"\A{_TOKEN}\Z")
_TEXT_APPLICATION = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/ecmascript",
        "application/x-www-form-urlencoded",
        "application/graphql",
        "image/svg+xml",
    }
)
# OW Exec.isBinaryCode: what a legacy JSON-typed base64 body looks like.
_BASE64_TEXT = re.compile(
    r"\A(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)\Z"
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def split(content_type: str | None) -> tuple[str, dict[str, str]]:
    """`Type/Sub; k=v` → (`type/sub` lower-cased, {k: v}); ("", {}) when absent."""
    if not content_type:
        return "", {}
    head, *rest = content_type.split(";")
    params: dict[str, str] = {}
    for item in rest:
        key, sep, value = item.partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return head.strip().lower(), params


def is_token(text: str) -> bool:
    """A header name (RFC 9110 token)."""
    return bool(_TOKEN_ONLY.match(text))


def is_valid(media_type: str) -> bool:
    return bool(_MEDIA_TYPE.match(media_type))


def is_json(media_type: str) -> bool:
    return media_type == JSON or media_type.endswith("+json")


def is_text(media_type: str, params: dict[str, str] | None = None) -> bool:
    if params and "charset" in params:
        return True
    return (
        media_type.startswith(("text/", "multipart/"))
        or media_type in _TEXT_APPLICATION
        or media_type.endswith(("+json", "+xml"))
    )


def looks_base64(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and bool(_BASE64_TEXT.match(stripped))


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode(text: str) -> bytes | None:
    """Strict base64 (no whitespace, padding required, as Java's basic decoder); None if not."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
