"""Printed JSON, entity projections and tables, byte for byte as openwhisk-cli prints them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
import pytest

from pywhisk.cli.jsontext import go_json, loads_go
from pywhisk.cli.structs import action_struct, activation_get_struct, activation_struct, field_key
from pywhisk.cli.tables import (
    action_rows,
    activation_rows,
    entity_summary,
    go_duration,
    namespace_rows,
    strip_timestamp,
    truncate,
)

# Tables carry bold styling, which click.echo drops when output is not a terminal.
plain = click.unstyle


def test_results_print_with_four_spaces_and_sorted_keys() -> None:
    assert go_json({"msg": "Hello World"}) == '{\n    "msg": "Hello World"\n}\n'
    assert go_json(loads_go('{"b": 1, "a": {"d": [], "c": {}}}')) == (
        '{\n    "a": {\n        "c": {},\n        "d": []\n    },\n    "b": 1\n}\n'
    )


def test_numbers_print_as_received_and_strings_are_not_html_escaped() -> None:
    value = loads_go('{"f": 1.50, "e": 1e3, "i": 10, "s": "<a&b> é \\u2028"}')
    assert go_json(value) == (
        '{\n    "e": 1e3,\n    "f": 1.50,\n    "i": 10,\n    "s": "<a&b> é \\u2028"\n}\n'
    )


def test_scalars_and_arrays() -> None:
    assert go_json(None) == "null\n"
    assert go_json([1, "x"]) == '[\n    1,\n    "x"\n]\n'


def test_go_rejects_nan() -> None:
    with pytest.raises(ValueError):
        loads_go("NaN")


def test_action_prints_in_struct_order_omitting_empty_fields() -> None:
    action = {
        "updated": 1,
        "publish": False,
        "limits": {"concurrency": 1, "timeout": 60000, "memory": 256, "logs": 10, "instances": 2},
        "annotations": [{"key": "exec", "value": "php:8.2"}],
        "parameters": [],
        "exec": {"binary": False, "kind": "php:8.2"},
        "version": "0.0.1",
        "name": "hello",
        "namespace": "guest",
        "extra": "dropped",
    }
    assert go_json(action_struct(action)) == (
        "{\n"
        '    "namespace": "guest",\n'
        '    "name": "hello",\n'
        '    "version": "0.0.1",\n'
        '    "exec": {\n'
        '        "kind": "php:8.2",\n'
        '        "binary": false\n'
        "    },\n"
        '    "annotations": [\n'
        "        {\n"
        '            "key": "exec",\n'
        '            "value": "php:8.2"\n'
        "        }\n"
        "    ],\n"
        '    "limits": {\n'
        '        "timeout": 60000,\n'
        '        "memory": 256,\n'
        '        "logs": 10,\n'
        '        "concurrency": 1\n'
        "    },\n"
        '    "publish": false,\n'
        '    "updated": 1\n'
        "}\n"
    )


def test_activation_get_adds_status_codes_and_drops_size() -> None:
    activation = {
        "activationId": "a" * 32,
        "name": "hello",
        "namespace": "guest",
        "response": {"result": {"error": "x"}, "size": 13, "status": "application error"},
        "logs": [],
        "annotations": [],
        "publish": False,
    }
    projected = activation_get_struct(activation)
    assert list(projected) == [
        "namespace",
        "name",
        "version",
        "subject",
        "activationId",
        "start",
        "end",
        "duration",
        "statusCode",
        "response",
        "logs",
        "annotations",
        "publish",
    ]
    assert projected["statusCode"] == 1
    assert projected["response"] == {
        "status": "application error",
        "statusCode": 0,
        "success": False,
        "result": {"error": "x"},
    }
    assert activation_struct({"cause": "c"})["cause"] == "c"


def test_field_filters_are_case_insensitive_go_field_names() -> None:
    assert field_key(["Name", "ActivationID"], "activationid") == "activationId"
    assert field_key(["Name"], "NAME") == "name"
    assert field_key(["Name"], "bogus") is None


def test_action_rows() -> None:
    actions: list[dict[str, Any]] = [
        {
            "namespace": "guest/pkg",
            "name": "b",
            "annotations": [{"key": "exec", "value": "nodejs:20"}],
        },
        {"namespace": "guest", "name": "zed", "annotations": [{"key": "exec", "value": "php:8.2"}]},
        {"namespace": "guest", "name": "alpha", "annotations": []},
    ]
    assert plain(action_rows(actions)) == (
        "actions\n"
        f"{'/guest/pkg/b':<70} private nodejs:20\n"
        f"{'/guest/zed':<70} private php:8.2\n"
        f"{'/guest/alpha':<70} private \n"
    )
    sorted_rows = plain(action_rows(actions, name_sort=True)).splitlines()
    assert [row.split()[0] for row in sorted_rows[1:]] == [
        "/guest/alpha",
        "/guest/zed",
        "/guest/pkg/b",
    ]
    assert plain(action_rows([])) == "actions\n"


def test_namespace_rows() -> None:
    assert plain(namespace_rows(["guest"])) == "namespaces\nguest\n"


@pytest.mark.parametrize(
    ("milliseconds", "text"),
    [
        (0, "0s"),
        (2, "2ms"),
        (999, "999ms"),
        (1000, "1s"),
        (1500, "1.5s"),
        (61_020, "1m1.02s"),
        (3_600_000, "1h0m0s"),
        (-5, "-5ms"),
    ],
)
def test_go_duration(milliseconds: int, text: str) -> None:
    assert go_duration(milliseconds) == text


def test_truncate_keeps_both_ends() -> None:
    assert truncate("short", 20) == "short"
    assert truncate("a" * 10 + "b" * 15, 20) == "a" * 10 + "..." + "b" * 7
    assert len(truncate("x" * 50, 21)) == 21


def test_activation_rows_size_columns_and_mark_cold_starts() -> None:
    start = 1_700_000_000_000
    activations = [
        {
            "activationId": "1" * 32,
            "namespace": "guest",
            "name": "hello",
            "version": "0.0.1",
            "start": start,
            "end": start + 1500,
            "duration": 1500,
            "statusCode": 1,
            "annotations": [
                {"key": "kind", "value": "python:3.11"},
                {"key": "initTime", "value": 9},
            ],
        },
        {
            "activationId": "2" * 32,
            "namespace": "guest",
            "name": "t",
            "version": "0.0.1",
            "start": start,
            "annotations": [],
        },
    ]
    stamp = datetime.fromtimestamp(start // 1000).strftime("%Y-%m-%d %H:%M:%S")
    assert plain(activation_rows(activations)) == (
        "Datetime            Activation ID                    Kind        Start Duration   "
        "Status            Entity\n"
        f"{stamp} {'1' * 32} python:3.11 cold  1.5s       application error guest/hello:0.0.1\n"
        f"{stamp} {'2' * 32} unknown     warm  0s         success           guest/t:0.0.1\n"
    )
    assert plain(activation_rows([])) == "\n"


def test_strip_timestamp() -> None:
    assert strip_timestamp("2024-01-01T00:00:00.123456789Z stdout: hello") == "hello"
    assert strip_timestamp("2024-01-01T00:00:00.1Z    stderr: oops") == "oops"
    assert strip_timestamp("no timestamp here") == "no timestamp here"


def test_entity_summary() -> None:
    annotations = [{"key": "final", "value": True}]
    parameters = [{"key": "name", "value": "x"}, {"key": "place", "value": "y"}]
    assert plain(entity_summary("action", "/guest/hello", annotations, parameters)) == (
        "action /guest/hello: Returns a result based on parameters name and place\n"
        "   (parameters: **name, **place)\n"
    )
    assert plain(entity_summary("action", "/guest/hello", [], [])) == (
        "action /guest/hello\n   (parameters: none defined)\n"
    )
    described = [{"key": "description", "value": "Says hello"}]
    assert plain(entity_summary("action", "/g/h", described, [{"key": "a", "value": 1}])) == (
        "action /g/h: Says hello\n   (parameters: *a)\n"
    )
