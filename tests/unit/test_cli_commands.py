"""The `wsk` command in-process: argument handling, help, wire shapes, output and exit codes.

No server: requests go to a stand-in transport that records them and answers as the
OpenWhisk REST API would (docs/openwhisk-compatibility.md §1), so each test pins one behaviour of the CLI.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from pywhisk.cli.transport import Response, TransportError
from tests.support.wsk_in_process import PROPS, Recorder, Sent, body_of, props_file, reply, wsk

__all__ = ["props_file", "wsk"]  # the fixtures, used below


# ------------------------------------------------------------------------- arguments
def test_missing_action_name(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "invoke")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: Invalid argument(s). An action name is required.\nRun 'wsk --help' for usage.\n"
    )


def test_too_many_arguments(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "delete", "a", "b")
    assert result.exit_code == 1
    assert "error: Invalid argument(s): b. An action name is required." in result.stderr


def test_create_needs_an_artifact(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "create", "hello")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: Invalid argument(s). An action name and code artifact are required.\n"
    )


def test_zip_needs_kind(wsk: Callable[..., Result], tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(b"PK")
    result = wsk("action", "create", "z", str(archive))
    assert result.exit_code == 2
    assert (
        "error: Invalid argument(s). creating an action from a .zip artifact requires "
        "specifying the action kind explicitly" in result.stderr
    )


def test_kind_and_docker_conflict(wsk: Callable[..., Result], tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("def main(a): return a")
    result = wsk("action", "create", "a", str(source), "--kind", "python:3", "--docker", "x/y")
    assert result.exit_code == 149
    assert "Cannot specify both --kind and --docker at the same time." in result.stderr


def test_param_without_value(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "invoke", "hello", "-p", "name")
    assert result.exit_code == 1
    assert "Arguments for '-p' must be a key/value pair" in result.stderr


def test_unknown_flag_and_command(wsk: Callable[..., Result]) -> None:
    flag = wsk("action", "list", "--bogus")
    assert flag.exit_code == 1
    assert flag.stderr == "error: unknown flag: --bogus\nRun 'wsk --help' for usage.\n"
    command = wsk("action", "bogus")
    assert command.exit_code == 1
    assert 'error: unknown command "bogus" for "wsk action"' in command.stderr


def test_invalid_field_filter(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "get", "hello", "bogus")
    assert result.exit_code == 2
    assert "error: Invalid field filter 'bogus'." in result.stderr


# ------------------------------------------------------------------------------ help
def test_help_looks_like_wsk(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "create", "--help")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith(
        "create a new action\nUsage:\n  wsk action create ACTION_NAME ACTION [flags]"
    )
    assert "  -t, --timeout LIMIT " in out
    assert "after which the action is terminated (default 60000)" in out
    assert "  -p, --param KEY VALUE " in out
    assert "\nGlobal Flags:\n      --apihost HOST " in out
    assert "  -h, --help " in out


def test_groups_list_their_commands(wsk: Callable[..., Result]) -> None:
    for args in (("activation", "--help"), ("activation",), ("help", "activation")):
        result = wsk(*args)
        assert result.exit_code == 0
        assert "Available Commands:\n  get         get activation\n" in result.stdout
        assert 'Use "wsk activation [command] --help"' in result.stdout


def test_no_arguments_prints_help(wsk: Callable[..., Result]) -> None:
    result = wsk()
    assert result.exit_code == 0
    assert "Usage:\n  wsk [command]" in result.stdout


# --------------------------------------------------------------------- create/update
def test_create_sends_wsks_put(wsk: Callable[..., Result], tmp_path: Path) -> None:
    source = tmp_path / "hello.py"
    source.write_text("def main(args):\n    return args\n")
    recorder = Recorder(reply(200, {"name": "hello"}))
    result = wsk(
        "action", "create", "hello", str(source), "-p", "name", "Rob", "-t", "3000",
        "-a", "description", "greets", handler=recorder,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "ok: created action hello\n"
    request = recorder.only
    assert request.method == "PUT"
    assert request.url == "http://whisk.test/api/v1/namespaces/_/actions/hello?overwrite=false"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"uuid:key").decode()
    assert request.headers["content-type"] == "application/json"
    assert body_of(request) == {
        "namespace": "_",
        "name": "hello",
        "limits": {"timeout": 3000},
        "parameters": [{"key": "name", "value": "Rob"}],
        "annotations": [{"key": "description", "value": "greets"}],
        "exec": {"code": "def main(args):\n    return args\n", "kind": "python:default"},
    }


def test_update_sends_only_what_was_given(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(reply(200, {}))
    result = wsk("action", "update", "/guest/pkg/hello", "-m", "512", handler=recorder)
    assert result.stdout == "ok: updated action pkg/hello\n"
    request = recorder.only
    assert request.path == "/api/v1/namespaces/guest/actions/pkg/hello"
    assert request.params["overwrite"] == "true"
    assert body_of(request) == {
        "namespace": "guest",
        "name": "pkg/hello",
        "limits": {"memory": 512},
    }


def test_sequence_components_are_qualified(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(reply(200, {}))
    wsk("action", "create", "seq", "--sequence", "a,pkg/b,/other/c", handler=recorder)
    assert body_of(recorder.only)["exec"] == {
        "kind": "sequence",
        "components": ["/_/a", "/_/pkg/b", "/other/c"],
    }


def test_create_conflict(wsk: Callable[..., Result], tmp_path: Path) -> None:
    source = tmp_path / "hello.js"
    source.write_text("function main() {}")
    recorder = Recorder(reply(409, {"error": "resource already exists", "code": "tid1"}))
    result = wsk("action", "create", "hello", str(source), handler=recorder)
    assert result.exit_code == 153
    assert result.stderr == (
        "error: Unable to create action 'hello': resource already exists (code tid1)\n"
        "Run 'wsk --help' for usage.\n"
    )


def test_update_with_web_reads_the_existing_action(wsk: Callable[..., Result]) -> None:
    existing = {"name": "hello", "annotations": [{"key": "require-whisk-auth", "value": "s"}]}
    recorder = Recorder(reply(200, existing), reply(200, {}))
    result = wsk("action", "update", "hello", "--web", "true", handler=recorder)
    assert result.exit_code == 0, result.stderr
    get, put = recorder.requests
    assert (get.method, get.params["code"]) == ("GET", "false")
    annotations = {a["key"]: a["value"] for a in body_of(put)["annotations"]}
    assert annotations == {
        "require-whisk-auth": "s",
        "web-export": True,
        "raw-http": False,
        "final": True,
    }


# -------------------------------------------------------------------------------- invoke
def test_non_blocking_invoke(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(reply(202, {"activationId": "abc"}))
    result = wsk("action", "invoke", "hello", "--param", "name", "Rob", handler=recorder)
    assert result.exit_code == 0
    assert result.stdout == "ok: invoked /_/hello with id abc\n"
    request = recorder.only
    assert request.method == "POST"
    assert request.url.endswith("/namespaces/_/actions/hello?blocking=false&result=false")
    assert body_of(request) == {"name": "Rob"}


def test_invoke_result_prints_the_result_like_wsk(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(reply(200, {"msg": "Hello World"}))
    result = wsk("action", "invoke", "hello", "--result", handler=recorder)
    assert result.stdout == '{\n    "msg": "Hello World"\n}\n'
    assert recorder.only.params["blocking"] == "true"
    assert recorder.only.params["result"] == "true"
    assert body_of(recorder.only) == {}


def test_blocking_invoke_prints_header_and_activation(wsk: Callable[..., Result]) -> None:
    activation = {
        "activationId": "abc",
        "response": {"status": "success", "success": True, "result": {"a": 1}},
    }
    result = wsk("action", "invoke", "hello", "-b", handler=Recorder(reply(200, activation)))
    assert result.exit_code == 0
    assert result.stdout.startswith(
        'ok: invoked /_/hello with id abc\n{\n    "activationId": "abc",'
    )


def test_application_error_goes_to_stderr_with_exit_246(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "invoke", "fail", "-r", handler=Recorder(reply(502, {"error": "boom"})))
    assert result.exit_code == 246
    assert result.stdout == ""
    assert result.stderr == '{\n    "error": "boom"\n}\n'


def test_failed_activation_answered_200_is_still_a_failure(wsk: Callable[..., Result]) -> None:
    activation = {
        "activationId": "abc",
        "response": {"status": "application error", "success": False, "result": {"error": "x"}},
    }
    result = wsk("action", "invoke", "fail", "-b", handler=Recorder(reply(200, activation)))
    assert result.exit_code == 246
    assert result.stderr.startswith("ok: invoked /_/fail with id abc\n{")


def test_blocking_invoke_not_finished(wsk: Callable[..., Result]) -> None:
    result = wsk(
        "action", "invoke", "slow", "-r", handler=Recorder(reply(202, {"activationId": "abc"}))
    )
    assert result.exit_code == 202
    assert result.stderr == (
        "ok: invoked /_/slow, but the request has not yet finished, with id abc\n"
    )


def test_invoke_of_a_missing_action(wsk: Callable[..., Result]) -> None:
    missing = reply(404, {"error": "The requested resource does not exist.", "code": "t2"})
    result = wsk("action", "invoke", "nope", handler=Recorder(missing))
    assert result.exit_code == 148
    assert result.stderr.startswith(
        "error: Unable to invoke action 'nope': The requested resource does not exist. (code t2)\n"
    )


# ------------------------------------------------------------------------ get/list/delete
def test_get_prints_struct_form(wsk: Callable[..., Result]) -> None:
    action = {"namespace": "guest", "name": "hello", "version": "0.0.1", "publish": False}
    recorder = Recorder(reply(200, action))
    result = wsk("action", "get", "hello", handler=recorder)
    assert result.stdout == (
        "ok: got action hello\n{\n"
        '    "namespace": "guest",\n    "name": "hello",\n    "version": "0.0.1",\n'
        '    "publish": false\n}\n'
    )
    assert recorder.only.params["code"] == "false"


def test_get_url(wsk: Callable[..., Result]) -> None:
    action = {
        "namespace": "guest/pkg",
        "name": "hi",
        "annotations": [{"key": "web-export", "value": True}],
    }
    result = wsk("action", "get", "pkg/hi", "--url", handler=Recorder(reply(200, action)))
    assert result.stdout == "ok: got action hi\nhttp://whisk.test/api/v1/web/guest/pkg/hi\n"


def test_list_table(wsk: Callable[..., Result]) -> None:
    actions = [
        {
            "namespace": "guest",
            "name": "hello",
            "annotations": [{"key": "exec", "value": "php:8.2"}],
        }
    ]
    recorder = Recorder(reply(200, actions))
    result = wsk("action", "list", "-l", "5", handler=recorder)
    assert result.stdout == f"actions\n{'/guest/hello':<70} private php:8.2\n"
    assert recorder.only.url.endswith("/namespaces/_/actions?limit=5&skip=0")


def test_list_package(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(reply(200, []))
    wsk("action", "list", "/guest/pkg", handler=recorder)
    assert recorder.only.path == "/api/v1/namespaces/guest/actions/pkg/"


def test_delete(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(reply(200, {}))
    result = wsk("action", "delete", "hello", handler=recorder)
    assert result.stdout == "ok: deleted action hello\n"
    assert recorder.only.method == "DELETE"


# ---------------------------------------------------------------------------- activations
def test_activation_get_last(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(
        reply(200, [{"activationId": "abc"}]),
        reply(200, {"activationId": "abc", "name": "hello", "response": {"status": "success"}}),
    )
    result = wsk("activation", "get", "--last", handler=recorder)
    assert result.exit_code == 0
    assert result.stdout.startswith("ok: got activation abc\n{\n")
    listing, get = recorder.requests
    assert listing.url.endswith("/namespaces/_/activations?limit=1&skip=0")
    assert get.path == "/api/v1/namespaces/_/activations/abc"


def test_activation_last_with_none(wsk: Callable[..., Result]) -> None:
    result = wsk("activation", "logs", "--last", handler=Recorder(reply(200, [])))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: Unable to get logs for activation: Activation list does not contain any "
        "activations.\nRun 'wsk --help' for usage.\n"
    )


def test_activation_logs_strip(wsk: Callable[..., Result]) -> None:
    logs = {"logs": ["2024-01-01T00:00:00.000000001Z stdout: hello", "plain"]}
    result = wsk("activation", "logs", "abc", "--strip", handler=Recorder(reply(200, logs)))
    assert result.stdout == "hello\nplain\n"


def test_activation_result(wsk: Callable[..., Result]) -> None:
    body = {"result": {"b": 2, "a": 1}, "status": "success", "success": True}
    result = wsk("activation", "result", "abc", handler=Recorder(reply(200, body)))
    assert result.stdout == '{\n    "a": 1,\n    "b": 2\n}\n'


def test_activation_list_query(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(reply(200, []))
    result = wsk("activation", "list", "pkg/hello", "--since", "5", "-f", handler=recorder)
    assert result.stdout == "activations\n"
    assert recorder.only.url.endswith(
        "/namespaces/_/activations?docs=true&limit=30&name=pkg%2Fhello&since=5&skip=0"
    )


# ------------------------------------------------------------------ errors and config
def test_connection_refused_names_the_host(wsk: Callable[..., Result]) -> None:
    def refuse(request: Sent) -> Response:
        raise TransportError("connection refused", refused=True)

    result = wsk("action", "list", handler=refuse)
    assert result.exit_code == 3
    assert "Unable to reach the API host 'http://whisk.test'" in result.stderr
    assert "connection refused" in result.stderr
    assert "wsk property set --apihost HOST" in result.stderr


def test_missing_auth_says_how_to_set_it(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "list", props="APIHOST=http://whisk.test\n")
    assert result.exit_code == 2
    assert "Authorization key is not configured (--auth is required)" in result.stderr
    assert "wsk property set --auth KEY" in result.stderr


def test_missing_apihost(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "list", props="AUTH=a:b\n")
    assert result.exit_code == 1
    assert "error: The API host is not valid: An API host must be provided." in result.stderr


def test_unparseable_error_body(wsk: Callable[..., Result]) -> None:
    broken = Response(500, [], b"<html>oops</html>")
    result = wsk("action", "get", "x", handler=Recorder(broken))
    assert result.exit_code == 244
    assert "The connection failed, or timed out. (HTTP status code 500)" in result.stderr


def test_global_flags_after_the_subcommand(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(reply(200, []))
    wsk("action", "list", "--apihost", "other.test:8443", "-u", "u2:k2", handler=recorder)
    request = recorder.only
    assert request.url.startswith("https://other.test:8443/api/v1/namespaces/_/actions")
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"u2:k2").decode()


def test_verbose_traces_the_exchange(wsk: Callable[..., Result]) -> None:
    result = wsk("-v", "action", "list", handler=Recorder(reply(200, [])))
    assert "REQUEST:\n[GET]\thttp://whisk.test/api/v1/namespaces/_/actions?limit=30&skip=0\n" in (
        result.stdout
    )
    assert "RESPONSE:Got response with code 200\n" in result.stdout
    assert result.stdout.endswith("actions\n")


def test_property_set_get_unset(wsk: Callable[..., Result], props_file: Path) -> None:
    result = wsk("property", "set", "--apihost", "http://new.test:3233", "--auth", "n:k")
    assert result.stdout == (
        "ok: whisk auth set. Run 'wsk property get --auth' to see the new value.\n"
        "ok: whisk API host set to http://new.test:3233\n"
    )
    assert props_file.read_text() == "APIHOST=http://new.test:3233\nAUTH=n:k\n"
    got = wsk("property", "get", "--apihost", "--auth")
    assert got.stdout == "whisk API host\t\thttp://new.test:3233\nwhisk auth\t\tn:k\n"
    raw = wsk("property", "get", "--apiversion", "-o", "raw")
    assert raw.stdout == "v1\n"
    unset = wsk("property", "unset", "--auth", "--apiversion")
    assert unset.stdout == (
        "ok: whisk auth unset.\n"
        "ok: whisk API version unset; the default value of v1 will be used.\n"
    )
    assert props_file.read_text() == "APIHOST=http://new.test:3233\n"


def test_property_set_namespace_is_validated(wsk: Callable[..., Result], props_file: Path) -> None:
    result = wsk("property", "set", "--namespace", "guest", handler=Recorder(reply(200, ["guest"])))
    assert result.stdout == "ok: whisk namespace set to guest\n"
    assert "NAMESPACE=guest" in props_file.read_text()
    refused = wsk(
        "property", "set", "--namespace", "other", handler=Recorder(reply(200, ["guest"]))
    )
    assert refused.exit_code == 1
    assert "Namespace 'other' is not in the list of entitled namespaces" in refused.stderr


def test_configured_namespace_is_used_for_names(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(reply(202, {"activationId": "abc"}))
    result = wsk("action", "invoke", "hello", handler=recorder, props=PROPS + "NAMESPACE=guest\n")
    assert result.stdout == "ok: invoked /guest/hello with id abc\n"
    assert recorder.only.path == "/api/v1/namespaces/guest/actions/hello"


def test_namespace_list(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(reply(200, ["guest"]))
    result = wsk("namespace", "list", handler=recorder)
    assert result.stdout == "namespaces\nguest\n"
    assert recorder.only.path == "/api/v1/namespaces"


def test_list_shows_every_collection_with_rule_status(wsk: Callable[..., Result]) -> None:
    recorder = Recorder(
        reply(200, [{"namespace": "guest", "name": "a", "annotations": []}]),
        reply(200, [{"namespace": "guest", "name": "p", "publish": True}]),
        reply(200, [{"namespace": "guest", "name": "t"}]),
        reply(200, [{"namespace": "guest", "name": "r"}]),
        reply(200, {"namespace": "guest", "name": "r", "status": "active"}),
    )
    result = wsk("list", handler=recorder)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Entities in namespace: default\n"
        f"packages\n{'/guest/p':<70} shared\n"
        f"actions\n{'/guest/a':<70} private \n"
        f"triggers\n{'/guest/t':<70} private\n"
        f"rules\n{'/guest/r':<70} {'private':<20} active\n"
    )
    paths = [request.path.rsplit("/", 1)[-1] for request in recorder.requests]
    assert paths == ["actions", "packages", "triggers", "rules", "r"]


def test_copy_takes_exec_parameters_and_annotations(wsk: Callable[..., Result]) -> None:
    source = {
        "exec": {"kind": "python:3.11", "code": "x", "binary": False},
        "parameters": [{"key": "a", "value": 1}],
        "annotations": [{"key": "exec", "value": "python:3.11"}],
    }
    recorder = Recorder(reply(200, source), reply(200, {}))
    result = wsk("action", "create", "copy", "orig", "--copy", handler=recorder)
    assert result.stdout == "ok: created action copy\n"
    get, put = recorder.requests
    assert get.params["code"] == "true"
    body = body_of(put)
    assert body["exec"] == source["exec"]
    assert body["parameters"] == source["parameters"]
    assert body["annotations"] == source["annotations"]


def test_debug_traces_the_configuration(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "list", "-d", handler=Recorder(reply(200, [])))
    assert "[Inf] Using properties file" in result.stdout
    assert "REQUEST:" in result.stdout


def test_client_cert_needs_its_key(wsk: Callable[..., Result]) -> None:
    result = wsk("action", "list", props=PROPS + "CERT=/tmp/cert.pem\n")
    assert result.exit_code == 1
    assert "error: The Key file is not configured. Please configure the missing Key file." in (
        result.stderr
    )
    unreadable = wsk("action", "list", "--cert", "/nonexistent.pem", "--key", "/nonexistent.key")
    assert unreadable.exit_code == 1
    assert "Unable to load the X509 key pair" in unreadable.stderr
