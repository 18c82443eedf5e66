"""`wsk package` in-process: what each command sends, as openwhisk-cli sends it."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from tests.support.wsk_in_process import Recorder, body_of, props_file, reply, wsk

__all__ = ["props_file", "wsk"]  # the fixtures: the CLI against a recording stand-in API
Wsk = Callable[..., Result]
BASE = "http://whisk.test/api/v1/namespaces"


def test_create_sends_only_what_was_given(wsk: Wsk) -> None:
    recorder = Recorder(reply(200, {}))
    result = wsk("package", "create", "tools", "-p", "n", "5", "--shared", "YES", handler=recorder)
    assert result.stdout == "ok: created package tools\n"
    request = recorder.only
    assert (request.method, request.url) == ("PUT", f"{BASE}/_/packages/tools?overwrite=false")
    assert body_of(request) == {
        "namespace": "_",
        "name": "tools",
        "parameters": [{"key": "n", "value": 5}],
        "publish": True,
    }
    recorder = Recorder(reply(200, {}))
    wsk("package", "update", "/ns/tools", handler=recorder)
    assert recorder.only.url == f"{BASE}/ns/packages/tools?overwrite=true"
    assert body_of(recorder.only) == {"namespace": "ns", "name": "tools"}  # keeps the rest


def test_bind_names_the_bound_package(wsk: Wsk) -> None:
    recorder = Recorder(reply(200, {}))
    result = wsk("package", "bind", "/whisk.system/utils", "mine", "-a", "x", "y", handler=recorder)
    assert result.stdout == "ok: created binding mine\n"
    assert recorder.only.url == f"{BASE}/_/packages/mine?overwrite=false"
    assert body_of(recorder.only) == {
        "annotations": [{"key": "x", "value": "y"}],
        "binding": {"namespace": "whisk.system", "name": "utils"},
    }
    recorder = Recorder(
        reply(400, {"error": "Cannot bind to another package binding.", "code": "c1"})
    )
    failed = wsk("package", "bind", "base", "again", "-o", handler=recorder)
    assert recorder.only.url.endswith("/_/packages/again?overwrite=true")
    assert body_of(recorder.only)["binding"] == {"namespace": "_", "name": "base"}
    assert (failed.exit_code, failed.stderr) == (
        144,
        "error: Binding creation failed: Cannot bind to another package binding. (code c1)\n",
    )


def test_delete_force_and_list_namespace(wsk: Wsk) -> None:
    recorder = Recorder(reply(200, {}))
    assert wsk("package", "delete", "p", "--force", handler=recorder).stdout == (
        "ok: deleted package p\n"
    )
    assert (recorder.only.method, recorder.only.url) == (
        "DELETE",
        f"{BASE}/_/packages/p?force=true",
    )
    listed = [{"namespace": "whisk.system", "name": "utils", "publish": True, "binding": False}]
    recorder = Recorder(reply(200, listed))
    out = wsk("package", "list", "/whisk.system", "-l", "5", handler=recorder).stdout
    assert recorder.only.url == f"{BASE}/whisk.system/packages?limit=5&skip=0"
    assert out == f"packages\n{'/whisk.system/utils':<70} shared\n"


def test_get_prints_the_go_struct_and_the_summary(wsk: Wsk) -> None:
    package = {
        "namespace": "ns",
        "name": "p",
        "version": "0.0.1",
        "publish": False,
        "binding": {},
        "parameters": [{"key": "k", "value": 1}],
        "annotations": [],
        "updated": 7,
        "actions": [{"name": "a", "version": "0.0.1", "annotations": []}],
        "feeds": [
            {"name": "f", "version": "0.0.1", "annotations": [{"key": "feed", "value": True}]}
        ],
    }
    got = wsk("package", "get", "p", handler=Recorder(reply(200, package))).stdout
    header, _, body = got.partition("\n")
    assert header == "ok: got package p"
    # Go's struct order; empty annotations omitted; `binding: {}` kept (a non-nil pointer)
    assert body.startswith('{\n    "namespace": "ns",\n    "name": "p",\n    "version": "0.0.1",\n')
    assert '"annotations"' not in body.split('"actions"')[0]
    assert '    "binding": {},\n' in body
    summary = wsk("package", "get", "p", "-s", handler=Recorder(reply(200, package))).stdout
    assert summary == (
        "package /ns/p: Returns a result based on parameter k\n"
        "   (parameters: *k)\n"
        " action /ns/p/a\n"
        "   (parameters: none defined)\n"
        " feed   /ns/p/f\n"
        "   (parameters: none defined)\n"
    )
    bad = wsk("package", "get", "p", "nope")
    assert (bad.exit_code, bad.stderr) == (1, "error: Invalid field filter 'nope'.\n")
