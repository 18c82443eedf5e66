"""The action proxy as the process-container factory runs it: a real process per container,
on an inherited listening socket, with real interpreters, spoken to over real sockets.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.polling import wait_until

REPO = Path(__file__).resolve().parents[2]
RUNTIME_DIR = REPO / "action_runtime"
# The interpreter process containers run the proxy with (Debian's, no third-party packages).
PROXY_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
API_HOST = "https://whisk.test:443"
LANGUAGES = ("python", "php", "nodejs")

EXITED = "The action did not produce a valid response and exited unexpectedly."
NOT_A_DICT = "The action did not return a dictionary or array."


# --- actions, per language --------------------------------------------------------------------

HELLO = {
    "python": """
def main(args):
    name = args.get("name", "stranger")
    print("hello printed", name)
    return {"greeting": f"Hello {name}!"}
""",
    "nodejs": """
function main(params) {
  const name = params.name || 'stranger';
  console.log('hello printed ' + name);
  return {greeting: 'Hello ' + name + '!'};
}
""",
    "php": """<?php
function main(array $args): array {
    $name = $args['name'] ?? 'stranger';
    echo "hello printed $name\\n";
    return ['greeting' => "Hello $name!"];
}
""",
}

# Returns the environment variables named in args["keys"] (null when unset).
ENV = {
    "python": """
import os
def main(args):
    return {key: os.environ.get(key) for key in args["keys"]}
""",
    "nodejs": """
function main(args) {
  const out = {};
  for (const key of args.keys) out[key] = key in process.env ? process.env[key] : null;
  return out;
}
""",
    "php": """<?php
function main(array $args): array {
    $out = [];
    foreach ($args['keys'] as $key) {
        $value = getenv($key);
        $out[$key] = $value === false ? null : $value;
    }
    return $out;
}
""",
}

TWO_FUNCTIONS = {
    "python": """
def main(args):
    return {"which": "main"}

def other(args):
    return {"which": "other", "got": args}
""",
    "nodejs": """
function main(args) { return {which: 'main'}; }
function other(args) { return {which: 'other', got: args}; }
""",
    "php": """<?php
function main(array $args): array { return ['which' => 'main']; }
function other(array $args): array { return ['which' => 'other', 'got' => $args]; }
""",
}

ECHO = {
    "python": "def main(args):\n    return args\n",
    "nodejs": "function main(args) { return args; }\n",
    "php": "<?php\nfunction main(array $args): array { return $args; }\n",
}

RAISES = {
    "python": "def main(args):\n    raise ValueError('boom')\n",
    "nodejs": "function main(args) { throw new Error('boom'); }\n",
    "php": "<?php\nfunction main(array $args): array { throw new Exception('boom'); }\n",
}

RETURNS_SCALAR = {
    "python": "def main(args):\n    return 'a string'\n",
    "nodejs": "function main(args) { return 42; }\n",
    "php": "<?php\nfunction main(array $args) { return 'a string'; }\n",
}

EXITS = {
    "python": "import sys\ndef main(args):\n    print('about to exit')\n    sys.exit(1)\n",
    "nodejs": "function main(args) { console.log('about to exit'); process.exit(1); }\n",
    "php": '<?php\nfunction main(array $args): array { echo "about to exit\\n"; exit(1); }\n',
}

PRINTS = {
    "python": """
import sys
def main(args):
    print("to-stdout", args["n"])
    print("to-stderr", args["n"], file=sys.stderr)
    return {"n": args["n"]}
""",
    "nodejs": """
function main(args) {
  console.log('to-stdout ' + args.n);
  console.error('to-stderr ' + args.n);
  return {n: args.n};
}
""",
    # No newline after the echo on purpose: the sentinel must still start its own line.
    "php": """<?php
function main(array $args): array {
    echo "to-stdout " . $args['n'];
    fwrite(STDERR, "to-stderr " . $args['n'] . "\\n");
    return ['n' => $args['n']];
}
""",
}

SYNTAX_ERROR = {
    "python": "def main(args):\n    return {'a': 1\n",
    "nodejs": "function main(args) {\n  return {a: 1;\n}\n",
    "php": "<?php\nfunction main(array $args): array {\n    return ['a' => 1\n}\n",
}
SYNTAX_ERROR_PREFIX = {"python": "SyntaxError: ", "nodejs": "SyntaxError: ", "php": "Parse error: "}
SYNTAX_ERROR_WHERE = {"python": "line 2", "nodejs": "index.js:2", "php": "index.php on line 4"}

NO_MAIN = {
    "python": "def handler(args):\n    return {}\n",
    "nodejs": "function handler(args) { return {}; }\n",
    "php": "<?php\nfunction handler(array $args): array { return []; }\n",
}
ENTRY = {"python": "__main__.py", "nodejs": "index.js", "php": "index.php"}

# Zips: an entry file plus a dependency in the place each ecosystem keeps them.
ZIPS: dict[str, dict[str, str]] = {
    "python": {
        "__main__.py": "import helper\nimport fancylib\n\n"
        "def main(args):\n    return {'helper': helper.shout(args['name']), "
        "'lib': fancylib.VERSION}\n",
        "helper.py": "def shout(s):\n    return s.upper()\n",
        "virtualenv/lib/python3.11/site-packages/fancylib/__init__.py": "VERSION = 'venv-1.0'\n",
    },
    "nodejs": {
        "package.json": json.dumps({"name": "zipped", "main": "lib/entry.js"}),
        "lib/entry.js": "const pad = require('padder');\nconst helper = require('./helper');\n"
        "exports.main = async (args) => ({helper: helper.shout(args.name), lib: pad('x', 3)});\n",
        "lib/helper.js": "exports.shout = (s) => s.toUpperCase();\n",
        "node_modules/padder/package.json": json.dumps({"name": "padder", "main": "pad.js"}),
        "node_modules/padder/pad.js": "module.exports = (s, n) => s.padStart(n, '-');\n",
    },
    "php": {
        "index.php": "<?php\nuse Acme\\Helper;\n"
        "function main(array $args): array {\n"
        "    return ['helper' => Helper::shout($args['name']), 'lib' => ACME_LIB];\n}\n",
        "vendor/autoload.php": "<?php\nconst ACME_LIB = 'vendor-1.0';\n"
        "spl_autoload_register(function ($class) {\n"
        "    require __DIR__ . '/acme/' . substr($class, 5) . '.php';\n});\n",
        "vendor/acme/Helper.php": "<?php\nnamespace Acme;\n"
        "class Helper { static function shout(string $s): string { return strtoupper($s); } }\n",
    },
}
ZIP_RESULT = {
    "python": {"helper": "ZED", "lib": "venv-1.0"},
    "nodejs": {"helper": "ZED", "lib": "--x"},
    "php": {"helper": "ZED", "lib": "vendor-1.0"},
}
ZIP_ENTRY_MISSING = {
    "python": "Zipped actions must contain __main__.py at the root.",
    "nodejs": "Zipped actions must contain either package.json or index.js at the root.",
    "php": "Zipped actions must contain index.php at the root.",
}


def zip_b64(files: dict[str, str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode()


def init_body(code: str, main: str = "main", binary: bool = False, **env: str) -> dict[str, Any]:
    return {"value": {"name": "act", "main": main, "binary": binary, "code": code, "env": env}}


def run_body(value: Any, **meta: str) -> dict[str, Any]:
    return {"value": value, **meta}


# --- the proxy process and a kept-alive client -----------------------------------------------


@dataclass
class RuntimeProcess:
    proc: subprocess.Popen[bytes]
    port: int
    work_dir: Path
    stdout_path: Path
    stderr_path: Path
    clients: list[Client] = field(default_factory=list)

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    async def client(self) -> Client:
        client = await Client.connect(self.port)
        self.clients.append(client)
        return client


StartRuntime = Callable[..., RuntimeProcess]


def child_pids(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def open_fds(pid: int) -> dict[int, str]:
    """fd number -> what it points to; only the fds the process had from the start."""
    found = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):
            found[int(name)] = os.readlink(f"/proc/{pid}/fd/{name}")
    return found


@pytest.fixture
def start_runtime(tmp_path: Path) -> Iterator[StartRuntime]:
    """Start proxies as the process-container factory does: a listening socket made here and
    inherited through --listen-fd, cwd = a private work dir, Debian's python3 -E -s."""
    started: list[RuntimeProcess] = []

    def start(
        language: str,
        *extra: str,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> RuntimeProcess:
        index = len(started)
        work_dir = tmp_path / f"work{index}"
        work_dir.mkdir()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        # A high fd, as in a busy invoker (a low one could hide a leak: fds 0-4 are replaced
        # in the launcher anyway).
        fd = os.dup2(listener.fileno(), 20 + index)
        stdout_path, stderr_path = tmp_path / f"stdout{index}", tmp_path / f"stderr{index}"
        base = command or [PROXY_PYTHON, "-E", "-s", str(RUNTIME_DIR)]
        argv = [*base, "--language", language, "--listen-fd", str(fd), *extra]
        child_env = {"PATH": os.environ["PATH"], "__OW_API_HOST": API_HOST, **(env or {})}
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            proc = subprocess.Popen(
                argv, cwd=work_dir, stdout=out, stderr=err, pass_fds=(fd,), env=child_env
            )
        os.close(fd)  # the child holds it now; connections queue in its backlog
        listener.close()
        runtime = RuntimeProcess(proc, port, work_dir, stdout_path, stderr_path)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        if runtime.proc.poll() is None:
            runtime.proc.send_signal(signal.SIGTERM)
        try:
            runtime.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            runtime.proc.kill()
            runtime.proc.wait()


class Client:
    """A deliberately plain HTTP/1.1 client: one kept-alive connection, nothing hidden."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
        return cls(reader, writer)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: runtime\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"Content-Type: application/json\r\n\r\n" + body)
        await self.writer.drain()
        response_head = await self.reader.readuntil(b"\r\n\r\n")
        lines = response_head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
        assert headers["content-type"] == "application/json"
        return status, await self.reader.readexactly(int(headers["content-length"]))

    async def post(self, path: str, payload: Any) -> tuple[int, Any]:
        status, body = await self.request("POST", path, json.dumps(payload).encode())
        return status, json.loads(body)

    async def init(self, code: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.post("/init", init_body(code, **kwargs))

    async def run(self, value: Any = None, **meta: str) -> tuple[int, Any]:
        return await self.post("/run", run_body({} if value is None else value, **meta))

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture(params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def runtime(
    start_runtime: StartRuntime, language: str
) -> AsyncIterator[tuple[RuntimeProcess, Client]]:
    proc = start_runtime(language)
    client = await proc.client()
    yield proc, client
    for c in proc.clients:
        await c.close()


# --- every language ---------------------------------------------------------------------------


async def test_hello_world_with_params(runtime: tuple[RuntimeProcess, Client], language: str):
    proc, client = runtime
    assert await client.init(HELLO[language]) == (200, {"ok": True})
    assert await client.run({"name": "Ada"}) == (200, {"greeting": "Hello Ada!"})
    assert await client.run({}) == (200, {"greeting": "Hello stranger!"})
    assert "hello printed Ada\n" in proc.stdout()


async def test_launcher_is_started_before_init(
    runtime: tuple[RuntimeProcess, Client], language: str
):
    proc, client = runtime
    # A request proves start-up is over; the launcher must already be running by then.
    assert await client.run({}) == (500, {"error": "no action defined yet"})
    children = child_pids(proc.proc.pid)
    assert len(children) == 1
    launcher_file = {"python": "launcher.py", "php": "launcher.php", "nodejs": "launcher.js"}
    assert any(part.endswith(launcher_file[language]) for part in cmdline(children[0]))
    # It holds our pipes and the container's stdout/stderr, but not the listening socket.
    targets = open_fds(children[0])
    assert targets[0] == "/dev/null"
    assert targets[3].startswith("pipe:") and targets[4].startswith("pipe:")
    assert not [t for t in targets.values() if t.startswith("socket:")], targets


async def test_ow_environment_round_trips(runtime: tuple[RuntimeProcess, Client], language: str):
    _, client = runtime
    assert (await client.init(ENV[language], INIT_VAR="from-init"))[0] == 200
    meta = {
        "namespace": "guest",
        "action_name": "/guest/pkg/env",
        "action_version": "0.0.3",
        "activation_id": "a" * 32,
        "transaction_id": "tid-1",
        "deadline": "1700000060000",
        "api_key": "uuid:secret",
    }
    keys = [f"__OW_{key.upper()}" for key in meta] + ["__OW_API_HOST", "INIT_VAR"]
    status, result = await client.run({"keys": keys}, **meta)
    assert status == 200
    assert result == {
        **{f"__OW_{key.upper()}": value for key, value in meta.items()},
        "__OW_API_HOST": API_HOST,
        "INIT_VAR": "from-init",
    }
    # A later activation without an API key must not see the previous one's.
    fewer = {key: value for key, value in meta.items() if key != "api_key"}
    status, result = await client.run({"keys": keys}, **{**fewer, "activation_id": "b" * 32})
    assert status == 200
    assert result["__OW_API_KEY"] is None
    assert result["__OW_ACTIVATION_ID"] == "b" * 32
    assert result["__OW_API_HOST"] == API_HOST


async def test_main_names_another_function(runtime: tuple[RuntimeProcess, Client], language: str):
    _, client = runtime
    assert (await client.init(TWO_FUNCTIONS[language], main="other"))[0] == 200
    assert await client.run({"x": 1}) == (200, {"which": "other", "got": {"x": 1}})


async def test_zip_action_with_dependencies(runtime: tuple[RuntimeProcess, Client], language: str):
    _, client = runtime
    assert await client.init(zip_b64(ZIPS[language]), binary=True) == (200, {"ok": True})
    assert await client.run({"name": "zed"}) == (200, ZIP_RESULT[language])


async def test_zip_without_entry_file(runtime: tuple[RuntimeProcess, Client], language: str):
    proc, client = runtime
    status, body = await client.init(zip_b64({"README.txt": "nothing here"}), binary=True)
    assert (status, body) == (502, {"error": ZIP_ENTRY_MISSING[language]})
    assert proc.stdout().endswith(SENTINEL + "\n")
    assert proc.stderr().endswith(SENTINEL + "\n")


async def test_syntax_error_reported_at_init(runtime: tuple[RuntimeProcess, Client], language: str):
    _, client = runtime
    status, body = await client.init(SYNTAX_ERROR[language])
    assert status == 502
    assert body["error"].startswith(SYNTAX_ERROR_PREFIX[language]), body
    assert SYNTAX_ERROR_WHERE[language] in body["error"], body
    assert await client.run({}) == (500, {"error": "no action defined yet"})


async def test_missing_main_function(start_runtime: StartRuntime, language: str):
    for code, main in [(NO_MAIN[language], "main"), (HELLO[language], "nope")]:
        client = await start_runtime(language).client()
        assert await client.init(code, main=main) == (
            502,
            {"error": f"{ENTRY[language]} has no function '{main}'."},
        )
        await client.close()


async def test_second_init_is_refused(runtime: tuple[RuntimeProcess, Client], language: str):
    _, client = runtime
    assert (await client.init(HELLO[language]))[0] == 200
    assert await client.init(HELLO[language]) == (
        403,
        {"error": "Cannot initialize the action more than once."},
    )
    assert await client.run({"name": "still"}) == (200, {"greeting": "Hello still!"})


async def test_run_before_init(runtime: tuple[RuntimeProcess, Client], language: str):
    proc, client = runtime
    assert await client.run({}) == (500, {"error": "no action defined yet"})
    assert proc.stdout().endswith(SENTINEL + "\n")


async def test_exception_is_an_error_result(runtime: tuple[RuntimeProcess, Client], language: str):
    proc, client = runtime
    assert (await client.init(RAISES[language]))[0] == 200
    assert await client.run({}) == (200, {"error": "boom"})
    assert "boom" in proc.stderr()  # the traceback / stack goes to the activation's stderr
    assert await client.run({}) == (200, {"error": "boom"})  # and the container lives on


async def test_non_dictionary_result(runtime: tuple[RuntimeProcess, Client], language: str):
    _, client = runtime
    assert (await client.init(RETURNS_SCALAR[language]))[0] == 200
    assert await client.run({}) == (502, {"error": NOT_A_DICT})


async def test_exit_fails_this_and_every_later_run(
    runtime: tuple[RuntimeProcess, Client], language: str
):
    proc, client = runtime
    assert (await client.init(EXITS[language]))[0] == 200
    assert await client.run({}) == (502, {"error": EXITED})
    assert await client.run({}) == (502, {"error": EXITED})
    stdout = proc.stdout()
    assert stdout.index("about to exit") < stdout.index(SENTINEL)
    assert stdout.count(SENTINEL) == 2


# The launcher dies just after answering (a timer, a background kill), not in a run.
DIES_AFTER_ANSWERING = {
    "python": "import os, threading\ndef main(args):\n"
    "    threading.Timer(0.3, os._exit, (0,)).start()\n    return {'bye': True}\n",
    "nodejs": "function main(args) { setTimeout(() => process.exit(0), 300); return {bye: true}; }\n",
    "php": "<?php\nfunction main(array $args): array {\n"
    "    exec('(sleep 0.3; kill -9 ' . getmypid() . ') > /dev/null 2>&1 &');\n"
    "    return ['bye' => true];\n}\n",
}


async def test_a_launcher_that_dies_between_runs_ends_the_runtime(
    runtime: tuple[RuntimeProcess, Client], language: str
):
    """Its container could only fail from then on: the proxy exits, so the invoker starts a
    new one for the next activation instead of failing it (a death in a run fails that run
    and the proxy stays, as above)."""
    proc, client = runtime
    assert (await client.init(DIES_AFTER_ANSWERING[language]))[0] == 200
    assert await client.run({}) == (200, {"bye": True})
    assert await asyncio.to_thread(proc.proc.wait, 10) == 0


async def test_sentinels_follow_each_activations_output(
    runtime: tuple[RuntimeProcess, Client], language: str
):
    proc, client = runtime
    assert (await client.init(PRINTS[language]))[0] == 200
    for n in range(3):
        assert await client.run({"n": n}) == (200, {"n": n})
        # The response is only sent once both sentinels are written.
        out, err = proc.stdout(), proc.stderr()
        assert out.endswith(f"to-stdout {n}\n{SENTINEL}\n"), out[-200:]
        assert err.endswith(f"to-stderr {n}\n{SENTINEL}\n"), err[-200:]
        assert out.count(SENTINEL) == err.count(SENTINEL) == n + 1


async def test_array_in_array_out(runtime: tuple[RuntimeProcess, Client], language: str):
    _, client = runtime
    assert (await client.init(ECHO[language]))[0] == 200
    assert await client.run([1, "two", {"three": 3}]) == (200, [1, "two", {"three": 3}])
    assert await client.run({"a": [1, 2]}) == (200, {"a": [1, 2]})


async def test_large_payload_round_trip(runtime: tuple[RuntimeProcess, Client], language: str):
    _, client = runtime
    assert (await client.init(ECHO[language]))[0] == 200
    blob = "x" * 900_000
    value = {"blob": blob, "text": 'naïve ☃ "quoted"\nnew line'}
    assert await client.run(value) == (200, value)


async def test_many_runs_on_one_connection(runtime: tuple[RuntimeProcess, Client], language: str):
    _, client = runtime
    assert (await client.init(ECHO[language]))[0] == 200
    for i in range(300):
        assert await client.run({"i": i}) == (200, {"i": i})


async def test_requests_are_serialised(runtime: tuple[RuntimeProcess, Client], language: str):
    proc, client = runtime
    assert (await client.init(ECHO[language]))[0] == 200
    others = [await proc.client() for _ in range(4)]
    results = await asyncio.gather(*(c.run({"c": i}) for i, c in enumerate([client, *others])))
    assert results == [(200, {"c": i}) for i in range(5)]


async def test_missing_interpreter_is_named(start_runtime: StartRuntime, language: str):
    proc = start_runtime(language, "--interpreter", "/nonexistent/interpreter")
    client = await proc.client()
    status, body = await client.init(HELLO[language])
    await client.close()
    command, install = {
        "python": ("python3", "python3"),
        "php": ("php", "php-cli"),
        "nodejs": ("node", "nodejs"),
    }[language]
    kind = {"python": "python:3.11", "php": "php:8.2", "nodejs": "nodejs:20"}[language]
    message = (
        f"The {kind} runtime needs the '{command}' command, "
        f"which is not installed (apt-get install {install})."
    )
    assert (status, body) == (502, {"error": message})
    assert message in proc.stderr()


# --- protocol edges (language-independent, checked on Python) ---------------------------------


@pytest.fixture
async def py_client(start_runtime: StartRuntime) -> AsyncIterator[Client]:
    client = await start_runtime("python").client()
    yield client
    await client.close()


async def test_bad_init_requests(py_client: Client):
    status, body = await py_client.request("POST", "/init", b"{not json")
    assert status == 400 and "Invalid JSON" in json.loads(body)["error"]
    assert await py_client.post("/init", {"value": {"main": "main"}}) == (
        403,
        {"error": "Missing main/no code to execute."},
    )
    status, body = await py_client.init("@@not base64@@", binary=True)
    assert status == 400 and body["error"].startswith("Invalid base64 code")
    # None of these used up the container's one initialisation.
    assert (await py_client.init(HELLO["python"]))[0] == 200


async def test_unknown_routes_are_404(py_client: Client):
    for method, path in [("GET", "/init"), ("POST", "/nope"), ("GET", "/")]:
        status, body = await py_client.request(method, path)
        assert status == 404 and "error" in json.loads(body)
    assert (await py_client.init(HELLO["python"]))[0] == 200  # connection still usable


async def test_bad_run_body_is_400(py_client: Client):
    assert (await py_client.init(ECHO["python"]))[0] == 200
    status, body = await py_client.request("POST", "/run", b"{oops")
    assert status == 400 and json.loads(body)["error"].startswith("Invalid /run body")
    assert await py_client.run({"ok": 1}) == (200, {"ok": 1})


async def test_python_none_result_and_crash(start_runtime: StartRuntime):
    client = await start_runtime("python").client()
    code = "import os, signal\ndef main(args):\n    if args.get('crash'):\n"
    code += "        os.kill(os.getpid(), signal.SIGSEGV)\n    return None\n"
    assert (await client.init(code))[0] == 200
    assert await client.run({}) == (502, {"error": NOT_A_DICT})
    assert await client.run({"crash": True}) == (502, {"error": EXITED})
    assert await client.run({}) == (502, {"error": EXITED})
    await client.close()


async def test_python_traceback_goes_to_stderr(start_runtime: StartRuntime):
    proc = start_runtime("python")
    client = await proc.client()
    assert (await client.init(RAISES["python"]))[0] == 200
    assert await client.run({}) == (200, {"error": "boom"})
    stderr = proc.stderr()
    assert "Traceback (most recent call last)" in stderr
    assert stderr.index("ValueError: boom") < stderr.index(SENTINEL)
    await client.close()


async def test_php_result_shapes(start_runtime: StartRuntime):
    client = await start_runtime("php").client()
    code = """<?php
function main(array $args) {
    switch ($args['shape']) {
        case 'empty': return [];
        case 'null': return null;
        case 'map': return ['a' => 1, 'b' => [1, 2], 'c' => []];
        case 'object': return (object) ['x' => 1.0];
    }
}
"""
    assert (await client.init(code))[0] == 200
    assert await client.run({"shape": "empty"}) == (200, {})
    assert await client.run({"shape": "null"}) == (200, {})
    assert await client.run({"shape": "map"}) == (200, {"a": 1, "b": [1, 2], "c": []})
    status, body = await client.request("POST", "/run", b'{"value":{"shape":"object"}}')
    assert (status, body) == (200, b'{"x":1.0}')
    await client.close()


NODE_STYLES = {
    "exports.main": "exports.main = (args) => ({style: 'exports', n: args.n});",
    "module.exports": "module.exports = function (args) { return {style: 'fn', n: args.n}; };",
    "async": "async function main(args) {\n"
    "  await new Promise((resolve) => setTimeout(resolve, 5));\n"
    "  return {style: 'async', n: args.n};\n}",
    "promise": "function main(args) {\n"
    "  return new Promise((resolve) => setImmediate(() => resolve({style: 'promise', n: args.n})));\n}",
    "strict const": "'use strict';\nconst main = (args) => ({style: 'const', n: args.n});",
}


@pytest.mark.parametrize("style", sorted(NODE_STYLES))
async def test_node_main_styles(start_runtime: StartRuntime, style: str):
    client = await start_runtime("nodejs").client()
    assert await client.init(NODE_STYLES[style]) == (200, {"ok": True})
    status, body = await client.run({"n": 7})
    assert status == 200 and body["n"] == 7
    await client.close()


async def test_node_rejections_and_undefined(start_runtime: StartRuntime):
    client = await start_runtime("nodejs").client()
    code = """
async function main(args) {
  if (args.how === 'error') throw new Error('async boom');
  if (args.how === 'object') return Promise.reject({code: 42});
  if (args.how === 'later') { setTimeout(() => { throw new Error('late boom'); }, 1); return new Promise(() => {}); }
  if (args.how === 'undefined') return;
  return {fine: true};
}
"""
    assert (await client.init(code))[0] == 200
    assert await client.run({"how": "error"}) == (200, {"error": "async boom"})
    assert await client.run({"how": "object"}) == (200, {"error": {"code": 42}})
    assert await client.run({"how": "later"}) == (200, {"error": "late boom"})
    assert await client.run({"how": "undefined"}) == (200, {})
    assert await client.run({}) == (200, {"fine": True})
    await client.close()


async def test_a_plain_http_client_keeps_one_connection(start_runtime: StartRuntime):
    """Any HTTP/1.1 client (here the standard library's) gets one kept-alive connection for
    /init and every /run, as the invoker's own client relies on."""
    proc = start_runtime("python")

    def exchange() -> list[object]:
        conn = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=10)
        headers = {"Content-Type": "application/json"}
        conn.request("POST", "/init", json.dumps(init_body(HELLO["python"])), headers)
        reply = conn.getresponse()
        answers: list[object] = [reply.status, json.loads(reply.read())]
        first = conn.sock
        for _ in range(20):
            conn.request("POST", "/run", json.dumps(run_body({"name": "a"})), headers)
            answers.append(json.loads(conn.getresponse().read()))
            assert conn.sock is first, "the runtime closed the connection"
        conn.close()
        return answers

    answers = await asyncio.to_thread(exchange)
    assert answers[:2] == [200, {"ok": True}]
    assert answers[2:] == [{"greeting": "Hello a!"}] * 20


async def test_runs_with_module_form_and_pythonpath(start_runtime: StartRuntime):
    """`python3 -m action_runtime` with PYTHONPATH, cwd elsewhere, also works."""
    proc = start_runtime(
        "python",
        command=[PROXY_PYTHON, "-s", "-m", "action_runtime"],
        env={"PYTHONPATH": str(REPO)},
    )
    client = await proc.client()
    assert (await client.init(HELLO["python"]))[0] == 200
    assert await client.run({"name": "m"}) == (200, {"greeting": "Hello m!"})
    await client.close()
    assert (proc.work_dir / "__main__.py").is_file()


async def test_sigterm_stops_proxy_and_launcher(start_runtime: StartRuntime):
    proc = start_runtime("nodejs")
    client = await proc.client()
    assert (await client.init(HELLO["nodejs"]))[0] == 200
    [launcher] = child_pids(proc.proc.pid)
    await client.close()
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.proc.wait(timeout=5) == 0
    wait_until(
        lambda: not Path(f"/proc/{launcher}").exists(),
        f"the launcher (pid {launcher}) gone",
        timeout=5,
        interval=0.01,
    )


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, Any]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head, json.loads(await reader.readexactly(length))


async def test_http_continue_chunked_and_http10(start_runtime: StartRuntime):
    proc = start_runtime("python")
    reader, writer = await asyncio.open_connection("127.0.0.1", proc.port)
    body = json.dumps(init_body(ECHO["python"])).encode()
    writer.write(
        b"POST /init HTTP/1.1\r\nHost: r\r\nExpect: 100-continue\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    # curl waits for this before sending bodies over 1 KB.
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(body)
    head, result = await read_response(reader)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and result == {"ok": True}

    run = json.dumps(run_body({"chunked": True})).encode()
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in (run[:7], run[7:]) if p)
    writer.write(
        b"POST /run HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    head, result = await read_response(reader)
    assert b"Connection: keep-alive" in head and result == {"chunked": True}

    writer.write(b"POST /run HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s" % (len(run), run))
    head, result = await read_response(reader)
    assert b"Connection: close" in head and result == {"chunked": True}
    assert await reader.read() == b""  # HTTP/1.0 without keep-alive: closed after answering
    writer.close()
    await writer.wait_closed()


async def test_oversized_body_is_refused(start_runtime: StartRuntime):
    proc = start_runtime("python")
    reader, writer = await asyncio.open_connection("127.0.0.1", proc.port)
    writer.write(b"POST /run HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (65 * 1024 * 1024))
    head, result = await read_response(reader)
    assert head.startswith(b"HTTP/1.1 413 ") and "larger than" in result["error"]
    writer.close()
    await writer.wait_closed()


async def test_interpreter_that_cannot_start_is_named(start_runtime: StartRuntime, tmp_path: Path):
    not_executable = tmp_path / "fake-php"
    not_executable.write_text("#!/nonexistent/shell\n")
    not_executable.chmod(0o755)
    proc = start_runtime("php", "--interpreter", str(not_executable))
    client = await proc.client()
    status, body = await client.init(HELLO["php"])
    await client.close()
    assert status == 502
    assert body["error"].startswith(f"The php:8.2 runtime could not start {not_executable}: ")
    assert body["error"] in proc.stderr()
