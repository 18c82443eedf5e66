"""A web request becomes the action's arguments as OpenWhisk builds them (§5)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from pywhisk.controller.api.web.request import (
    WebRequest,
    arguments,
    authorized,
    context,
    header_text,
    split_extension,
)
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.invoke import NOT_ALLOWED


def request(
    body: bytes = b"",
    content_type: str | None = None,
    query: str = "",
    method: str = "POST",
    user: str | None = None,
    **headers: str,
) -> WebRequest:
    pairs = [("Host", "example.org"), *((k.replace("_", "-"), v) for k, v in headers.items())]
    if content_type is not None:
        pairs.append(("Content-Type", content_type))
    return WebRequest(method, pairs, "/extra/path", query, body, user)


def without_context(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if k not in ("__ow_method", "__ow_headers", "__ow_path")}


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("hello", ("hello", "http")),
        ("hello.json", ("hello", "json")),
        ("hello.http", ("hello", "http")),
        ("a.b.svg", ("a.b", "svg")),
        ("hello.text", ("hello", "text")),
        ("hello.html", ("hello", "html")),
        ("hello.xyz", ("hello.xyz", "http")),  # unknown: part of the name
    ],
)
def test_extension(segment: str, expected: tuple[str, str]) -> None:
    assert split_extension(segment) == expected


def test_context_is_lower_cased_and_user_only_when_authenticated() -> None:
    args = arguments(request(method="PATCH", X_Custom="v"), raw=False)
    assert args["__ow_method"] == "patch"
    assert args["__ow_headers"] == {"host": "example.org", "x-custom": "v"}
    assert args["__ow_path"] == "/extra/path"
    assert "__ow_user" not in args
    assert arguments(request(user="alice"), raw=False)["__ow_user"] == "alice"


def test_query_and_json_object_body_are_promoted_body_wins() -> None:
    args = arguments(request(b'{"a": 1, "b": [2]}', "application/json", "a=q&c=3"), raw=False)
    assert without_context(args) == {"a": 1, "b": [2], "c": "3"}


def test_form_body_is_promoted() -> None:
    body = b"name=Ada+Lovelace&email=ada%40example.org&empty="
    args = arguments(request(body, "application/x-www-form-urlencoded; charset=UTF-8"), raw=False)
    assert without_context(args) == {
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "empty": "",
    }


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"[1, 2]", "application/json", [1, 2]),
        (b'"text"', "application/cloudevents+json", "text"),
        (b"1,2,3", "text/plain", "1,2,3"),
        (b"<a/>", "application/xml", "<a/>"),
        (b"\x89PNG\x00", "image/png", base64.b64encode(b"\x89PNG\x00").decode()),
        (b"\x00\x01", None, "AAE="),  # no content type: bytes
    ],
)
def test_other_bodies_arrive_whole_as_ow_body(
    body: bytes, content_type: str | None, expected: Any
) -> None:
    assert without_context(arguments(request(body, content_type), raw=False)) == {
        "__ow_body": expected
    }


def test_empty_body_adds_nothing() -> None:
    assert without_context(arguments(request(b"", "application/json", "a=1"), raw=False)) == {
        "a": "1"
    }


def test_malformed_json_is_a_400() -> None:
    with pytest.raises(ApiError) as caught:
        arguments(request(b"{nope", "application/json"), raw=False)
    assert caught.value.status == 400
    assert caught.value.message.startswith("The request content was malformed:")


@pytest.mark.parametrize("key", ["__ow_method", "__ow_body", "__ow_user", "__ow_query"])
def test_callers_cannot_set_reserved_keys(key: str) -> None:
    for req in (
        request(query=f"{key}=x"),
        request(f'{{"{key}": "x"}}'.encode(), "application/json"),
        request(f"{key}=x".encode(), "application/x-www-form-urlencoded"),
    ):
        with pytest.raises(ApiError) as caught:
            arguments(req, raw=False)
        assert (caught.value.status, caught.value.message) == (400, NOT_ALLOWED)


def test_raw_actions_get_query_and_body_untouched() -> None:
    raw = arguments(request(b'{"__ow_body": 1}', "application/json", "x=1&x=2"), raw=True)
    assert without_context(raw) == {
        "__ow_query": "x=1&x=2",
        "__ow_body": base64.b64encode(b'{"__ow_body": 1}').decode(),  # JSON: base64 (legacy)
    }
    text = arguments(request(b"hello", "text/plain"), raw=True)
    assert text["__ow_body"] == "hello"
    empty = arguments(request(), raw=True)
    assert (empty["__ow_query"], empty["__ow_body"]) == ("", "")


@pytest.mark.parametrize(
    ("require", "req", "allowed"),
    [
        (None, request(), True),
        (False, request(), True),
        (True, request(), False),
        (True, request(user="alice"), True),
        ("s3cret", request(), False),
        ("s3cret", request(X_Require_Whisk_Auth="wrong"), False),
        ("s3cret", request(X_Require_Whisk_Auth="s3cret"), True),
        ("s3cret", request(user="alice"), False),  # credentials are not the secret
        (4711, request(X_Require_Whisk_Auth="4711"), True),
        ({"odd": 1}, request(X_Require_Whisk_Auth="{}"), False),
        ("gr\u00fc\u00dfe", request(X_Require_Whisk_Auth="gr\u00fc\u00dfe"), True),
        ("gr\u00fc\u00dfe", request(X_Require_Whisk_Auth="grusse"), False),
    ],
)
def test_require_whisk_auth(require: Any, req: WebRequest, allowed: bool) -> None:
    assert authorized(require, req) is allowed


def test_whisk_credentials_that_named_the_caller_stay_out_of_ow_headers() -> None:
    """The caller's key must not reach the action, which may be another namespace's code:
    the action learns who called from `__ow_user` (as rules' actions do not get it either)."""
    basic = "Basic dXVpZDprZXk="
    authenticated = context(request(user="alice", Authorization=basic, X_Other="1"))
    assert authenticated["__ow_user"] == "alice"
    assert "authorization" not in authenticated["__ow_headers"]
    assert authenticated["__ow_headers"]["x-other"] == "1"
    # an Authorization header that is not whisk credentials is the action's business
    for value in ("Bearer abc.def", basic):
        anonymous = context(request(Authorization=value))
        assert anonymous["__ow_headers"]["authorization"] == value


def test_header_text_is_utf8_else_latin1() -> None:
    assert header_text("Grüße".encode()) == "Grüße"
    assert header_text("Grüße".encode("latin-1")) == "Grüße"
