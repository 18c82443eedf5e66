"""An action's result becomes the response its extension asks for (§5)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from pywhisk.controller.api.web.response import (
    CONTENT_TYPE_MISMATCH,
    NOT_FOUND_PROPERTY,
    UNKNOWN_CONTENT_TYPE,
    shape,
)
from pywhisk.controller.core.errors import ApiError

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def refused(result: Any, extension: str) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        shape(result, extension)
    return caught.value.status, caught.value.message


def header(response: Any, name: str) -> list[str]:
    return [v for k, v in response.headers if k.lower() == name]


def test_http_defaults_string_body_is_html() -> None:
    r = shape({"body": "<p>hi</p>"}, "http")
    assert (r.status, r.body) == (200, b"<p>hi</p>")
    assert header(r, "content-type") == ["text/html; charset=UTF-8"]


@pytest.mark.parametrize("result", [{}, {"body": ""}, {"body": None}])
def test_http_without_body_is_204(result: dict[str, Any]) -> None:
    r = shape(result, "http")
    assert (r.status, r.body, r.headers) == (204, b"", [])


@pytest.mark.parametrize("status", [204, 304])
def test_http_statuses_without_content_drop_the_body(status: int) -> None:
    r = shape({"statusCode": status, "headers": {"ETag": "x1"}, "body": {"a": 1}}, "http")
    assert (r.status, r.body, r.headers) == (status, b"", [("ETag", "x1")])


def test_http_redirect_keeps_headers_and_drops_content_type_of_no_body() -> None:
    r = shape(
        {"statusCode": 303, "headers": {"Location": "/thanks.html", "Content-Type": "text/html"}},
        "http",
    )
    assert (r.status, r.body, r.headers) == (303, b"", [("Location", "/thanks.html")])


def test_http_status_as_string_and_header_arrays() -> None:
    r = shape(
        {"statusCode": "444", "headers": {"Set-Cookie": ["a=b", "c=d"], "X-N": 3, "X-B": True}},
        "http",
    )
    assert r.status == 444
    assert header(r, "set-cookie") == ["a=b", "c=d"]
    assert (header(r, "x-n"), header(r, "x-b")) == (["3"], ["true"])


def test_http_json_bodies() -> None:
    r = shape({"statusCode": 201, "body": {"id": 7}}, "http")
    assert (r.status, r.body, header(r, "content-type")) == (201, b'{"id":7}', ["application/json"])
    r = shape({"headers": {"content-type": "application/hal+json"}, "body": [1]}, "http")
    assert header(r, "content-type") == ["application/hal+json"]
    assert r.body.replace(b" ", b"").replace(b"\n", b"") == b"[1]"
    assert shape({"body": 3}, "http").body == b"3"


def test_http_binary_body_is_base64_decoded() -> None:
    r = shape(
        {"headers": {"Content-Type": "image/png"}, "body": base64.b64encode(PNG).decode()}, "http"
    )
    assert (r.status, r.body, header(r, "content-type")) == (200, PNG, ["image/png"])


def test_http_legacy_base64_json_is_decoded() -> None:
    encoded = base64.b64encode(b'{"a":1}').decode()
    r = shape({"headers": {"content-type": "application/json"}, "body": encoded}, "http")
    assert r.body == b'{"a":1}'
    # text that merely claims to be JSON is served as it is
    r = shape({"headers": {"content-type": "application/json"}, "body": "hello world"}, "http")
    assert r.body == b"hello world"


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"headers": {"content-type": "image/png"}, "body": "not base64!"},
            (400, CONTENT_TYPE_MISMATCH),
        ),
        ({"headers": {"content-type": "image/png"}, "body": "AAE"}, (400, CONTENT_TYPE_MISMATCH)),
        ({"headers": {"content-type": "xyzbar"}, "body": "hi"}, (400, UNKNOWN_CONTENT_TYPE)),
        (
            {"headers": {"content-type": "text/html"}, "body": {"a": 1}},
            (400, CONTENT_TYPE_MISMATCH),
        ),
        ({"statusCode": "xyz"}, (400, "Response is not valid 'message/http'.")),
        ({"statusCode": 1000}, (400, "Response is not valid 'message/http'.")),
        # an interim (1xx) answer is no response: 101 would even switch protocols
        ({"statusCode": 100, "body": "x"}, (400, "Response is not valid 'message/http'.")),
        ({"statusCode": "101"}, (400, "Response is not valid 'message/http'.")),
        ({"statusCode": 199}, (400, "Response is not valid 'message/http'.")),
        ({"statusCode": True}, (400, "Response is not valid 'message/http'.")),
        ({"headers": "x"}, (400, "Response is not valid 'message/http'.")),
        ({"headers": {"X": {"nested": 1}}}, (400, "Response is not valid 'message/http'.")),
        ({"headers": {"X": "a\r\nInjected: 1"}}, (400, "Response is not valid 'message/http'.")),
        # control characters no HTTP server may send (uvicorn drops the connection on them)
        ({"headers": {"X": "a\x00b"}}, (400, "Response is not valid 'message/http'.")),
        ({"headers": {"X": ["ok", "a\x01b"]}}, (400, "Response is not valid 'message/http'.")),
        ({"headers": {"X": "a\x7f"}}, (400, "Response is not valid 'message/http'.")),
        ([1, 2], (400, "Response is not valid 'message/http'.")),
    ],
)
def test_http_malformed_results(result: Any, expected: tuple[int, str]) -> None:
    assert refused(result, "http") == expected


def test_json_extension() -> None:
    r = shape({"a": [1]}, "json")
    assert (r.status, r.body, header(r, "content-type")) == (
        200,
        b'{"a":[1]}',
        ["application/json"],
    )
    assert shape([1], "json").body == b"[1]"
    assert refused("x", "json") == (400, "Response is not valid 'application/json'.")


def test_html_and_svg_extensions() -> None:
    assert shape({"html": "<b>x</b>"}, "html").body == b"<b>x</b>"
    assert shape({"body": "<b>y</b>", "html": "no"}, "html").body == b"<b>y</b>"
    assert refused({"html": 1}, "html") == (400, "Response is not valid 'text/html'.")
    r = shape({"svg": "<svg/>"}, "svg")
    assert (r.body, header(r, "content-type")) == (b"<svg/>", ["image/svg+xml"])
    assert refused({}, "svg") == (400, "Response is not valid 'image/svg+xml'.")


@pytest.mark.parametrize(
    ("result", "text"),
    [
        ({"text": "plain"}, b"plain"),
        ({"body": 12}, b"12"),
        ({"text": False}, b"false"),
        ({"text": None}, b"null"),
        ({"text": {"a": 1}}, b'{\n  "a": 1\n}'),
    ],
)
def test_text_extension(result: dict[str, Any], text: bytes) -> None:
    r = shape(result, "text")
    assert (r.status, r.body, header(r, "content-type")) == (
        200,
        text,
        ["text/plain; charset=UTF-8"],
    )


def test_text_extension_without_the_property_is_404() -> None:
    assert refused({"other": 1}, "text") == (404, NOT_FOUND_PROPERTY)


def test_http_header_values_may_hold_tabs_and_non_ascii_text() -> None:
    shaped = shape({"headers": {"X-A": "a\tb", "X-B": "h\u00e9"}, "body": "x"}, "http")
    assert [h for h in shaped.headers if h[0].startswith("X-")] == [
        ("X-A", "a\tb"),
        ("X-B", "h\u00e9"),
    ]


def test_http_framing_headers_of_the_action_are_dropped() -> None:
    r = shape(
        {
            "headers": {"Content-Length": "3", "Transfer-Encoding": "chunked", "X-Kept": "y"},
            "body": "hello",
        },
        "http",
    )
    assert [name.lower() for name, _ in r.headers] == ["x-kept", "content-type"]
    assert r.body == b"hello"
