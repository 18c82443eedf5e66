"""`wsk api` output without a server: the list table's widths as openwhisk-cli fits them,
`--full`'s blocks, the swagger in Go struct order, and YAML."""

from __future__ import annotations

from typing import Any

from pywhisk.cli import apis

VALUE: dict[str, Any] = {
    "namespace": "ns",
    "gwApiActivated": True,
    "tenantId": "t",
    "gwApiUrl": "http://h/api/t/b/",
    "apidoc": {
        "x-extra": "dropped, as Go's struct has no such field",
        "paths": {
            "/{id}": {
                "get": {
                    "x-openwhisk": {"url": "u", "package": "", "namespace": "ns", "action": "a"},
                    "responses": {},
                    "operationId": "getId",
                    "parameters": [{"in": "path", "name": "id", "required": True}],
                }
            }
        },
        "info": {"version": "1.0.0", "title": "Books"},
        "basePath": "/b",
        "swagger": "2.0",
    },
}


def test_rows_and_the_table_fitted_to_them() -> None:
    rows = apis.operations(VALUE)
    assert rows == [("/ns/a", "get", "Books", "/b", "/{id}", "http://h/api/t/b/{id}")]
    assert apis.table(rows) == (
        "Action    Verb  API Name  URL\n/ns/a      get     Books  http://h/api/t/b/{id}\n"
    )
    long = [("/n/" + "x" * 50, "post", "N" * 40, "/b", "/p", "u")]
    header, row = apis.table(long).splitlines()
    assert row.split()[0] == ("/n/" + "x" * 50)[:40] and row.split()[2] == "N" * 30
    assert header.index("Verb") == 40 + 4
    assert apis.table([]) == f"{'Action':<30} {'Verb':>7} {'API Name':>20}  URL\n"
    assert apis.operations(VALUE, relpath="/other") == []
    assert apis.operations(VALUE, verb="POST") == []


def test_full_blocks() -> None:
    assert apis.full(apis.operations(VALUE)) == (
        "Action: /ns/a\n   API Name: Books\n   Base path: /b\n   Path: /{id}\n"
        "   Verb: get\n   URL: http://h/api/t/b/{id}\n"
    )
    assert apis.full([]) == "\n"


def test_swagger_in_struct_order() -> None:
    shown = apis.swagger_struct(VALUE["apidoc"])
    assert list(shown) == ["swagger", "basePath", "info", "paths"]
    assert list(shown["info"]) == ["title", "version"]
    operation = shown["paths"]["/{id}"]["get"]
    assert list(operation) == ["operationId", "parameters", "responses", "x-openwhisk"]
    assert list(operation["x-openwhisk"]) == ["action", "namespace", "package", "url"]
    assert list(operation["parameters"][0]) == ["name", "in", "required"]
    assert list(apis.value_struct(VALUE)) == [
        "namespace",
        "gwApiUrl",
        "gwApiActivated",
        "tenantId",
        "apidoc",
    ]


def test_yaml() -> None:
    text = apis.to_yaml(
        {
            "swagger": "2.0",
            "paths": {"/{id}": {"get": {"parameters": [{"name": "id", "in": "path"}]}}},
            "b": True,
            "e": {},
            "z": None,
            "k": "a: b",
        }
    )
    assert text == (
        "b: true\n"
        "e: {}\n"
        'k: "a: b"\n'
        "paths:\n"
        "  /{id}:\n"
        "    get:\n"
        "      parameters:\n"
        "      - in: path\n"
        "        name: id\n"
        'swagger: "2.0"\n'
        "z: null\n"
    )
