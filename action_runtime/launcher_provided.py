"""`provided` launcher: runs a Lambda custom runtime's `bootstrap` behind the AWS Lambda Runtime API.

Started by the proxy like the other launchers (see launcher.py for the line protocol on fd 3
and 4). On the init line it serves the Runtime API, v2018-06-01, on a loopback port and
starts the action's `bootstrap` (the zip's root, else `/opt/bootstrap` from a layer) with
Lambda's environment, `AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>` first of all. So unmodified
runtime interface clients (awslambdaric, aws-lambda-ric, Bref, a PHP `while (true)` loop)
work as they do on Lambda:

    GET  /2018-06-01/runtime/invocation/next            blocks until a /run arrives
    POST /2018-06-01/runtime/invocation/{id}/response   the activation's result
    POST /2018-06-01/runtime/invocation/{id}/error      an application error
    POST /2018-06-01/runtime/init/error                 the function could not start

Init succeeds when the bootstrap first asks for an event. Each /run line becomes the event
(the invocation's arguments) of one `next`; its answer is the reply line. A bootstrap that
exits makes this launcher exit too, so the proxy reports a developer error and the invoker
replaces the container; one that never asks again runs into the action's timeout.

Everything runs on threads of the stdlib HTTP server; the main thread is one consumer of a
queue of events (command lines, API calls, the bootstrap's exit), so the order in which they
happened is the order they are handled. A response posted just before the bootstrap exits is
therefore still delivered.
"""

import json
import os
import queue
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY_FD = 3
COMMAND_FD = 4
PREFIX = "/2018-06-01/runtime/"
MAX_RESPONSE = 6 * 1024 * 1024  # Lambda's synchronous response limit

events: "queue.Queue[tuple]" = queue.Queue()


def reply(value: object, prefix: bytes = b"") -> None:
    view = memoryview(prefix + json.dumps(value, ensure_ascii=False).encode() + b"\n")
    while view:
        view = view[os.write(REPLY_FD, view) :]


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class Invocations:
    """The one event a `next` may take, and the id of the one the bootstrap is working on."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pending: tuple[str, bytes, dict[str, str]] | None = None
        self.current: str | None = None

    def offer(self, request_id: str, body: bytes, headers: dict[str, str]) -> None:
        with self.cond:
            self.pending = (request_id, body, headers)
            self.current = request_id
            self.cond.notify_all()

    def take(self) -> tuple[str, bytes, dict[str, str]]:
        with self.cond:
            while self.pending is None:
                self.cond.wait()
            taken, self.pending = self.pending, None
            return taken

    def finish(self, request_id: str) -> bool:
        """True (once) when `request_id` is the invocation in flight."""
        with self.cond:
            if request_id != self.current or self.pending is not None:
                return False
            self.current = None
            return True


invocations = Invocations()


def peer_is_ours(peer_port: int, port: int) -> bool:
    """Whether the loopback connection from `peer_port` to our `port` belongs to a process of
    our process group (the bootstrap and whatever it started): process containers share the
    host's loopback, and no other action may take this function's events or answer them.
    About a millisecond, once per connection (clients keep theirs open)."""
    wanted = f":{peer_port:04X}"
    ours = f":{port:04X}"
    inode = None
    try:
        with open("/proc/net/tcp") as table:
            for line in table:
                fields = line.split()
                if fields[1].endswith(wanted) and fields[2].endswith(ours):
                    inode = fields[9]
                    break
    except OSError:
        return False
    if inode is None:
        return False
    target = f"socket:[{inode}]"
    group = os.getpgrp()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) != group:
                continue
            fds = os.listdir(f"/proc/{entry}/fd")
            if any(os.readlink(f"/proc/{entry}/fd/{fd}") == target for fd in fds):
                return True
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return False


class RuntimeServer(ThreadingHTTPServer):
    daemon_threads = True

    def verify_request(self, request: object, client_address: object) -> bool:
        port = client_address[1] if isinstance(client_address, tuple) else -1
        if peer_is_ours(port, self.server_address[1]):
            return True
        log(f"Refused a Runtime API connection from port {port}: not this function's process.")
        return False


class RuntimeApi(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # clients keep one connection open for every request
    server_version = "pywhisk-lambda-runtime-api"

    def log_message(self, format: str, *args: object) -> None:
        pass  # the activation's logs are the function's, not our access log

    def send(self, status: int, value: object, headers: dict[str, str] | None = None) -> None:
        body = value if isinstance(value, bytes) else json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, text in (headers or {}).items():
            self.send_header(key, text)
        self.end_headers()
        self.wfile.write(body)

    def refuse(self, status: int, error_type: str, message: str) -> None:
        self.send(status, {"errorMessage": message, "errorType": error_type})

    def read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if sum(map(len, chunks)) > MAX_RESPONSE:
                    return None
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_RESPONSE:
            # Read it to the end all the same, so the client sees the 413 rather than a reset
            # connection (only the function's own processes get this far).
            while length > 0:
                length -= len(self.rfile.read(min(length, 1 << 20)) or b"\0" * length)
            return None
        return self.rfile.read(length)

    def do_GET(self) -> None:
        if self.path != PREFIX + "invocation/next":
            self.refuse(404, "NotFound", f"No such Runtime API resource: GET {self.path}")
            return
        events.put(("next",))
        _, body, headers = invocations.take()
        self.send(200, body, headers)

    def do_POST(self) -> None:
        try:
            body = self.read_body()
        except ValueError:
            self.refuse(400, "InvalidRequest", "Malformed request body")
            return
        if body is None:
            self.refuse(413, "RequestEntityTooLarge", "The response exceeds 6291456 bytes")
            return
        path = self.path
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if path == PREFIX + "init/error":
            events.put(("init_error", body, error_type))
            self.send(202, {"status": "OK"})
            return
        parts = path[len(PREFIX) :].split("/") if path.startswith(PREFIX) else []
        if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response", "error"):
            self.refuse(404, "NotFound", f"No such Runtime API resource: POST {path}")
            return
        if not invocations.finish(parts[1]):
            self.refuse(400, "InvalidRequestID", f"Invalid request ID: {parts[1]!r}")
            return
        events.put((parts[2], body, error_type))
        self.send(202, {"status": "OK"})


def error_document(body: bytes, error_type: str | None) -> dict:
    """The error the bootstrap posted, as Lambda reads it: a JSON document, else its text."""
    try:
        document = json.loads(body) if body.strip() else {}
    except ValueError:
        document = {"errorMessage": body.decode("utf-8", "replace")}
    if not isinstance(document, dict):
        document = {"errorMessage": document}
    document.setdefault("errorType", error_type or "Unhandled")
    document.setdefault("errorMessage", document["errorType"])
    return document


def result_line(body: bytes) -> tuple[object, bytes]:
    """What a posted response makes of the activation's result (re-encoded on one line)."""
    try:
        return json.loads(body), b""
    except ValueError:
        return {"error": "The function's response is not valid JSON."}, b""


def lambda_environment(command: dict, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(command.get("env") or {})
    action = env.get("__OW_ACTION_NAME", "/_/function")
    name = action.rsplit("/", 1)[-1]
    task_root = command["dir"]
    stream = time.strftime("%Y/%m/%d") + "/[" + env.get("__OW_ACTION_VERSION", "0.0.1") + "]"
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
            "_HANDLER": command.get("main") or "main",
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": task_root,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + name,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream + os.urandom(16).hex(),
            "AWS_EXECUTION_ENV": "AWS_Lambda_provided",
            "PYTHONUNBUFFERED": "1",  # prints must reach the logs before the sentinels
        }
    )
    env.setdefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
    env.setdefault("TZ", ":UTC")
    return env


def find_bootstrap(work_dir: str, opt: str | None) -> str | None:
    """The zip's `bootstrap`, else the layers' (`opt`: where they are, when there are any)."""
    candidates = [os.path.join(work_dir, "bootstrap")]
    if opt:
        candidates.append(os.path.join(opt, "bootstrap"))
    for candidate in candidates:
        if os.path.isfile(candidate):
            if not os.access(candidate, os.X_OK) and candidate.startswith(work_dir):
                os.chmod(candidate, 0o755)  # a single-file action arrives without modes
            return candidate
    return None


def event_headers(run: dict, env: dict[str, str]) -> dict[str, str]:
    request_id = str(run.get("activation_id") or os.urandom(16).hex())
    namespace = str(run.get("namespace") or "_")
    action = str(run.get("action_name") or "/_/function").strip("/").split("/", 1)[-1]
    headers = {
        "Lambda-Runtime-Aws-Request-Id": request_id,
        "Lambda-Runtime-Deadline-Ms": str(run.get("deadline") or int(time.time() * 1000) + 60000),
        "Lambda-Runtime-Invoked-Function-Arn": (
            f"arn:aws:lambda:local:{namespace}:function:{action.replace('/', ':')}"
        ),
        "Lambda-Runtime-Trace-Id": (
            f"Root=1-{int(time.time()):08x}-{(request_id * 2)[:24]};Sampled=0"
        ),
    }
    # The invoke's X-Amz-Client-Context, decoded (the controller checked it is a JSON object).
    # No Lambda-Runtime-Cognito-Identity: pywhisk has no Cognito identity pools, so, as on
    # Lambda for a function not invoked with Cognito credentials, it is never known.
    if isinstance(run.get("client_context"), str):
        headers["Lambda-Runtime-Client-Context"] = run["client_context"]
    return headers


def read_commands() -> None:
    with os.fdopen(COMMAND_FD, "rb", buffering=1 << 20) as commands:
        for line in commands:
            events.put(("command", line))
    events.put(("eof",))


def init(command: dict) -> subprocess.Popen | None:
    """Serve the API and start the bootstrap; None (after replying the error) if impossible."""
    bootstrap = find_bootstrap(command["dir"], command.get("opt"))
    if bootstrap is None:
        reply(
            {
                "error": "The action needs an executable 'bootstrap' at the root of its zip "
                "file (or /opt/bootstrap from a layer)."
            }
        )
        return None
    server = RuntimeServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = lambda_environment(command, server.server_address[1])
    try:
        process = subprocess.Popen(
            [bootstrap], cwd=command["dir"], env=env, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        reply({"error": f"The bootstrap could not be started: {exc}"})
        return None
    threading.Thread(target=lambda: events.put(("exit", process.wait())), daemon=True).start()
    return process


def main() -> None:
    threading.Thread(target=read_commands, daemon=True).start()
    process: subprocess.Popen | None = None
    phase = "new"  # new -> starting (bootstrap started) -> ready; "idle"/"busy" once ready
    env: dict[str, str] = {}
    while True:
        event = events.get()
        kind = event[0]
        if kind == "eof":
            break
        if kind == "command" and phase == "new":
            try:
                command = json.loads(event[1])
            except ValueError as exc:
                reply({"error": f"Invalid init command: {exc}"})
                continue
            process = init(command)
            if process is None:
                continue
            env = dict(command.get("env") or {})
            phase = "starting"
        elif kind == "command":
            try:
                run = json.loads(event[1])
                value = run.get("value", {}) if isinstance(run, dict) else None
            except ValueError as exc:
                reply({"error": f"Invalid JSON in /run body: {exc}"}, prefix=b"!")
                continue
            if not isinstance(run, dict):
                reply({"error": "Invalid /run body: not an object"}, prefix=b"!")
                continue
            body = json.dumps(value, ensure_ascii=False).encode()
            headers = event_headers(run, env)
            invocations.offer(headers["Lambda-Runtime-Aws-Request-Id"], body, headers)
            phase = "busy"
        elif kind == "next" and phase == "starting":
            reply({"ok": True})
            phase = "idle"
        elif kind == "init_error" and phase == "starting":
            document = error_document(event[1], event[2])
            reply({"error": f"{document['errorType']}: {document['errorMessage']}"})
            phase = "failed"
        elif kind == "response" and phase == "busy":
            result, _ = result_line(event[1])
            reply(result)
            phase = "idle"
        elif kind == "error" and phase == "busy":
            reply({"error": error_document(event[1], event[2])})
            phase = "idle"
        elif kind == "exit":
            code = event[1]
            log(f"The bootstrap exited with status {code}.")
            if phase == "starting":
                reply(
                    {
                        "error": f"The bootstrap exited with status {code} before asking for "
                        "an event (GET /2018-06-01/runtime/invocation/next)."
                    }
                )
                phase = "failed"
                continue
            break  # the proxy sees us gone: a developer error, and a new container
    if process is not None and process.poll() is None:
        process.kill()
    os._exit(1)


if __name__ == "__main__":
    main()
