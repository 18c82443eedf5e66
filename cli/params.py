"""``-p/-P/-a/-A`` (and trigger ``-F/-T``) arguments, parsed the way wsk parses them.

wsk pulls these out of the whole command line before its flag parser runs, so they work
after any command, keep their command-line order, and take values that look like flags
(``-p n -1``). A value is JSON when it parses as JSON (``-p n 5`` is the number 5,
``-p o '{"a":1}'`` an object), else a string. Like wsk we build the one-key JSON text and
parse it, so a non-JSON value containing a quote is rejected rather than guessed at.
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

from pywhisk.cli.errors import EXIT_GENERAL, EXIT_USAGE, WskError
from pywhisk.cli.jsontext import loads_first, loads_go

# flag -> (bucket, takes a file)
_KV_FLAGS: dict[str, tuple[str, bool]] = {
    "-p": ("param", False),
    "--param": ("param", False),
    "-P": ("param", True),
    "--param-file": ("param", True),
    "-a": ("annotation", False),
    "--annotation": ("annotation", False),
    "-A": ("annotation", True),
    "--annotation-file": ("annotation", True),
    "-F": ("feed_param", False),
    "--feed-param": ("feed_param", False),
    "-T": ("trigger_param", False),
    "--trigger-param": ("trigger_param", False),
}

_INVALID_PARAMS = {
    "param": "The parameter arguments are invalid: {err}",
    "annotation": "The annotation arguments are invalid: {err}",
}


class KVSource(NamedTuple):
    """One JSON-object text contributed by a flag, and where it came from (for errors)."""

    text: str
    origin: str


class KeyValueArgs:
    """The JSON-object texts for each kind of key/value flag, in command-line order."""

    # a plain class, not a dataclass: see cli.config.Properties
    def __init__(self) -> None:
        self.param: list[KVSource] = []
        self.annotation: list[KVSource] = []
        self.feed_param: list[KVSource] = []
        self.trigger_param: list[KVSource] = []


def is_valid_json(text: str) -> bool:
    try:
        loads_go(text)
    except ValueError:
        return False
    return True


def _escape_key(key: str) -> str:
    return key.replace("\\", "\\\\").replace('"', '\\"')


def formatted_json(key: str, value: str) -> str:
    """``getFormattedJSON``: ``{"key": value}`` if value is JSON, else ``{"key": "value"}``.

    The string case is deliberately not escaped, exactly as wsk does.
    """
    if is_valid_json(value):
        return f'{{"{_escape_key(key)}": {value}}}'
    return f'{{"{_escape_key(key)}": "{value}"}}'


def _read_file(path: str) -> str:
    if not os.path.isfile(path):
        raise WskError(
            f"File '{path}' is not a valid file or it does not exist",
            EXIT_USAGE,
            display_usage=True,
        )
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError as err:
        raise WskError(
            f"Unable to read the file '{path}': {err.strerror or err}",
            EXIT_GENERAL,
            display_usage=True,
        ) from err


def split_kv_args(args: list[str]) -> tuple[list[str], KeyValueArgs]:
    """Remove every key/value flag from ``args``; return the rest and what was found."""
    found = KeyValueArgs()
    rest: list[str] = []
    i = 0
    while i < len(args):
        flag = args[i]
        spec = _KV_FLAGS.get(flag)
        if spec is None:
            rest.append(flag)
            i += 1
            continue
        bucket, is_file = spec
        if is_file:
            if i + 1 >= len(args):
                cause = f"An argument must be provided for '{flag}'"
                raise _parse_failure(bucket, cause, EXIT_GENERAL)
            path = args[i + 1]
            try:
                content = _read_file(path)
            except WskError as err:
                raise WskError(
                    f"Failed to parse arguments: {err.message}",
                    err.exit_code,
                    display_usage=True,
                ) from None
            getattr(found, bucket).append(KVSource(content, path))
            i += 2
        else:
            if i + 2 >= len(args):
                cause = f"Arguments for '{flag}' must be a key/value pair"
                raise _parse_failure(bucket, cause, EXIT_GENERAL)
            key, value = args[i + 1], args[i + 2]
            getattr(found, bucket).append(KVSource(formatted_json(key, value), key))
            i += 3
    return rest, found


def _parse_failure(bucket: str, cause: str, exit_code: int) -> WskError:
    template = _INVALID_PARAMS.get(bucket, "{err}")
    return WskError(
        f"Failed to parse arguments: {template.format(err=cause)}",
        exit_code,
        display_usage=True,
    )


def merge_json_objects(sources: list[KVSource], what: str = "parameter") -> dict[str, Any]:
    """``getJSONFromStrings``: decode each text as an object, later keys win.

    Raises WskError("Invalid parameter argument ...") / ("Invalid annotation argument ...").
    """
    merged: dict[str, Any] = {}
    for source in sources:
        try:
            value = loads_first(source.text)
        except ValueError as err:
            raise WskError(
                f"Invalid {what} argument '{source.origin}': {err}",
                EXIT_GENERAL,
                display_usage=True,
            ) from None
        if value is None:
            continue  # wsk decodes null into its map as a no-op
        if not isinstance(value, dict):
            kind = type(value).__name__
            raise WskError(
                f"Invalid {what} argument '{source.origin}': "
                f"a JSON object is required, not {_json_kind(kind)}",
                EXIT_GENERAL,
                display_usage=True,
            )
        merged.update(value)
    return merged


def _json_kind(python_type: str) -> str:
    return {
        "list": "an array",
        "str": "a string",
        "bool": "a boolean",
        "int": "a number",
        "float": "a number",
        "GoNumber": "a number",
    }.get(python_type, "a value")


def key_value_array(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    """The wire form of parameters and annotations: ``[{"key": k, "value": v}, ...]``."""
    return [{"key": key, "value": value} for key, value in mapping.items()]


def dumps_body(value: Any) -> str:
    """JSON for request bodies: compact, UTF-8, no HTML escaping (as Go's encoder is set)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
