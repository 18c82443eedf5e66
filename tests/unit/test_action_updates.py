"""PUT /actions create and update semantics (docs/openwhisk-compatibility.md §1.3.1)."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest

from pywhisk.common.entities import ActionPut, LimitRanges
from pywhisk.common.entities import params as P
from pywhisk.common.names import QualifiedName
from pywhisk.common.runtimes import default_manifest
from pywhisk.controller.core.action_updates import looks_binary, make_action, update_action
from pywhisk.controller.core.errors import ApiError

FQN = QualifiedName("guest", "hello")
M = default_manifest()
R = LimitRanges()


def put(**body: object) -> ActionPut:
    return ActionPut.model_validate(body)


def test_create_defaults_and_annotations() -> None:
    action = make_action(
        FQN, put(exec={"kind": "python:default", "code": "def main(a): return a"}), M, R, 5
    )
    assert action.exec.kind == "python:3.11"  # stored as the concrete kind
    assert action.version == "0.0.1" and action.updated == 5
    assert action.limits.to_json() == {
        "timeout": 60000,
        "memory": 256,
        "logs": 10,
        "concurrency": 1,
    }
    assert P.to_dict(action.annotations) == {"provide-api-key": False, "exec": "python:3.11"}
    assert not action.exec.binary


def test_update_merges_limits_and_annotations_replaces_parameters() -> None:
    old = make_action(
        FQN,
        put(
            exec={"kind": "nodejs:20", "code": "x"},
            parameters=[{"key": "a", "value": 1}],
            annotations=[{"key": "web-export", "value": True}, {"key": "gone", "value": 1}],
            limits={"timeout": 1000},
        ),
        M,
        R,
        1,
    )
    new = update_action(
        old,
        put(
            parameters=[{"key": "b", "value": 2}],
            limits={"memory": 128},
            annotations=[{"key": "x", "value": "y"}],
            delAnnotations=["gone"],
        ),
        M,
        R,
        2,
    )
    assert P.to_dict(new.parameters) == {"b": 2}
    assert (new.limits.timeout, new.limits.memory) == (1000, 128)
    assert P.to_dict(new.annotations) == {
        "web-export": True,
        "provide-api-key": False,
        "exec": "nodejs:20",
        "x": "y",
    }
    assert new.version == "0.0.2" and new.exec.code == "x"


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (
            {"timeout": 600000},
            "duration 600000 milliseconds exceeds allowed threshold of 300000 milliseconds",
        ),
        ({"memory": 1024}, "memory size 1024 MB exceeds allowed threshold of 512 MB"),
        ({"logs": 11}, "log size 11 MB exceeds allowed threshold of 10 MB"),
        ({"concurrency": 10}, "concurrency 10 exceeds allowed threshold of 1"),
    ],
)
def test_limits_out_of_range(limits: dict[str, int], message: str) -> None:
    with pytest.raises(ApiError) as e:
        make_action(FQN, put(exec={"kind": "php:8.2", "code": "x"}, limits=limits), M, R, 1)
    assert (e.value.status, e.value.message) == (400, message)


def test_unknown_kind_names_known_ones() -> None:
    with pytest.raises(ApiError) as e:
        make_action(FQN, put(exec={"kind": "cobol:1", "code": "x"}), M, R, 1)
    assert e.value.status == 400
    assert "'cobol:1' is not supported" in e.value.message and "'python:3.11'" in e.value.message


def test_create_needs_exec() -> None:
    with pytest.raises(ApiError, match="exec undefined"):
        make_action(FQN, put(), M, R, 1)


def test_binary_detection() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("__main__.py", "def main(a): return a")
    assert looks_binary(base64.b64encode(buffer.getvalue()).decode())
    assert not looks_binary("pass")  # valid base64, but source
    assert not looks_binary("def main(args):\n    return args\n")
