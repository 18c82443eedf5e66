"""From an HTTP request to a web action's arguments (docs/openwhisk-compatibility.md §5, OW `WebActions.scala`).

The action gets the request's context as `__ow_method` (lower case), `__ow_headers`
(lower-cased names), `__ow_path` (what follows the action in the URL) and, when the caller
authenticated, `__ow_user`. Then, for an ordinary web action, the query parameters and the
body's fields as top-level arguments (body wins over query); a body that is not a JSON
object or form is passed whole as `__ow_body`. A raw action gets `__ow_query` and
`__ow_body` untouched instead. Callers may not set `__ow_*` themselves.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pywhisk.common import jsonio
from pywhisk.controller.api.web import media
from pywhisk.controller.core.errors import ApiError, malformed
from pywhisk.controller.core.invoke import NOT_ALLOWED

EXTENSIONS = ("http", "json", "html", "svg", "text")
RESERVED = frozenset(
    f"__ow_{field}" for field in ("method", "headers", "path", "user", "query", "body")
)
REQUIRE_AUTH_HEADER = "x-require-whisk-auth"


def split_extension(segment: str) -> tuple[str, str]:
    """`hello.json` → (`hello`, `json`); no known extension means `.http`, and an unknown
    one stays part of the name (so `hello.xyz` names an action that will not be found)."""
    for extension in EXTENSIONS:
        if segment.endswith("." + extension):
            return segment[: -len(extension) - 1], extension
    return segment, "http"


def header_text(raw: bytes) -> str:
    """A header value as text: UTF-8 when it is (what clients send today), else Latin-1."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@dataclass(frozen=True, slots=True)
class WebRequest:
    method: str  # as received, e.g. "POST"
    headers: Iterable[tuple[str, str]]  # in order; names in any case
    path: str  # the URL past the action: "" or "/extra/path"
    query: str  # the raw query string, without "?"
    body: bytes
    user: str | None = None  # the authenticated caller's namespace, if any

    def content_type(self) -> tuple[str, dict[str, str]]:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return media.split(value)
        return "", {}


def context(request: WebRequest) -> dict[str, Any]:
    """The `__ow_*` arguments every web action receives."""
    # Valid whisk credentials (they are what set `user`) stay out: the action, perhaps
    # another namespace's code, learns who called from `__ow_user`, never the caller's key
    # (OW forwards it; rules' actions do not get it here either).
    withheld = "authorization" if request.user is not None else None
    out: dict[str, Any] = {
        "__ow_method": request.method.lower(),
        # Repeated headers: the last one wins, as in OpenWhisk.
        "__ow_headers": {
            name.lower(): value for name, value in request.headers if name.lower() != withheld
        },
        "__ow_path": request.path,
    }
    if request.user is not None:
        out["__ow_user"] = request.user
    return out


def _opaque_body(request: WebRequest, media_type: str, params: dict[str, str]) -> str:
    # JSON is base64 here too: OpenWhisk's legacy behaviour, which raw actions rely on.
    if media_type == media.JSON or not media.is_text(
        media_type or "application/octet-stream", params
    ):
        return media.encode(request.body)
    return request.body.decode("utf-8", errors="replace")


def _body(request: WebRequest) -> Any:
    """The decoded body of an ordinary web action: a JSON value, a dict, a string, or None."""
    if not request.body:
        return None
    media_type, params = request.content_type()
    if media.is_json(media_type):
        if not request.body.strip():
            return None
        try:
            return jsonio.loads_bounded(request.body)
        except (jsonio.JSONDecodeError, jsonio.TooDeep) as e:
            raise malformed(str(e)) from None
    if media_type == media.FORM:
        text = request.body.decode("utf-8", errors="replace")
        return dict(parse_qsl(text, keep_blank_values=True))
    return _opaque_body(request, media_type, params)


def arguments(request: WebRequest, raw: bool) -> dict[str, Any]:
    """The action's arguments; 400 when the query or body would set a reserved `__ow_*` key."""
    args = context(request)
    if raw:
        media_type, params = request.content_type()
        args["__ow_query"] = request.query
        args["__ow_body"] = _opaque_body(request, media_type, params) if request.body else ""
        return args
    query = dict(parse_qsl(request.query, keep_blank_values=True))
    body = _body(request)
    fields = body if isinstance(body, dict) else {}
    if RESERVED.intersection(query) or RESERVED.intersection(fields):
        raise ApiError(400, NOT_ALLOWED)
    args.update(query)
    if isinstance(body, dict):
        args.update(body)
    elif body is not None:
        args["__ow_body"] = body
    return args


def payload(request: WebRequest, raw: bool = False) -> dict[str, Any]:
    """What a webhook's request says, as an ordinary web action would read it: query
    parameters < the body's fields, or the body whole as `__ow_body` when it is not a JSON
    object or a form. `raw`, as a raw web action reads it: `__ow_query` and `__ow_body`
    untouched (what a signature over the body is checked against)."""
    if raw:
        media_type, params = request.content_type()
        body = _opaque_body(request, media_type, params) if request.body else ""
        return {"__ow_query": request.query, "__ow_body": body}
    out: dict[str, Any] = dict(parse_qsl(request.query, keep_blank_values=True))
    body = _body(request)
    if isinstance(body, dict):
        out.update(body)
    elif body is not None:
        out["__ow_body"] = body
    return out


def authorized(require: Any, request: WebRequest) -> bool:
    """`require-whisk-auth`: true wants whisk credentials, a string or number wants the
    same value in `X-Require-Whisk-Auth`, absent or false lets everyone in."""
    if require is None or require is False:
        return True
    if require is True:
        return request.user is not None
    if isinstance(require, str | int | float):
        expected = jsonio.dumps_str(require) if not isinstance(require, str) else require
        for name, value in request.headers:
            if name.lower() == REQUIRE_AUTH_HEADER:
                # constant time: a secret must not be guessable byte by byte from timings
                return hmac.compare_digest(value.encode(), expected.encode())
    return False
