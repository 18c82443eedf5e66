"""-p/-P/-a/-A parsing: JSON-if-it-parses values, command-line order, wsk's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pywhisk.cli.errors import EXIT_GENERAL, EXIT_USAGE, WskError
from pywhisk.cli.params import (
    KVSource,
    formatted_json,
    key_value_array,
    merge_json_objects,
    split_kv_args,
)


def values(*pairs: tuple[str, str]) -> dict[str, object]:
    return merge_json_objects([KVSource(formatted_json(k, v), k) for k, v in pairs])


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("Rob", "Rob"),
        ("5", 5),
        ("-1", -1),
        ("1.5", 1.5),
        ("true", True),
        ("null", None),
        ('"quoted"', "quoted"),
        ('{"a": [1, 2]}', {"a": [1, 2]}),
        ("[1, 2]", [1, 2]),
        ("NaN", "NaN"),  # not JSON for Go, so a string
        ("hello world", "hello world"),
        ("", ""),
    ],
)
def test_value_is_json_when_it_parses_else_a_string(raw: str, parsed: object) -> None:
    assert values(("key", raw)) == {"key": parsed}


def test_non_json_value_with_a_quote_is_rejected_like_wsk() -> None:
    with pytest.raises(WskError, match="Invalid parameter argument") as caught:
        values(("key", 'invalid "string"'))
    assert caught.value.exit_code == EXIT_GENERAL
    assert caught.value.display_usage


def test_keys_are_escaped() -> None:
    assert values(('we"ird', "1")) == {'we"ird': 1}


def test_later_values_win_and_order_is_kept() -> None:
    merged = values(("a", "1"), ("b", "2"), ("a", "3"))
    assert merged == {"a": 3, "b": 2}
    assert key_value_array(merged) == [{"key": "a", "value": 3}, {"key": "b", "value": 2}]


def test_split_removes_kv_flags_anywhere_and_keeps_the_rest(tmp_path: Path) -> None:
    file = tmp_path / "params.json"
    file.write_text('{"fromFile": true}')
    rest, found = split_kv_args(
        [
            *("action", "-p", "n", "-1", "invoke", "--param", "x", "y", "hello"),
            *("-P", str(file), "-a", "k", "v", "--result", "-F", "f", "1", "-T", "t", "2"),
        ]
    )
    assert rest == ["action", "invoke", "hello", "--result"]
    assert merge_json_objects(found.param) == {"n": -1, "x": "y", "fromFile": True}
    assert merge_json_objects(found.annotation) == {"k": "v"}
    assert merge_json_objects(found.feed_param) == {"f": 1}
    assert merge_json_objects(found.trigger_param) == {"t": 2}


def test_param_needs_a_key_and_a_value() -> None:
    with pytest.raises(WskError) as caught:
        split_kv_args(["action", "invoke", "x", "-p", "key"])
    assert caught.value.message == (
        "Failed to parse arguments: The parameter arguments are invalid: "
        "Arguments for '-p' must be a key/value pair"
    )
    assert caught.value.exit_code == EXIT_GENERAL
    assert caught.value.display_usage


def test_annotation_file_needs_an_argument() -> None:
    with pytest.raises(WskError, match="An argument must be provided for '-A'"):
        split_kv_args(["action", "create", "x", "-A"])


def test_missing_param_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(WskError) as caught:
        split_kv_args(["-P", str(tmp_path / "nofile.json")])
    assert caught.value.message == (
        f"Failed to parse arguments: File '{tmp_path / 'nofile.json'}' "
        "is not a valid file or it does not exist"
    )
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize("content", ["", "[1, 2]", '{"a": ', '"text"'])
def test_param_file_must_hold_a_json_object(tmp_path: Path, content: str) -> None:
    file = tmp_path / "bad.json"
    file.write_text(content)
    _, found = split_kv_args(["-P", str(file)])
    with pytest.raises(WskError, match="Invalid parameter argument"):
        merge_json_objects(found.param, "parameter")


def test_param_file_trailing_content_is_ignored_as_go_decoder_does(tmp_path: Path) -> None:
    file = tmp_path / "p.json"
    file.write_text('  {"a": 1}\n{"ignored": true}')
    _, found = split_kv_args(["-P", str(file)])
    assert merge_json_objects(found.param) == {"a": 1}


def test_annotation_errors_say_annotation() -> None:
    _, found = split_kv_args(["-a", "k", 'bad "value'])
    with pytest.raises(WskError, match="Invalid annotation argument"):
        merge_json_objects(found.annotation, "annotation")
