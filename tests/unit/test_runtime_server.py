"""Pure helpers of the action proxy's HTTP server."""

import json

import pytest

from pywhisk.action_runtime.server import BadRequest, error_body, parse_head, response_head


def test_parse_head_keep_alive_by_default_on_http11():
    request = parse_head(
        b"POST /run?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nX-Thing:  v  \r\n\r\n"
    )
    assert (request.method, request.path, request.keep_alive) == ("POST", "/run", True)
    assert request.headers == {"host": "a", "content-length": "12", "x-thing": "v"}


@pytest.mark.parametrize(
    ("head", "keep_alive"),
    [
        (b"POST /init HTTP/1.1\r\nConnection: close\r\n\r\n", False),
        (b"POST /init HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n", False),
        (b"POST /init HTTP/1.0\r\n\r\n", False),
        (b"POST /init HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", True),
    ],
)
def test_parse_head_connection_rules(head: bytes, keep_alive: bool):
    assert parse_head(head).keep_alive is keep_alive


@pytest.mark.parametrize(
    "head",
    [
        b"POST /run\r\n\r\n",
        b"POST /run SPDY/3\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    ],
)
def test_parse_head_rejects_garbage(head: bytes):
    with pytest.raises(BadRequest) as caught:
        parse_head(head)
    assert caught.value.status == 400


def test_response_head_has_length_type_and_connection():
    head = response_head(502, 17, keep_alive=False)
    assert head.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert b"\r\nContent-Length: 17\r\n" in head
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert head.endswith(b"Connection: close\r\n\r\n")
    assert b"Connection: keep-alive" in response_head(200, 0, keep_alive=True)


def test_error_body_is_json_whatever_the_message():
    message = 'quote " backslash \\ newline \n control \x01 snowman \u2603'
    assert json.loads(error_body(message)) == {"error": message}
