"""Lambda custom runtimes (`--kind provided`) on a real standalone server with the real `wsk`:
AWS's own runtime interface client for Python (awslambdaric from PyPI, vendored in the zip as
AWS documents), the talk's PHP bootstrap loop, a Bref-style handler, and bootstraps that
misbehave (exit, fail to start, never exist)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.examples import EXAMPLES
from tests.support.lambda_zip import (
    RIC_BOOTSTRAP,
    RIC_HANDLER,
    ensure_awslambdaric,
    write_executable,
    zip_tree,
)
from tests.support.polling import wait_until
from tests.support.server import StandaloneServer

Wsk = Callable[..., subprocess.CompletedProcess[str]]


def invoke(api: httpx.Client, name: str, params: dict[str, object]) -> httpx.Response:
    return api.post(f"/namespaces/_/actions/{name}", params={"blocking": "true"}, json=params)


@pytest.fixture(scope="module")
def ric_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path("/usr/bin/python3").exists():
        pytest.fail("process containers run Debian's /usr/bin/python3, which is missing")
    vendored = ensure_awslambdaric()
    tree = tmp_path_factory.mktemp("ric")
    (tree / "handler.py").write_text(RIC_HANDLER)
    write_executable(tree / "bootstrap", RIC_BOOTSTRAP)
    return zip_tree(tree.parent / "ric.zip", tree, vendored)


def test_awslambdaric_runs_unmodified(
    wsk: Wsk, api: httpx.Client, ric_zip: Path, namespace: object
) -> None:
    created = wsk(
        "action", "create", "hello", str(ric_zip), "--kind", "provided",
        "--main", "handler.hello", "--memory", "128",
    )  # fmt: skip
    assert created.stdout == "ok: created action hello\n"
    result = json.loads(wsk("action", "invoke", "hello", "--result", "-p", "name", "Rob").stdout)
    assert result["msg"] == "Hello Rob"
    assert result["memory"] == "128"
    assert result["time_left"] is True
    assert result["env"]["_HANDLER"] == "handler.hello"
    assert result["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "hello"
    assert result["arn"].endswith(":function:hello")

    # The request id the runtime saw is the activation id; the print is in its logs.
    record = api.get(f"/namespaces/_/activations/{result['request_id']}").json()
    assert record["response"]["status"] == "success"
    assert any(f"hello from hello {result['request_id']}" in line for line in record["logs"])

    # Warm: the same bootstrap process answers the next event.
    again = json.loads(wsk("action", "invoke", "hello", "--result").stdout)
    assert again["msg"] == "Hello World"
    assert again["pid"] == result["pid"]
    assert again["request_id"] != result["request_id"]
    assert again["custom"] is None and again["cognito"] is None  # none known

    # Lambda's client context, given as its Invoke API takes it.
    mobile = {"custom": {"app": "photos"}, "env": {"locale": "en-GB"}}
    encoded = base64.b64encode(json.dumps(mobile).encode()).decode()
    with_context = api.post(
        "/namespaces/_/actions/hello",
        params={"blocking": "true", "result": "true"},
        headers={"X-Amz-Client-Context": encoded},
        json={},
    )
    assert with_context.json()["custom"] == {"app": "photos"}
    refused = api.post(
        "/namespaces/_/actions/hello",
        params={"blocking": "true"},
        headers={"X-Amz-Client-Context": base64.b64encode(b"[1]").decode()},
        json={},
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == (
        "X-Amz-Client-Context must be a base64-encoded JSON object of at most 3583 characters."
    )


def test_the_python_example_as_its_readme_deploys_it(
    wsk: Wsk, api: httpx.Client, tmp_path: Path
) -> None:
    """examples/lambda-python: its handler and bootstrap zipped with awslambdaric beside them
    (the README's `pip install --target`), created and invoked with wsk as the README says."""
    example = EXAMPLES / "lambda-python"
    archive = zip_tree(tmp_path / "hello-py.zip", example, ensure_awslambdaric())
    wsk(
        "action", "create", "hello-py", str(archive), "--kind", "provided",
        "--main", "handler.hello", "--memory", "128",
    )  # fmt: skip
    rob = wsk("action", "invoke", "hello-py", "--result", "-p", "name", "Rob").stdout
    assert json.loads(rob) == {"msg": "Hello Rob", "memory": "128"}
    last = api.get("/namespaces/_/activations", params={"limit": 1}).json()[0]
    logs = wsk("activation", "logs", "--last").stdout
    assert f"hello-py handles {last['activationId']}" in logs
    failed = invoke(api, "hello-py", {"name": ""}).json()
    assert failed["response"]["status"] == "application error"
    error = failed["response"]["result"]["error"]
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "the name is empty")


def test_awslambdaric_error_is_an_application_error(
    api: httpx.Client, wsk: Wsk, ric_zip: Path
) -> None:
    wsk(
        "action", "create", "failing", str(ric_zip), "--kind", "provided", "--main", "handler.hello"
    )
    answer = invoke(api, "failing", {"fail": True})
    assert answer.status_code == 502
    record = answer.json()
    assert record["response"]["status"] == "application error"
    error = record["response"]["result"]["error"]
    assert error["errorMessage"] == "asked to fail"
    assert error["errorType"] == "ValueError"
    # The container survives an application error: the next event is served.
    assert (
        invoke(api, "failing", {"name": "Ann"}).json()["response"]["result"]["msg"] == "Hello Ann"
    )


def test_talk_php_bootstrap_loop(wsk: Wsk, tmp_path: Path) -> None:
    if not shutil.which("php"):
        pytest.fail("php-cli is needed for the talk's PHP example")
    example = EXAMPLES / "lambda-php"
    archive = zip_tree(tmp_path / "hello.zip", example / "layer", example / "function")
    wsk("action", "create", "hello", str(archive), "--kind", "provided", "--main", "handler.hello")
    rob = wsk("action", "invoke", "hello", "--result", "-p", "name", "Rob").stdout
    assert rob == '{\n    "msg": "Hello Rob"\n}\n'
    world = wsk("action", "invoke", "hello", "--result").stdout
    assert json.loads(world) == {"msg": "Hello World"}


def test_bref_style_handler(wsk: Wsk, tmp_path: Path) -> None:
    archive = zip_tree(tmp_path / "bref.zip", EXAMPLES / "lambda-bref")
    wsk("action", "create", "bref", str(archive), "--kind", "provided", "--main", "index.php")
    result = wsk("action", "invoke", "bref", "--result", "-p", "name", "Rob").stdout
    assert json.loads(result) == {"msg": "Hello Rob"}


def shell_action(wsk: Wsk, tmp_path: Path, name: str, bootstrap: str) -> None:
    tree = tmp_path / name
    write_executable(tree / "bootstrap", bootstrap)
    archive = zip_tree(tmp_path / f"{name}.zip", tree)
    wsk("action", "create", name, str(archive), "--kind", "provided")


API = "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"

# `boot` tells bootstrap processes apart (a sandbox's PID namespace gives each the same pid).
ONE_SHOT = f"""#!/bin/sh
boot=$(cat /proc/sys/kernel/random/uuid)
headers=$(mktemp)
event=$(curl -sS -D "$headers" {API}/invocation/next)
id=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$headers" | cut -d: -f2 | tr -d ' \\r')
echo "one event: $event"
curl -sS -d "{{\\"boot\\": \\"$boot\\", \\"event\\": $event}}" {API}/invocation/$id/response >/dev/null
echo "leaving" >&2
"""


def stored_logs(api: httpx.Client, answer: dict[str, Any]) -> list[str]:
    """The activation's logs once its record is written (after the container is gone, for
    a developer error)."""
    found = wait_until(
        lambda: api.get(f"/namespaces/_/activations/{answer['activationId']}/logs"),
        f"the record of {answer['activationId']}",
        until=lambda r: r.status_code == 200,
    )
    return list(found.json()["logs"])


DIES_MID_EVENT = f"""#!/bin/sh
curl -sS {API}/invocation/next >/dev/null
echo "taken, and dying" >&2
exit 4
"""


def test_bootstrap_that_exits_is_replaced(wsk: Wsk, api: httpx.Client, tmp_path: Path) -> None:
    """A bootstrap that exits after answering costs no activation: its container ends with
    it, and the next event gets a new one (a new bootstrap), as Lambda starts a new
    environment. One that dies with an event in hand fails that activation as the action's
    fault (developer error), with its output in the logs, and its container is replaced."""
    shell_action(wsk, tmp_path, "once", ONE_SHOT)
    boots = []
    for n in (1, 2, 3):
        answer = invoke(api, "once", {"n": n}).json()
        assert answer["response"]["status"] == "success", answer
        assert answer["response"]["result"]["event"] == {"n": n}
        boots.append(answer["response"]["result"]["boot"])
        stored = api.get(f"/namespaces/_/activations/{answer['activationId']}").json()
        assert any("one event" in line for line in stored["logs"]), stored["logs"]
        time.sleep(1)  # the ended container reaches the invoker within ms; margin for load
    assert len(set(boots)) == 3

    shell_action(wsk, tmp_path, "dies", DIES_MID_EVENT)
    dying = invoke(api, "dies", {}).json()
    assert dying["response"]["status"] == "action developer error"
    assert dying["response"]["result"] == {
        "error": "The action did not produce a valid response and exited unexpectedly."
    }
    assert any("stderr: taken, and dying" in line for line in stored_logs(api, dying)), dying


def test_init_error_and_missing_bootstrap(wsk: Wsk, api: httpx.Client, tmp_path: Path) -> None:
    shell_action(
        wsk,
        tmp_path,
        "broken",
        f"#!/bin/sh\ncurl -sS -H 'Lambda-Runtime-Function-Error-Type: Runtime.NoSuchHandler' "
        f'-d \'{{"errorMessage": "no handler here", "errorType": "Runtime.NoSuchHandler"}}\' '
        f"{API}/init/error\nexit 1\n",
    )
    broken = invoke(api, "broken", {}).json()
    assert broken["response"]["status"] == "action developer error"
    assert "Runtime.NoSuchHandler: no handler here" in broken["response"]["result"]["error"]

    archive = tmp_path / "empty.zip"
    zip_tree(archive, write_executable(tmp_path / "empty" / "run.sh", "#!/bin/sh\n").parent)
    wsk("action", "create", "nobootstrap", str(archive), "--kind", "provided")
    missing = invoke(api, "nobootstrap", {}).json()
    assert missing["response"]["status"] == "action developer error"
    assert "bootstrap" in missing["response"]["result"]["error"]

    shell_action(wsk, tmp_path, "dies", "#!/bin/sh\necho starting; exit 3\n")
    dies = invoke(api, "dies", {}).json()
    assert dies["response"]["status"] == "action developer error"
    assert "exited with status 3" in dies["response"]["result"]["error"]


def test_env_flag_sets_init_parameters(
    wsk: Wsk, api: httpx.Client, ric_zip: Path, tmp_path: Path
) -> None:
    """`--env K V`: in the bootstrap's environment (and a Python action's), not in the event."""
    wsk(
        "action", "create", "greeter", str(ric_zip), "--kind", "provided",
        "--main", "handler.hello", "--env", "GREETING", "Howdy", "-p", "name", "Ann",
    )  # fmt: skip
    stored = api.get("/namespaces/_/actions/greeter").json()["parameters"]
    assert {"key": "GREETING", "value": "Howdy", "init": True} in stored
    result = json.loads(wsk("action", "invoke", "greeter", "--result").stdout)
    assert result["env"]["GREETING"] == "Howdy"
    assert result["msg"] == "Hello Ann"
    assert result["event_keys"] == ["name"]  # an init parameter is not in the event
    script = tmp_path / "env.py"
    script.write_text(
        "import os\ndef main(args):\n    return {'g': os.environ.get('GREETING'), 'args': sorted(args)}\n"
    )
    wsk("action", "create", "pyenv", str(script), "--env", "GREETING", "Hi")
    assert json.loads(wsk("action", "invoke", "pyenv", "--result").stdout) == {
        "g": "Hi",
        "args": [],
    }


THIEF = """\
import os, threading, time, urllib.request

def main(args):
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/environ", "rb") as env:
                for item in env.read().split(b"\\0"):
                    if item.startswith(b"AWS_LAMBDA_RUNTIME_API="):
                        found.append(item.split(b"=", 1)[1].decode())
        except OSError:
            pass
    # A sandboxed thief sees no other process: it tries every loopback listener instead.
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.split(":")
            if state == "0A" and address == "0100007F":
                found.append(f"127.0.0.1:{int(port, 16)}")
    outcome = {}

    def steal(address):
        try:
            with urllib.request.urlopen(
                f"http://{address}/2018-06-01/runtime/invocation/next", timeout=8
            ) as reply:
                outcome[address] = reply.read().decode()
        except Exception as exc:
            outcome[address] = f"refused: {type(exc).__name__}"

    threads = [threading.Thread(target=steal, args=(a,)) for a in set(found)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"apis": sorted(set(found)), "outcome": outcome}
"""


def test_another_action_cannot_take_or_answer_events(
    wsk: Wsk, api: httpx.Client, server: StandaloneServer, ric_zip: Path, tmp_path: Path
) -> None:
    """Process containers share the host's loopback: another tenant's action that finds the
    Runtime API's address (in another process's environ when unsandboxed, or by trying every
    loopback listener) must not get events."""
    wsk("action", "create", "victim", str(ric_zip), "--kind", "provided", "--main", "handler.hello")
    assert invoke(api, "victim", {"name": "warm"}).json()["response"]["status"] == "success"

    attacker = server.create_namespace(f"thief-{tmp_path.name[-10:]}")
    uuid, _, key = attacker.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=90) as thief:
        created = thief.put(
            "/namespaces/_/actions/thief",
            json={"exec": {"kind": "python:3.11", "code": THIEF}},
        )
        assert created.status_code == 200
        stolen: dict[str, object] = {}
        worker = threading.Thread(
            target=lambda: stolen.update(
                thief.post("/namespaces/_/actions/thief", params={"blocking": "true"}).json()
            )
        )
        worker.start()
        time.sleep(3)  # the thief is waiting on the victim's /next by now, if it can
        answer = invoke(api, "victim", {"name": "secret"}).json()
        worker.join()
    assert answer["response"]["result"]["msg"] == "Hello secret"
    result = stolen["response"]["result"]  # type: ignore[index]
    assert result["apis"], "the thief found no Runtime API to try"  # type: ignore[index]
    # Any loopback listener is tried, other tests' servers too, and some answer with a page of
    # their own: what matters is that no listener handed the thief the victim's event.
    answered = {a: o for a, o in result["outcome"].items() if not o.startswith("refused")}  # type: ignore[index]
    assert not any("secret" in o for o in answered.values()), answered


def test_bootstrap_that_never_asks_or_never_answers_times_out(
    wsk: Wsk, api: httpx.Client, tmp_path: Path
) -> None:
    """Limits as for any action: the timeout ends a bootstrap that hangs, as a developer error."""
    shell_action(wsk, tmp_path, "mute", "#!/bin/sh\nexec sleep 600\n")
    wsk("action", "update", "mute", "--timeout", "2000")
    mute = invoke(api, "mute", {}).json()
    assert mute["response"]["status"] == "action developer error"
    assert "exceeded its time limits of 2000 milliseconds" in mute["response"]["result"]["error"]

    shell_action(
        wsk,
        tmp_path,
        "hangs",
        f"#!/bin/sh\ncurl -sS {API}/invocation/next >/dev/null\nexec sleep 600\n",
    )
    wsk("action", "update", "hangs", "--timeout", "2000")
    hangs = invoke(api, "hangs", {}).json()
    assert hangs["response"]["status"] == "action developer error"
    assert "exceeded its time limits of 2000 milliseconds" in hangs["response"]["result"]["error"]


HOG = """#!/usr/bin/python3
import os, urllib.request
urllib.request.urlopen(f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation/next")
print("taking 400 MB", flush=True)
hog = b"x" * (400 << 20)
"""


def test_memory_limit_holds_the_bootstrap(wsk: Wsk, api: httpx.Client, tmp_path: Path) -> None:
    """Limits as for any action: a bootstrap that outgrows the action's memory is killed by
    it, and the record says so (process containers' cgroups need the platform to run as
    root, as the test suite does)."""
    shell_action(wsk, tmp_path, "hog", HOG)
    wsk("action", "update", "hog", "--memory", "128")
    answer = invoke(api, "hog", {}).json()
    assert answer["response"]["status"] == "action developer error"
    assert answer["response"]["result"] == {
        "error": "The action exhausted its memory and was aborted."
    }
    assert any("taking 400 MB" in line for line in stored_logs(api, answer))
