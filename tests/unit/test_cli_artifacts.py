"""Building exec from a code artifact, and saving code back to a file."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from pywhisk.cli.artifacts import build_exec, default_save_name, go_extension, infer_kind, save_code
from pywhisk.cli.errors import EXIT_USAGE, WskError


@pytest.mark.parametrize(
    ("extension", "kind"),
    [
        (".py", "python:default"),
        (".php", "php:default"),
        (".js", "nodejs:default"),
        (".swift", "swift:default"),
        (".jar", "java:default"),
        (".rb", "ruby:default"),
        (".go", "go:default"),
    ],
)
def test_kind_from_extension(extension: str, kind: str) -> None:
    assert infer_kind(extension) == kind


def test_zip_needs_an_explicit_kind() -> None:
    with pytest.raises(WskError) as caught:
        infer_kind(".zip")
    assert caught.value.message == (
        "creating an action from a .zip artifact requires specifying the action kind explicitly"
    )
    assert caught.value.exit_code == EXIT_USAGE


def test_unknown_extension() -> None:
    with pytest.raises(WskError, match=re.escape("'.txt' is not a supported action runtime")):
        infer_kind(".txt")


def test_go_extension() -> None:
    assert go_extension("dir.v2/hello.py") == ".py"
    assert go_extension("dir.v2/Makefile") == ""
    assert go_extension(".bashrc") == ".bashrc"


def test_source_file(tmp_path: Path) -> None:
    source = tmp_path / "hello.php"
    source.write_text("<?php function main($a) { return $a; }")
    assert build_exec(str(source)) == {
        "code": "<?php function main($a) { return $a; }",
        "kind": "php:default",
    }


def test_zip_is_base64_encoded_with_kind_and_main(tmp_path: Path) -> None:
    archive = tmp_path / "action.zip"
    archive.write_bytes(b"PK\x03\x04 binary \xff")
    exec_ = build_exec(str(archive), kind="python:3.11", main="handler")
    assert exec_ == {
        "code": base64.b64encode(b"PK\x03\x04 binary \xff").decode(),
        "kind": "python:3.11",
        "main": "handler",
    }


def test_docker_and_native(tmp_path: Path) -> None:
    assert build_exec(None, docker="me/img") == {"kind": "blackbox", "image": "me/img"}
    binary = tmp_path / "exec.zip"
    binary.write_bytes(b"zip")
    native = build_exec(str(binary), native=True)
    assert native["kind"] == "blackbox"
    assert native["image"] == "openwhisk/dockerskeleton"


def test_missing_artifact(tmp_path: Path) -> None:
    with pytest.raises(WskError) as caught:
        build_exec(str(tmp_path / "nope.py"))
    assert caught.value.message == (
        f"File '{tmp_path / 'nope.py'}' is not a valid file or it does not exist"
    )
    assert caught.value.exit_code == EXIT_USAGE


def test_no_artifact_and_no_image() -> None:
    with pytest.raises(WskError, match=re.escape("An action name and code artifact are required.")):
        build_exec(None)


def test_save_names() -> None:
    assert default_save_name({"name": "a", "exec": {"kind": "nodejs:20"}}) == "a.js"
    assert default_save_name({"name": "a", "exec": {"kind": "php:8.2"}}) == "a.php"
    assert default_save_name({"name": "a", "exec": {"kind": "python:3", "binary": True}}) == "a.zip"
    assert default_save_name({"name": "a", "exec": {"kind": "java:8", "binary": True}}) == "a.jar"


def test_save_code_writes_text_and_decodes_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = {"name": "hello", "exec": {"kind": "python:3.11", "code": "x = 1\n", "binary": False}}
    assert save_code(text) == str(tmp_path / "hello.py")
    assert (tmp_path / "hello.py").read_text() == "x = 1\n"
    packed = base64.b64encode(b"PK zip").decode()
    binary = {"name": "z", "exec": {"kind": "python:3.11", "code": packed, "binary": True}}
    save_code(binary, "out.zip")
    assert (tmp_path / "out.zip").read_bytes() == b"PK zip"


def test_save_code_refuses_to_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hello.js").write_text("keep")
    action = {"name": "hello", "exec": {"kind": "nodejs:20", "code": "x", "binary": False}}
    with pytest.raises(WskError, match=re.escape("The file 'hello.js' already exists")) as caught:
        save_code(action)
    assert caught.value.exit_code == EXIT_USAGE
    assert (tmp_path / "hello.js").read_text() == "keep"


@pytest.mark.parametrize(
    ("exec_", "message"),
    [
        ({"kind": "blackbox", "image": "x", "binary": False}, "Cannot save Docker images"),
        ({"kind": "sequence", "components": ["/_/a"]}, "Cannot save action sequences"),
    ],
)
def test_save_code_refusals(exec_: dict[str, object], message: str) -> None:
    with pytest.raises(WskError, match=message):
        save_code({"name": "x", "exec": exec_})
