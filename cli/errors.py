"""The error type every `wsk` failure is reported through, with openwhisk-cli's exit codes.

openwhisk-cli (Go) funnels all failures through one `WskError` carrying the exit code and
display flags; wrapping an error ("Unable to get action 'x': <cause>") keeps the cause's exit
code and flags. Scripts depend on those codes (e.g. 148 = not found), so we keep the scheme:
HTTP failures exit with ``status - 256`` (truncated to 8 bits by the OS, i.e. ``status % 256``).
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_GENERAL = 1
EXIT_USAGE = 2
EXIT_NETWORK = 3
EXIT_HTTP_RESPONSE = 4
EXIT_NOT_FOUND = 148  # 404 - 256
EXIT_NOT_ALLOWED = 149
EXIT_TIMED_OUT = 202  # blocking invoke answered 202: accepted, not finished


def exit_code_for_status(status: int) -> int:
    """Exit code for an HTTP error status, as the OS sees Go's ``os.Exit(status - 256)``."""
    return (status - 256) % 256


class WskError(Exception):
    """A failure to report as ``error: <message>`` and exit with ``exit_code``.

    ``body`` keeps the parsed response body when the caller still needs it (application
    errors and blocking timeouts print the activation before exiting).
    """

    def __init__(
        self,
        message: str,
        exit_code: int = EXIT_GENERAL,
        *,
        display_msg: bool = True,
        display_usage: bool = False,
        display_prefix: bool = True,
        application_error: bool = False,
        timed_out: bool = False,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.display_msg = display_msg
        self.display_usage = display_usage
        self.display_prefix = display_prefix
        self.application_error = application_error
        self.timed_out = timed_out
        self.body = body
        self.headers = headers or {}

    def __str__(self) -> str:
        return self.message


def wrap(message: str, cause: BaseException, *, usage: bool = False) -> WskError:
    """``MakeWskErrorFromWskError``: a new message that inherits the cause's code and flags.

    A plain exception (not a WskError) contributes nothing but its text, and the wrapper
    exits with the general error code.
    """
    if isinstance(cause, WskError):
        return WskError(
            message,
            cause.exit_code,
            display_msg=cause.display_msg,
            display_usage=cause.display_usage or usage,
            display_prefix=cause.display_prefix,
            application_error=cause.application_error,
            timed_out=cause.timed_out,
            body=cause.body,
            headers=cause.headers,
        )
    return WskError(message, EXIT_GENERAL, display_usage=usage)


def nested(message: str, cause: BaseException) -> WskError:
    """openwhisk-cli's ``nestedError``: wrap and always suggest ``--help``."""
    return wrap(message, cause, usage=True)


def usage_error(message: str) -> WskError:
    """openwhisk-cli's ``nonNestedError``: a misuse of the command line (exit 2)."""
    return WskError(message, EXIT_USAGE, display_usage=True)


def check_args(
    args: tuple[str, ...] | list[str], minimum: int, maximum: int, required: str
) -> None:
    """``CheckArgs``: wsk's messages for too few / too many positional arguments."""
    if len(args) < minimum:
        raise WskError(f"Invalid argument(s). {required}", EXIT_GENERAL, display_usage=True)
    if len(args) > maximum:
        extra = ", ".join(args[maximum:])
        raise WskError(
            f"Invalid argument(s): {extra}. {required}", EXIT_GENERAL, display_usage=True
        )
