"""API documents without a server: OpenWhisk's checks and messages, merging one route at a
time, removing routes, the operation ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pywhisk.controller.api.apigw import model
from pywhisk.controller.api.apigw.model import ApiDocError


def apidoc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "namespace": "_",
        "gatewayBasePath": "/b",
        "gatewayPath": "/p",
        "gatewayMethod": "get",
        "action": {
            "name": "pkg/act",
            "namespace": "_",
            "backendMethod": "GET",
            "backendUrl": "http://host:1/api/v1/web/_/pkg/act.http",
            "authkey": "u:k",
        },
    }
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (None, "apidoc is required."),
        ("[", "apidoc field cannot be parsed. Ensure it is valid JSON."),
        (7, "apidoc field is int and should be a JSON object or a JSON string."),
        (apidoc(namespace=""), "apidoc is missing the namespace field"),
        (apidoc(gatewayMethod=None), "apidoc is missing the gatewayMethod field"),
        (apidoc(action=None), "apidoc is missing the action field."),
        (apidoc(action={"name": "a"}), "action is missing the backendMethod field."),
        (apidoc(gatewayPath="p"), "'p' must begin with '/'."),
        (
            apidoc(swagger="{}"),
            "swagger and gatewayBasePath are mutually exclusive and cannot be specified together.",
        ),
        (
            {"namespace": "_", "swagger": "{"},
            "swagger field cannot be parsed. Ensure it is valid JSON.",
        ),
        (
            {"namespace": "_", "swagger": {"basePath": "/b", "info": {}}},
            "swagger is missing the paths field.",
        ),
    ],
)
def test_openwhisk_refusals(given: Any, message: str) -> None:
    with pytest.raises(ApiDocError) as caught:
        model.parse_apidoc(given)
    assert str(caught.value) == message


def test_the_callers_namespace_replaces_only_underscores() -> None:
    doc = model.with_namespace(model.parse_apidoc(apidoc()), "me")
    assert doc["namespace"] == "me" and doc["action"]["namespace"] == "me"
    other = apidoc()
    other["action"]["namespace"] = "them"
    assert model.with_namespace(other, "me")["action"]["namespace"] == "them"


def test_routes_merge_and_leave() -> None:
    doc = model.with_namespace(apidoc(), "me")
    swagger = model.add_route(model.base_swagger("/b", None), doc, "json", "http://fallback")
    put = model.with_namespace(apidoc(gatewayMethod="put"), "me")
    put["action"]["secureKey"] = 42
    swagger = model.add_route(swagger, put, "http", "http://fallback")
    assert set(swagger["paths"]["/p"]) == {"get", "put"}
    assert "u:k" not in json.dumps(swagger)  # the caller's key is not kept
    get = swagger["paths"]["/p"]["get"]
    assert get["operationId"] == "getP"
    assert get["x-openwhisk"] == {
        "url": "http://host:1/api/v1/web/me/pkg/act.json",
        "namespace": "me",
        "package": "pkg",
        "action": "act",
    }
    cases = swagger["x-ibm-configuration"]["assembly"]["execute"][0]["operation-switch"]["case"]
    assert [c["operations"] for c in cases] == [["getP"], ["putP"]]
    assert cases[1]["execute"][1]["set-variable"]["actions"][0]["value"] == "42"
    # the same verb and path again replaces, never duplicates
    again = model.add_route(swagger, doc, "text", "http://fallback")
    assert again["paths"]["/p"]["get"]["x-openwhisk"]["url"].endswith(".text")
    assert (
        len(again["x-ibm-configuration"]["assembly"]["execute"][0]["operation-switch"]["case"]) == 2
    )

    less = model.remove_route(again, "/p", "GET")
    assert set(less["paths"]["/p"]) == {"put"}
    with pytest.raises(
        ApiDocError, match="path '/p' with operation 'get' does not exist in the API"
    ):
        model.remove_route(less, "/p", "get")
    assert model.remove_route(less, "/p", None)["paths"] == {}
    with pytest.raises(ApiDocError, match="path '/q' does not exist in the API"):
        model.remove_route(less, "/q", None)


def test_operation_ids_and_urls() -> None:
    assert model.operation_id("GET", "/books/{isbn}/by-id") == "getBooksIsbnBy-id"
    assert model.web_url("nonsense", "http://me:1/", "ns", "act", "http") == (
        "http://me:1/api/v1/web/ns/default/act.http"
    )
    assert model.normal_base_path("/b/") == "/b" and model.normal_base_path("/") == "/"
    assert model.split_action_name("/ns/pkg/a") == ("pkg", "a")
