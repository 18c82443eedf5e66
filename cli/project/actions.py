"""One manifest action as the body `PUT /actions/{name}` takes: exec, inputs, limits, web flags.

`function:` is a file (its text is the code) or a folder, zipped here. The zip is built
byte-for-byte the same from the same files (sorted names, a fixed 1980 date, fixed
permissions), so deploying an unchanged folder again compares equal to what the server
holds and is skipped; a zip stamped with file times would be re-uploaded every time.
`web:` (or the older `web-export:`) sets the same three annotations as `wsk action --web`:
`true|yes` is web-export + final, `raw` adds raw-http, `false|no` clears all three.
"""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .inputs import InputError, resolve_runtime
from .source import Node, Substitution

ACTION_KEYS = {
    "function",
    "code",
    "runtime",
    "kind",
    "main",
    "inputs",
    "limits",
    "web",
    "web-export",
    "raw-http",
    "final",
    "annotations",
    "docker",
    "native",
    "version",
    "description",
    "license",
    "outputs",
    "feed",
}
LIMIT_KEYS = {
    "timeout": "timeout",
    "memorySize": "memory",
    "logSize": "logs",
    "concurrency": "concurrency",
}
WEB_FLAGS = {
    "true": (True, False, True),
    "yes": (True, False, True),
    "raw": (True, True, True),
    "false": (False, False, False),
    "no": (False, False, False),
}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def zip_folder(folder: Path) -> bytes:
    """The folder's files as a zip whose bytes depend on names and contents only."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(file.relative_to(folder).as_posix(), ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    return buffer.getvalue()


def web_flags(value: Any) -> tuple[bool, bool, bool]:
    """(web-export, raw-http, final) for a `web:` value; InputError if it is none of them."""
    text = str(value).lower()
    if text not in WEB_FLAGS:
        raise InputError(f"web: '{value}' is not one of true, yes, raw, false, no")
    return WEB_FLAGS[text]


def build_exec(
    spec: Node, base: Path, runtimes: Mapping[str, Any], subst: Substitution
) -> dict[str, Any]:
    """`exec` for the action: code from `function` (file or folder) or `code`, or an image."""
    function = spec.get("function")
    if function is not None:
        function = subst.text(str(function), spec.line_of("function"))
    code = spec.get("code")
    runtime = spec.get("runtime", spec.get("kind"))
    main = spec.get("main")
    if function is not None and code is not None:
        raise InputError("both function and code are given; give one", spec.line_of("code"))
    docker = spec.get("docker")
    if docker is not None:
        exec_: dict[str, Any] = {
            "kind": "blackbox",
            "image": subst.text(str(docker), spec.line_of("docker")),
        }
        if function is not None:
            path = base / function
            exec_.update(_code_of(path, spec.line_of("function")))
        return exec_
    if function is None and code is None:
        raise InputError("has no function (a file or folder) and no code", spec.line)
    if runtime is not None:
        runtime = subst.text(str(runtime), spec.line_of("runtime" if "runtime" in spec else "kind"))
    runtime_line = spec.line_of("runtime" if "runtime" in spec else "kind")
    if code is not None:
        if runtime is None:
            raise InputError("has code but no runtime; code needs one", spec.line_of("code"))
        exec_ = {"code": str(code), "binary": False}
    else:
        path = base / str(function)
        exec_ = _code_of(path, spec.line_of("function"))
        if exec_["binary"] and runtime is None:
            raise InputError(
                f"function '{function}' is a folder or zip; give its runtime",
                spec.line_of("function"),
            )
    try:
        exec_["kind"] = resolve_runtime(
            runtime, None if code is not None else str(function), runtimes
        )
    except InputError as err:
        raise InputError(
            err.message, runtime_line if runtime else spec.line_of("function")
        ) from None
    if main is not None:
        exec_["main"] = subst.text(str(main), spec.line_of("main"))
    return exec_


def _code_of(path: Path, line: int) -> dict[str, Any]:
    if path.is_dir():
        return {"code": base64.b64encode(zip_folder(path)).decode(), "binary": True}
    if not path.is_file():
        raise InputError(f"function '{path.name}' does not exist (looked in {path.parent})", line)
    data = path.read_bytes()
    if path.suffix in (".zip", ".jar"):
        return {"code": base64.b64encode(data).decode(), "binary": True}
    try:
        return {"code": data.decode(), "binary": False}
    except UnicodeDecodeError:
        raise InputError(f"function '{path}' is not UTF-8 text", line) from None


def build_limits(spec: Node, warnings: list[tuple[int, str]]) -> dict[str, int]:
    given = spec.get("limits")
    if given is None:
        return {}
    if not isinstance(given, Node):
        raise InputError("limits must be a mapping", spec.line_of("limits"))
    limits = {}
    for key, value in given.items():
        if key not in LIMIT_KEYS:
            warnings.append((given.line_of(key), f"limit '{key}' is not changeable; ignored"))
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InputError(
                f"limit {key}: {value!r} is not a positive integer", given.line_of(key)
            )
        limits[LIMIT_KEYS[key]] = value
    return limits


def build_annotations(spec: Node, subst: Substitution) -> list[dict[str, Any]]:
    """User annotations, then the web flags (`web` wins over `web-export`)."""
    given = spec.get("annotations")
    if given is not None and not isinstance(given, Node):
        raise InputError("annotations must be a mapping", spec.line_of("annotations"))
    given = given if given is not None else Node()
    annotations = {k: subst.value(v, given.line_of(k)) for k, v in given.items()}
    web_key = next((k for k in ("web", "web-export") if k in spec), None)
    web = spec[web_key] if web_key else annotations.get("web-export")
    if web_key is None and "web-export" not in annotations:
        return [{"key": k, "value": v} for k, v in annotations.items()]
    try:
        export, raw, final = web_flags(web)
    except InputError as err:
        raise InputError(
            err.message, spec.line_of(web_key) if web_key else given.line_of("web-export")
        ) from None  # type: ignore[union-attr]
    if "raw-http" in spec and export:
        raw = bool(spec["raw-http"])
    annotations.update({"web-export": export, "raw-http": raw, "final": final})
    return [{"key": k, "value": v} for k, v in annotations.items()]
