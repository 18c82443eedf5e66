"""Route matching of the API gateway, without a server: base paths, parameters, precedence,
405s and 404s."""

from __future__ import annotations

from typing import Any

from pywhisk.controller.api.apigw.routing import Found, Miss, find
from pywhisk.controller.api.apigw.swagger import CompiledApi, compile_api


def api(base: str, *routes: tuple[str, str, str], cors: bool = True) -> CompiledApi:
    paths: dict[str, Any] = {}
    for verb, path, action in routes:
        paths.setdefault(path, {})[verb] = {
            "operationId": f"{verb}{path}",
            "x-openwhisk": {
                "namespace": "ns",
                "package": "",
                "action": action,
                "url": f"https://h/api/v1/web/ns/default/{action}.http",
            },
        }
    swagger: dict[str, Any] = {"basePath": base, "paths": paths, "info": {"title": base}}
    if not cors:
        swagger["x-ibm-configuration"] = {"cors": {"enabled": False}}
    return compile_api(swagger)


BOOKS = api("/books", ("get", "/{isbn}", "show"), ("get", "/new", "form"), ("post", "/", "add"))


def test_a_parameter_takes_one_segment_and_is_decoded() -> None:
    found = find([BOOKS], "GET", "/books/978%2F3")
    assert isinstance(found, Found)
    assert found.route.target is not None and found.route.target.action == "show"
    assert found.params == {"isbn": "978/3"} and found.relpath == "/978%2F3"
    assert isinstance(find([BOOKS], "GET", "/books/1/2"), Miss)


def test_a_literal_segment_wins_over_a_parameter() -> None:
    found = find([BOOKS], "GET", "/books/new")
    assert isinstance(found, Found) and found.route.target is not None
    assert found.route.target.action == "form" and found.params == {}


def test_a_known_path_with_another_verb_names_its_methods() -> None:
    miss = find([BOOKS], "DELETE", "/books/1")
    assert isinstance(miss, Miss) and miss.methods == ("GET",) and miss.api is BOOKS


def test_unknown_paths_and_base_paths_are_misses_without_methods() -> None:
    for path in ("/nothing/1", "/book/1", "/", "/books/1/x"):
        miss = find([BOOKS], "GET", path)
        assert isinstance(miss, Miss) and miss.methods == ()


def test_the_root_route_of_a_base_path() -> None:
    found = find([BOOKS], "post", "/books")
    assert isinstance(found, Found) and found.relpath == ""
    assert isinstance(find([BOOKS], "POST", "/books/"), Found)


def test_the_longest_base_path_is_tried_first() -> None:
    root = api("/", ("get", "/books/{any}", "catch"))
    found = find([root, BOOKS], "GET", "/books/new")
    assert isinstance(found, Found) and found.route.target is not None
    assert found.route.target.action == "form"
    # a path the longer base path does not have falls through to the root API
    found = find([root, BOOKS], "GET", "/books")
    assert isinstance(found, Miss)


def test_response_type_secure_key_and_cors_come_from_the_swagger() -> None:
    swagger = {
        "basePath": "/s",
        "info": {"title": "s"},
        "paths": {
            "/x": {
                "get": {
                    "operationId": "getX",
                    "x-openwhisk": {
                        "namespace": "ns",
                        "package": "pkg",
                        "action": "a",
                        "url": "https://h/api/v1/web/ns/pkg/a.text",
                    },
                }
            }
        },
        "x-ibm-configuration": {
            "cors": {"enabled": False},
            "assembly": {
                "execute": [
                    {
                        "operation-switch": {
                            "case": [
                                {
                                    "operations": ["getX"],
                                    "execute": [
                                        {
                                            "set-variable": {
                                                "actions": [
                                                    {
                                                        "set": "message.headers.X-Require-Whisk-Auth",
                                                        "value": "k",
                                                    }
                                                ]
                                            }
                                        },
                                        {
                                            "invoke": {
                                                "target-url": "https://h/api/v1/web/ns/pkg/a.text"
                                            }
                                        },
                                    ],
                                }
                            ]
                        }
                    }
                ]
            },
        },
    }
    compiled = compile_api(swagger)
    assert not compiled.cors
    target = compiled.routes[0].target
    assert target is not None
    assert (target.package, target.extension, target.secure_key) == ("pkg", "text", "k")


def test_the_package_default_is_no_package() -> None:
    swagger_op = {"x-openwhisk": {"namespace": "ns", "package": "default", "action": "a"}}
    compiled = compile_api({"basePath": "/s", "info": {}, "paths": {"/x": {"get": swagger_op}}})
    target = compiled.routes[0].target
    assert target is not None and target.package is None and target.extension == "json"


def test_an_operation_without_x_openwhisk_uses_its_case_url() -> None:
    swagger = {
        "basePath": "/s",
        "info": {"title": "s"},
        "paths": {"/x": {"get": {"operationId": "getX"}}, "/y": {"get": {"operationId": "getY"}}},
        "x-ibm-configuration": {
            "assembly": {
                "execute": [
                    {
                        "operation-switch": {
                            "case": [
                                {
                                    "operations": ["getX"],
                                    "execute": [
                                        {
                                            "invoke": {
                                                "target-url": "https://h/api/v1/web/ns/default/a.http$(request.path)"
                                            }
                                        }
                                    ],
                                }
                            ]
                        }
                    }
                ]
            }
        },
    }
    compiled = compile_api(swagger)
    targets = {r.relpath: r.target for r in compiled.routes}
    assert targets["/x"] is not None and targets["/x"].action == "a"
    assert targets["/x"].package is None and targets["/x"].extension == "http"
    assert targets["/y"] is None  # listed, not served
