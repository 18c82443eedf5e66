"""From a web action's result to the HTTP response its URL extension asks for (§5).

`.json` returns the result, `.html`/`.svg`/`.text` one property of it, and `.http` (the
default) lets the action write the response: `statusCode`, `headers` and `body`, where
a string body is text, or base64 when its content type is binary. A result that does
not fit its extension is the caller's 400 in OpenWhisk's words, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from pywhisk.common import jsonio
from pywhisk.controller.api.web import media
from pywhisk.controller.core.errors import ApiError

NOT_FOUND_PROPERTY = "Response does not include requested property."
UNKNOWN_CONTENT_TYPE = "Response did not specify a known content-type."
CONTENT_TYPE_MISMATCH = "Response type in header did not match generated content type."

Headers = list[tuple[str, str]]
# How the body is framed is the server's business: an action's own value would contradict
# the body actually sent (akka-http, under OpenWhisk, ignores them too).
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})
_NO_CONTENT = frozenset({204, 304})
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class WebResponse:
    status: int
    body: bytes = b""
    headers: Headers = field(default_factory=list)  # content-type included when there is a body


def not_valid(media_type: str) -> ApiError:
    return ApiError(400, f"Response is not valid '{media_type}'.")


def _pretty(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return _pretty(value).decode()
    return jsonio.dumps_str(value)  # numbers, true/false, null as JSON spells them


def _property(result: Any, *names: str) -> tuple[bool, Any]:
    """OW's projection: an object's first present property of `names`, else the result."""
    if not isinstance(result, dict):
        return True, result
    for name in names:
        if name in result:
            return True, result[name]
    return False, None


def as_json(result: Any) -> WebResponse:
    if not isinstance(result, dict | list):
        raise not_valid(media.JSON)
    return WebResponse(200, jsonio.dumps(result), [("content-type", media.JSON)])


def _markup(result: Any, name: str, content_type: str, media_type: str) -> WebResponse:
    _, value = _property(result, "body", name)
    if not isinstance(value, str):
        raise not_valid(media_type)
    return WebResponse(200, value.encode(), [("content-type", content_type)])


def as_html(result: Any) -> WebResponse:
    return _markup(result, "html", "text/html; charset=UTF-8", "text/html")


def as_svg(result: Any) -> WebResponse:
    return _markup(result, "svg", "image/svg+xml", "image/svg+xml")


def as_text(result: Any) -> WebResponse:
    found, value = _property(result, "body", "text")
    if not found:
        raise ApiError(404, NOT_FOUND_PROPERTY)
    return WebResponse(200, _text(value).encode(), [("content-type", "text/plain; charset=UTF-8")])


def _header_values(value: Any) -> list[str]:
    if isinstance(value, str):
        values = [value]
    elif isinstance(value, bool | int | float):
        values = [jsonio.dumps_str(value)]
    elif isinstance(value, list):
        values = [v for item in value for v in _header_values(item)]
    else:
        raise not_valid("message/http")
    # CR/LF would split the response; other control characters (tab aside) no HTTP server
    # sends: uvicorn drops the connection on them, leaving the caller no answer at all
    if any(_CONTROL.search(v) for v in values):
        raise not_valid("message/http")
    return values


def _headers(result: dict[str, Any]) -> Headers:
    if "headers" not in result:
        return []
    given = result["headers"]
    if not isinstance(given, dict):
        raise not_valid("message/http")
    out: Headers = []
    for name, value in given.items():
        if not media.is_token(name):
            raise not_valid("message/http")
        values = _header_values(value)
        if name.lower() not in _FRAMING:
            out.extend((name, v) for v in values)
    return out


def _status(result: dict[str, Any]) -> int | None:
    if "statusCode" not in result:
        return None
    code = result["statusCode"]
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        code = int(code)
    elif isinstance(code, float) and code.is_integer():
        code = int(code)
    # 1xx are interim answers, not a response (101 would switch the connection's protocol)
    if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599:
        raise not_valid("message/http")
    return code


def _content_type(headers: Headers) -> str | None:
    for name, value in headers:
        if name.lower() == "content-type":
            return value
    return None


def _without_content_type(headers: Headers) -> Headers:
    return [(name, value) for name, value in headers if name.lower() != "content-type"]


def _string_body(status: int, headers: Headers, body: str) -> WebResponse:
    declared = _content_type(headers) or "text/html"
    media_type, params = media.split(declared)
    if not media.is_valid(media_type):
        raise ApiError(400, UNKNOWN_CONTENT_TYPE)
    data: bytes | None
    if not media.is_text(media_type, params) or (
        media.is_json(media_type) and media.looks_base64(body)
    ):
        # binary content, or legacy base64-encoded JSON: the string is base64
        data = media.decode(body.strip() if media.is_json(media_type) else body)
        if data is None:
            raise ApiError(400, CONTENT_TYPE_MISMATCH)
        content_type = declared
    else:
        data = body.encode()
        content_type = declared if "charset" in params else f"{declared}; charset=UTF-8"
    return WebResponse(
        status, data, [*_without_content_type(headers), ("content-type", content_type)]
    )


def _json_body(status: int, headers: Headers, body: Any) -> WebResponse:
    declared = _content_type(headers)
    media_type, _ = media.split(declared or media.JSON)
    if media_type == media.JSON:
        data, content_type = jsonio.dumps(body), media.JSON
    elif media.is_json(media_type):
        data, content_type = _pretty(body), media_type
    else:
        raise ApiError(400, CONTENT_TYPE_MISMATCH)
    return WebResponse(
        status, data, [*_without_content_type(headers), ("content-type", content_type)]
    )


def as_http(result: Any) -> WebResponse:
    if not isinstance(result, dict):
        raise not_valid("message/http")
    headers = _headers(result)
    status = _status(result)
    body = result.get("body")
    if status in _NO_CONTENT:
        body = None  # by definition without content: a body would break the framing
    if isinstance(body, str) and body:
        return _string_body(status or 200, headers, body)
    if body is None or body == "":
        # no entity: a content type would describe nothing
        return WebResponse(status or 204, b"", _without_content_type(headers))
    return _json_body(status or 200, headers, body)


SHAPERS = {"http": as_http, "json": as_json, "html": as_html, "svg": as_svg, "text": as_text}


def shape(result: Any, extension: str) -> WebResponse:
    return SHAPERS[extension](result)
