"""What a container's answer means for the activation (docs/openwhisk-compatibility.md §4.2, §4.3, Appendix A).

Pure functions from (HTTP status, body bytes) to an `ActivationResponse`, plus OpenWhisk's exact
wording for every failure the invoker reports. Kept apart from the HTTP client so each row of
the §4.3 table is unit tested without a socket.
"""

from __future__ import annotations

from typing import Any

from pywhisk.common import jsonio
from pywhisk.common.entities.activation import ActivationResponse, Status

ABNORMAL_INIT = "The action did not initialize and exited unexpectedly."
ABNORMAL_RUN = "The action did not produce a valid response and exited unexpectedly."
MEMORY_EXHAUSTED = "The action exhausted its memory and was aborted."
NOT_FOUND = "Action could not be found or may have been deleted."
PROVISION_FAILED = "Failed to provision resources to run the action."
LOGS_MISSING = "The action did not initialize or run as expected. Log data might be missing."
LOG_FAILURE = "There was an issue while collecting your logs. Data might be missing."


def timed_out(timeout_ms: int, during_init: bool) -> str:
    where = " during initialization" if during_init else ""
    return f"The action exceeded its time limits of {timeout_ms} milliseconds{where}."


def logs_truncated(limit_bytes: int) -> str:
    return (
        "Logs were truncated because the total bytes size exceeds the limit of "
        f"{limit_bytes} bytes."
    )


def _with_body(prefix: str, body: str) -> str:
    # OW appends ": <body>" only when there is a body, else ends the sentence.
    return f"{prefix}: {body}" if body else f"{prefix}."


def invalid_run(body: str) -> str:
    return _with_body("The action did not produce a valid JSON or JSON Array response", body)


def invalid_init(body: str) -> str:
    return _with_body("The action failed during initialization", body)


def truncated(length: int, limit: int, head: str) -> str:
    return (
        f"The action produced a response that exceeded the allowed length: {length} > {limit} "
        f"bytes. The truncated response was: {head}"
    )


def developer_error(message: str) -> ActivationResponse:
    return ActivationResponse.error(Status.DEVELOPER_ERROR, message)


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _parse(body: bytes) -> Any:
    try:
        return jsonio.loads(body)
    except jsonio.JSONDecodeError:
        return _INVALID


_INVALID = object()


def init_reply(status: int, body: bytes) -> ActivationResponse | None:
    """None when the container initialized; else the developer error OW reports."""
    if status == 200:
        return None
    parsed = _parse(body)
    if isinstance(parsed, dict) and "error" in parsed:
        return ActivationResponse(status=Status.DEVELOPER_ERROR, result={"error": parsed["error"]})
    return developer_error(invalid_init(_text(body)))


def too_deep(limit: int) -> str:
    return f"The action produced a response nested deeper than {limit} levels."


def run_reply(status: int, body: bytes) -> ActivationResponse:
    """§4.3: object → success, object with `error` → application error (only `error` kept),
    non-200 or not an object/array → developer error.

    A result nested deeper than a request may be (`jsonio.MAX_DEPTH`) is an application
    error, as an oversized one is: it could be neither recorded (orjson writes at most 254
    levels) nor passed on as the next action's input."""
    parsed = _parse(body)
    if isinstance(parsed, dict | list) and jsonio.exceeds_depth(body, parsed, jsonio.MAX_DEPTH):
        return ActivationResponse.error(Status.APPLICATION_ERROR, too_deep(jsonio.MAX_DEPTH))
    if isinstance(parsed, dict):
        if "error" in parsed:
            kind = Status.APPLICATION_ERROR if status == 200 else Status.DEVELOPER_ERROR
            return ActivationResponse(status=kind, result={"error": parsed["error"]})
        if status == 200:
            return ActivationResponse(status=Status.SUCCESS, result=parsed, size=_length(body))
    elif isinstance(parsed, list) and status == 200:
        return ActivationResponse(status=Status.SUCCESS, result=parsed, size=_length(body))
    return developer_error(invalid_run(_text(body)))


def _length(body: bytes) -> int:
    """OW's `size` of a successful result: the reply's length in characters, as sent."""
    return len(body) if body.isascii() else len(body.decode("utf-8", errors="replace"))


def oversized_reply(length: int, limit: int, head: bytes) -> ActivationResponse:
    """A result over the payload limit is an application error carrying its first bytes."""
    text = head[:limit].decode("utf-8", errors="ignore")
    return ActivationResponse.error(Status.APPLICATION_ERROR, truncated(length, limit, text))


def user_status_code(result: Any) -> int | None:
    """The HTTP status an action's result sets (a web action's `statusCode`, or its error's),
    for the metrics; OpenWhisk's user events take `error.statusCode` first and count what is
    not a number as 400 (Activation.userDefinedStatusCode)."""
    if not isinstance(result, dict):
        return None
    error = result.get("error")
    if isinstance(error, dict) and "statusCode" in error:
        code = error["statusCode"]
    elif "statusCode" in result:
        code = result["statusCode"]
    else:
        return None
    if isinstance(code, bool) or not isinstance(code, int | float):
        return 400
    return int(code)
