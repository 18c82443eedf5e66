"""Exit codes and error wrapping, as openwhisk-cli maps them."""

from __future__ import annotations

import pytest

from pywhisk.cli.errors import (
    EXIT_GENERAL,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    WskError,
    check_args,
    exit_code_for_status,
    nested,
    wrap,
)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, 144),
        (401, 145),
        (403, 147),
        (404, 148),
        (409, 153),
        (413, 157),
        (429, 173),
        (500, 244),
        (502, 246),
        (503, 247),
        (202, 202),
    ],
)
def test_http_status_exit_codes(status: int, code: int) -> None:
    assert exit_code_for_status(status) == code


def test_not_found_constant() -> None:
    assert exit_code_for_status(404) == EXIT_NOT_FOUND


def test_wrapping_keeps_the_cause_code_and_flags() -> None:
    cause = WskError("The requested resource does not exist. (code x)", 148)
    wrapped = wrap(f"Unable to get activation 'a': {cause}", cause)
    assert (wrapped.message, wrapped.exit_code, wrapped.display_usage) == (
        "Unable to get activation 'a': The requested resource does not exist. (code x)",
        148,
        False,
    )
    assert nested("Unable to get action 'a': x", cause).display_usage


def test_wrapping_a_plain_exception_is_a_general_error() -> None:
    wrapped = wrap("broken", ValueError("x"))
    assert wrapped.exit_code == EXIT_GENERAL


def test_quiet_causes_stay_quiet() -> None:
    cause = WskError("app error", 246, display_msg=False, application_error=True, body={"a": 1})
    wrapped = nested("Unable to invoke action 'x': app error", cause)
    assert not wrapped.display_msg
    assert wrapped.application_error
    assert wrapped.body == {"a": 1}


def test_check_args_messages() -> None:
    with pytest.raises(WskError) as few:
        check_args((), 1, 1, "An action name is required.")
    assert few.value.message == "Invalid argument(s). An action name is required."
    assert few.value.exit_code == EXIT_GENERAL
    assert few.value.display_usage
    with pytest.raises(WskError) as many:
        check_args(("a", "b", "c"), 1, 1, "An action name is required.")
    assert many.value.message == "Invalid argument(s): b, c. An action name is required."
    check_args(("a",), 1, 2, "ok")


def test_usage_exit_code_constant() -> None:
    assert EXIT_USAGE == 2
