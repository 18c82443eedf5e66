"""Python launcher: one long-lived interpreter that loads the action once and calls it per /run.

Started by the proxy (launchers.py) *before* /init, as `python3 -E -s launcher.py`, in the
action's work dir, with: fd 0 = /dev/null, fd 1/2 = the container's stdout/stderr (the user's
prints go straight there), fd 3 = reply pipe to the proxy, fd 4 = command pipe from the proxy.

Line protocol (shared by launcher.py, launcher.php and launcher.js; UTF-8 JSON, one per line):

  proxy -> launcher, first line (init):
      {"main": "<function name>", "dir": "<work dir>", "zip": <bool>, "env": {"K": "v", ...}}
    The launcher exports `env`, loads the entry file from `dir` (Python `__main__.py`,
    PHP `index.php`, Node `package.json` "main" or `index.js`) and finds the function.
  launcher -> proxy:
      {"ok": true}                 loaded
      {"error": "<message>"}       not loaded (syntax error, no such function, ...)

  proxy -> launcher, every later line (run): the /run body itself,
      {"value": <args>, "namespace": ..., "activation_id": ..., "deadline": "...", ...}
    The launcher sets __OW_<KEY> for every key but `value` (and unsets those a previous run
    set that are absent now), calls main(value), flushes stdout and stderr, then replies with
    one line:
      <the result as JSON>         whatever main returned; the proxy answers 200 if it is an
                                   object or array and 502 otherwise
      {"error": "<message>"}       main raised (traceback on stderr)
      !{"error": "<message>"}      the line itself was unusable (bad JSON): HTTP 400

  EOF on the command pipe: the proxy is gone, exit. If main kills the process (sys.exit,
  os._exit, a crash), the proxy notices and fails this and every later run.

Imports are kept to what the loop needs: this process starts with every cold container, and
whatever it imports before /init is start-up time.
"""

import json
import os
import sys

REPLY_FD = 3
COMMAND_FD = 4
ENTRY = "__main__.py"


def reply(data: bytes) -> None:
    view = memoryview(data + b"\n")
    while view:
        view = view[os.write(REPLY_FD, view) :]


def reply_json(value: object) -> None:
    reply(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def flush_output() -> None:
    # Everything the action printed must be in the pipes before the proxy writes the sentinels,
    # which it does as soon as it has our reply.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed by the action: nothing to flush
            pass


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def print_traceback(exc: BaseException) -> None:
    """Print `exc` to stderr from the action's first frame on: our frames are noise to users."""
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)


def add_virtualenv(work_dir: str) -> None:
    """A zip may carry its dependencies in `virtualenv/` (as OpenWhisk's Python runtime allows)."""
    lib = os.path.join(work_dir, "virtualenv", "lib")
    if not os.path.isdir(lib):
        return
    import site

    for name in sorted(os.listdir(lib)):
        packages = os.path.join(lib, name, "site-packages")
        if name.startswith("python") and os.path.isdir(packages):
            site.addsitedir(packages)  # also runs the .pth files installers rely on
            sys.path.remove(packages)  # addsitedir appends; the action's copy must win
            sys.path.insert(0, packages)


def load(command: dict) -> object:
    """Load the action described by an init command; return its main function."""
    for key, value in (command.get("env") or {}).items():
        os.environ[key] = value
    work_dir = command["dir"]
    path = os.path.join(work_dir, ENTRY)
    if not os.path.isfile(path):
        if command.get("zip"):
            raise LoadError(f"Zipped actions must contain {ENTRY} at the root.")
        raise LoadError(f"Cannot find the action's code ({ENTRY}).")
    add_virtualenv(work_dir)
    sys.path.insert(0, work_dir)  # a zip's other modules are importable from __main__.py

    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec")  # SyntaxError: "… (__main__.py, line N)"
    module = type(sys)("main__")  # not "__main__": `if __name__ == "__main__":` stays inert
    module.__file__ = path
    sys.modules["main__"] = module
    exec(code, module.__dict__)

    name = command.get("main") or "main"
    function = getattr(module, name, None)
    if not callable(function):
        raise LoadError(f"{ENTRY} has no function '{name}'.")
    return function


class LoadError(Exception):
    pass


def init(command: dict) -> object | None:
    try:
        function = load(command)
    except LoadError as exc:
        flush_output()
        reply_json({"error": str(exc)})
        return None
    except Exception as exc:
        if isinstance(exc, SyntaxError):
            import traceback

            sys.stderr.write("".join(traceback.format_exception_only(exc)))
        else:
            print_traceback(exc)
        flush_output()
        reply_json({"error": error_text(exc)})
        return None
    flush_output()
    reply(b'{"ok":true}')
    return function


def env_value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def serialize(result: object) -> bytes:
    try:
        # allow_nan=False: NaN is not JSON, and the invoker must be able to parse our reply.
        text = json.dumps(result, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: only the escaped form is valid UTF-8
            return json.dumps(result, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        message = f"The action returned a result that is not valid JSON: {exc}"
        return json.dumps({"error": message}).encode()


def serve(function, commands) -> None:
    exported: set[str] = set()
    base_env = dict(os.environ)  # what an __OW_ variable goes back to when a run omits it
    while True:
        line = commands.readline()
        if not line:
            return
        try:
            message = json.loads(line)
            if not isinstance(message, dict):
                raise ValueError("the /run body must be a JSON object")
        except ValueError as exc:  # includes bad UTF-8 (UnicodeDecodeError)
            reply(b"!" + json.dumps({"error": f"Invalid /run body: {exc}"}).encode())
            continue

        now: set[str] = set()
        for key, value in message.items():
            if key != "value":
                name = "__OW_" + key.upper()
                os.environ[name] = env_value(value)
                now.add(name)
        for name in exported - now:
            if name in base_env:
                os.environ[name] = base_env[name]
            else:
                os.environ.pop(name, None)
        exported = now

        try:
            result = function(message.get("value", {}))
        except Exception as exc:  # SystemExit & co. end the process, as they should
            print_traceback(exc)
            result = {"error": str(exc)}
        flush_output()
        reply(serialize(result))


def main() -> None:
    # The launcher's own directory is not the action's business (nor importable by it).
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(
        os.path.abspath(__file__)
    ):
        del sys.path[0]
    # Our pipes stay ours: processes the action starts must not inherit them.
    os.set_inheritable(REPLY_FD, False)
    os.set_inheritable(COMMAND_FD, False)
    # A big buffer: readline() on an 8 KB one takes ~0.3 s longer for a 30 MB /run body, and
    # memory is only touched as far as lines actually reach.
    commands = os.fdopen(COMMAND_FD, "rb", buffering=1 << 20)
    # An interpreter's first compile() sets its compiler up: ~1 ms of CPU, measured, against
    # 0.05 ms for a small action's module after it. Done now, while the /init is not here
    # yet (a runtime booted ahead waits for its action; a fresh one for its proxy's start).
    compile("", "<launcher>", "exec")
    line = commands.readline()
    if not line:
        return
    function = init(json.loads(line))
    if function is None:
        # Stay up (a failed action is answered by the proxy), but never run anything.
        while commands.readline():
            reply_json({"error": "The action failed to initialize."})
        return
    serve(function, commands)


if __name__ == "__main__":
    main()
