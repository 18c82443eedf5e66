"""Container replies → activation responses, row by row of docs/openwhisk-compatibility.md §4.2/§4.3."""

from __future__ import annotations

import pytest

from pywhisk.common.entities.activation import Status
from pywhisk.invoker import outcomes
from pywhisk.invoker.client import span_end


def test_init_200_is_success() -> None:
    assert outcomes.init_reply(200, b'{"ok":true}') is None
    assert outcomes.init_reply(200, b"") is None


def test_init_failure_with_error_field_keeps_it() -> None:
    r = outcomes.init_reply(502, b'{"error":"SyntaxError: bad","other":1}')
    assert r is not None
    assert r.status == Status.DEVELOPER_ERROR and r.result == {"error": "SyntaxError: bad"}


def test_init_failure_without_error_field() -> None:
    r = outcomes.init_reply(500, b"boom")
    assert r is not None and r.result == {"error": "The action failed during initialization: boom"}
    r = outcomes.init_reply(500, b"")
    assert r is not None and r.result == {"error": "The action failed during initialization."}


def test_run_object_is_success() -> None:
    r = outcomes.run_reply(200, b'{"payload":"hi"}')
    assert r.status == Status.SUCCESS and r.result == {"payload": "hi"}


def test_run_array_is_success() -> None:
    r = outcomes.run_reply(200, b"[1,2]")
    assert r.status == Status.SUCCESS and r.result == [1, 2]


def test_run_200_with_error_is_application_error_keeping_only_error() -> None:
    r = outcomes.run_reply(200, b'{"error":{"msg":"no"},"extra":1}')
    assert r.status == Status.APPLICATION_ERROR and r.result == {"error": {"msg": "no"}}


def test_run_non_200_with_error_is_developer_error() -> None:
    r = outcomes.run_reply(502, b'{"error":"The action did not return a dictionary."}')
    assert r.status == Status.DEVELOPER_ERROR
    assert r.result == {"error": "The action did not return a dictionary."}


def test_run_non_200_object_without_error_is_invalid() -> None:
    r = outcomes.run_reply(500, b'{"x":1}')
    assert r.status == Status.DEVELOPER_ERROR
    assert r.result == {
        "error": 'The action did not produce a valid JSON or JSON Array response: {"x":1}'
    }


def test_run_scalar_or_garbage_is_invalid() -> None:
    for body in (b"42", b'"text"', b"null", b"not json"):
        r = outcomes.run_reply(200, body)
        assert r.status == Status.DEVELOPER_ERROR
        assert r.result == {
            "error": "The action did not produce a valid JSON or JSON Array response: "
            + body.decode()
        }
    r = outcomes.run_reply(200, b"")
    assert r.result == {"error": "The action did not produce a valid JSON or JSON Array response."}


def test_oversized_reply_is_application_error_with_head() -> None:
    r = outcomes.oversized_reply(30, 10, b'{"a":"xxxxxxxxxxxxxxxxxxxxxxxxx"}')
    assert r.status == Status.APPLICATION_ERROR
    assert r.result == {
        "error": "The action produced a response that exceeded the allowed length: 30 > 10 "
        'bytes. The truncated response was: {"a":"xxxx'
    }


def test_wording() -> None:
    assert outcomes.timed_out(500, False) == (
        "The action exceeded its time limits of 500 milliseconds."
    )
    assert outcomes.timed_out(500, True) == (
        "The action exceeded its time limits of 500 milliseconds during initialization."
    )
    assert outcomes.logs_truncated(1048576) == (
        "Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes."
    )


def test_run_result_nested_too_deep_is_an_application_error() -> None:
    deep = b'{"a": ' + b"[" * 300 + b"]" * 300 + b"}"
    r = outcomes.run_reply(200, deep)
    assert r.status == Status.APPLICATION_ERROR
    assert r.result == {"error": "The action produced a response nested deeper than 100 levels."}
    fine = b'{"a": ' + b"[" * 99 + b"]" * 99 + b"}"
    assert outcomes.run_reply(200, fine).status == Status.SUCCESS


MS = 1_000_000


@pytest.mark.parametrize(
    ("start_ns", "length_ns", "billed_ms"),
    [
        (5 * MS + 900_000, 300_000, 1),  # 0.3 ms across a millisecond boundary: 1, not 1 - 0
        (5 * MS, 300_000, 1),  # 0.3 ms inside one millisecond: 1, not 0
        (5 * MS + 100_000, 2_100_000, 3),  # 2.1 ms: 3 wherever it starts (readings: 2)
        (5 * MS + 950_000, 2_100_000, 3),  # (readings: 3)
        (5 * MS, 2 * MS, 2),  # whole milliseconds stay as they are
        (5 * MS, 0, 0),  # nothing ran (a refusal before any container)
        (5 * MS, -MS, 0),  # the wall clock stepped back: never negative
    ],
)
def test_a_span_is_recorded_rounded_up_to_the_millisecond(
    start_ns: int, length_ns: int, billed_ms: int
) -> None:
    end = span_end(start_ns, start_ns + length_ns)
    assert end - start_ns // MS == billed_ms
