"""/init and /run: the OpenWhisk action-container contract on top of one launcher.

Statuses and messages follow the Go ActionLoop proxy (openwhisk-runtime-go), which is what the
invoker's result handling was written against:

    /init  200 {"ok":true} | 400 bad JSON/base64 | 403 second init, no code | 502 action broken
    /run   200 result or {"error":…} from main | 400 bad body | 500 not initialised |
           502 not a dictionary/array, or the launcher died

/run bodies are never parsed here: the launcher parses them anyway, so the proxy only forwards
the bytes and looks at the first byte of the reply. That keeps big payloads cheap.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import artifacts
from .languages import Language
from .launchers import Launcher, LauncherGone
from .spawn import LauncherProcess

SENTINEL = b"XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n"

Response = tuple[int, bytes]

INIT_OK: Response = (200, b'{"ok":true}')


def error(status: int, message: str) -> Response:
    return status, json.dumps({"error": message}, ensure_ascii=False).encode()


ALREADY_INITIALIZED = error(403, "Cannot initialize the action more than once.")
MISSING_CODE = error(403, "Missing main/no code to execute.")
NOT_INITIALIZED = error(500, "no action defined yet")
NOT_A_DICTIONARY = error(502, "The action did not return a dictionary or array.")
EXITED_IN_RUN = error(502, "The action did not produce a valid response and exited unexpectedly.")
EXITED_IN_INIT = error(502, "The action did not initialize and exited unexpectedly.")


def write_sentinels() -> None:
    """Mark the end of an activation's logs on both streams, as the invoker expects.

    Synchronous on purpose: everything the launcher printed is already in these pipes (it
    flushes before it replies), so the sentinels land after it and before our HTTP answer.
    """
    for fd in (1, 2):
        try:
            os.write(fd, SENTINEL)
        except OSError:  # nobody reads our logs (closed pipe): not the action's problem
            pass


def env_string(value: Any) -> str:
    """OpenWhisk passes init env values as strings; stringify anything else like it does."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def with_layers(env: dict[str, str], opt: str) -> None:
    """As on Lambda, PATH and the library path end in the layers' bin and lib (`opt`: where the
    invoker put the action's layers, /opt unless the container has no file system of its own)."""
    path = env.get("PATH") or os.environ.get("PATH") or os.defpath
    env["PATH"] = f"{path}:{opt}/bin"
    libraries = env.get("LD_LIBRARY_PATH") or os.environ.get("LD_LIBRARY_PATH")
    env["LD_LIBRARY_PATH"] = f"{libraries}:{opt}/lib" if libraries else f"{opt}/lib"


class ActionProxy:
    """The state of one action container: uninitialised, initialised, or broken."""

    def __init__(
        self,
        language: Language,
        process: LauncherProcess | None,
        work_dir: Path,
        problem: str | None = None,
        unzip_max: int = artifacts.UNPACKED_MAX,
        on_dead: Callable[[], None] | None = None,
    ) -> None:
        """`process` is the pre-started launcher; without one, /init fails with `problem`;
        `unzip_max`: how many bytes a zipped action may unpack to; `on_dead`: called when the
        loaded action's launcher dies between requests (the proxy then stops)."""
        self.language = language
        self.work_dir = work_dir
        self.on_dead = on_dead
        self.launcher = Launcher(process, self._idle_exit) if process is not None else None
        self.problem = problem or language.missing_message()
        self.unzip_max = unzip_max
        self.initialized = False  # an /init reached the launcher (whatever its outcome)
        self.ready = False  # the action loaded: /run may call it
        self._lock = asyncio.Lock()  # intra-container concurrency is 1

    def close(self) -> None:
        if self.launcher is not None:
            self.launcher.close()

    def _idle_exit(self) -> None:
        """The loaded action's launcher died between requests (a Lambda bootstrap that exits
        after answering, a thread's os._exit): every later /run could only fail. The proxy
        stops, so the invoker sees the container gone and starts a new one for the next
        activation, which Lambda would run in a new environment too, instead of failing it.
        Before init it stays: /init reports the death, and a stem cell does not respawn for
        ever."""
        if self.ready and self.on_dead is not None:
            self.on_dead()

    async def init(self, body: bytes) -> Response:
        async with self._lock:
            status, payload = await self._init(body)
            if status != 200:
                write_sentinels()
            return status, payload

    async def run(self, body: bytes) -> Response:
        async with self._lock:
            response = await self._run(body)
            write_sentinels()
            return response

    async def _init(self, body: bytes) -> Response:
        if self.initialized:
            return ALREADY_INITIALIZED
        try:
            message = json.loads(body)
        except ValueError as exc:
            return error(400, f"Invalid JSON in /init body: {exc}")
        value = message.get("value") if isinstance(message, dict) else None
        if not isinstance(value, dict):
            value = {}
        code = value.get("code")
        if not isinstance(code, str) or not code:
            return MISSING_CODE
        main = value.get("main") or "main"
        env = value.get("env") or {}
        if not isinstance(main, str) or not isinstance(env, dict):
            return error(400, "Invalid /init body: 'main' must be a string, 'env' an object.")
        if self.launcher is None:
            return error(502, self.problem)

        try:
            zipped = artifacts.install(
                code, bool(value.get("binary")), self.work_dir, self.language.entry, self.unzip_max
            )
        except artifacts.BadCode as exc:
            return error(400, str(exc))
        except (artifacts.BadArchive, OSError) as exc:
            self.initialized = True
            return error(502, str(exc))

        self.initialized = True
        strings = {str(key): env_string(val) for key, val in env.items()}
        opt = value.get("opt")
        if isinstance(opt, str) and opt:
            with_layers(strings, opt)
        command = {"main": main, "dir": str(self.work_dir), "zip": zipped, "env": strings}
        if isinstance(opt, str) and opt:
            command["opt"] = opt
        try:
            reply = await self.launcher.request(json.dumps(command).encode())
        except LauncherGone:
            return EXITED_IN_INIT
        try:
            outcome = json.loads(reply)
        except ValueError:
            return error(502, f"The launcher sent an invalid /init reply: {reply[:200]!r}")
        if isinstance(outcome, dict) and outcome.get("ok") is True:
            self.ready = True
            return INIT_OK
        problem = outcome.get("error") if isinstance(outcome, dict) else None
        return error(502, problem if isinstance(problem, str) else json.dumps(outcome))

    async def _run(self, body: bytes) -> Response:
        if not self.ready or self.launcher is None:
            return NOT_INITIALIZED
        # JSON has no raw newlines inside strings, so the only ones are whitespace.
        line = body.replace(b"\n", b" ") if b"\n" in body else body
        try:
            reply = await self.launcher.request(line)
        except LauncherGone:
            return EXITED_IN_RUN
        first = reply[:1]
        if first == b"{" or first == b"[":
            return 200, reply
        if first == b"!":  # the launcher refused the request itself (see launcher.py)
            return 400, reply[1:]
        return NOT_A_DICTIONARY
