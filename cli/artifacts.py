"""Action code artifacts: building ``exec`` from a file and saving code back to one.

Kinds are inferred from the file extension as wsk does (``.py`` -> ``python:default``, ...);
archives (``.zip``, ``.jar``, ``.balx``) are sent base64-encoded, and a ``.zip`` needs an
explicit ``--kind`` because it could hold any language.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any

from pywhisk.cli.errors import EXIT_GENERAL, EXIT_USAGE, WskError, usage_error

NATIVE_IMAGE = "openwhisk/dockerskeleton"
BINARY_EXTENSIONS = (".zip", ".jar", ".balx")

# extension -> runtime family, in wsk's order of checks
EXTENSION_FAMILIES = {
    ".swift": "swift",
    ".js": "nodejs",
    ".py": "python",
    ".jar": "java",
    ".php": "php",
    ".rb": "ruby",
    ".rs": "rust",
    ".go": "go",
    ".balx": "ballerina",
}

# runtime family -> extension of saved code
FAMILY_EXTENSIONS = {
    "nodejs": ".js",
    "python": ".py",
    "swift": ".swift",
    "php": ".php",
    "ruby": ".rb",
    "rust": ".rs",
    "go": ".go",
}
BINARY_FAMILY_EXTENSIONS = {"java": ".jar", "ballerina": ".balx"}

NO_ARTIFACT = "An action name and code artifact are required."
ZIP_NEEDS_KIND = (
    "creating an action from a .zip artifact requires specifying the action kind explicitly"
)


def go_extension(path: str) -> str:
    """Go's ``filepath.Ext``: from the last dot of the last element (``.bashrc`` counts)."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def read_artifact(path: str) -> bytes:
    file = Path(path)
    if not file.is_file():
        raise WskError(
            f"File '{path}' is not a valid file or it does not exist",
            EXIT_USAGE,
            display_usage=True,
        )
    try:
        return file.read_bytes()
    except OSError as err:
        raise WskError(
            f"Unable to read the file '{path}': {err.strerror or err}",
            EXIT_GENERAL,
            display_usage=True,
        ) from err


def infer_kind(extension: str) -> str:
    family = EXTENSION_FAMILIES.get(extension)
    if family is None:
        if extension == ".zip":
            raise usage_error(ZIP_NEEDS_KIND)
        raise usage_error(f"'{extension}' is not a supported action runtime")
    return f"{family}:default"


def build_exec(
    artifact: str | None,
    *,
    kind: str = "",
    docker: str = "",
    native: bool = False,
    main: str = "",
) -> dict[str, Any]:
    """``getExec``: the ``exec`` object for an artifact file and/or a docker image."""
    exec_: dict[str, Any] = {}
    extension = ""
    if artifact is not None:
        extension = go_extension(artifact)
        data = read_artifact(artifact)
        if extension in BINARY_EXTENSIONS:
            exec_["code"] = base64.b64encode(data).decode("ascii")
        else:
            # Go sends the bytes as a JSON string, replacing invalid UTF-8 the same way.
            exec_["code"] = data.decode("utf-8", errors="replace")
    elif not docker:
        raise usage_error(NO_ARTIFACT)
    if kind:
        exec_["kind"] = kind
    elif docker or native:
        exec_["kind"] = "blackbox"
        exec_["image"] = NATIVE_IMAGE if native else docker
    else:
        exec_["kind"] = infer_kind(extension)
    if main:
        exec_["main"] = main
    return exec_


def default_save_name(action: dict[str, Any]) -> str:
    exec_ = action.get("exec") or {}
    family = str(exec_.get("kind", "")).split(":")[0].lower()
    name = str(action.get("name", ""))
    if exec_.get("binary") is True:
        return name + BINARY_FAMILY_EXTENSIONS.get(family, ".zip")
    return name + FAMILY_EXTENSIONS.get(family, "")


def save_code(action: dict[str, Any], filename: str = "") -> str:
    """``saveCode``: write the action's code to a new file; return the path written."""
    exec_ = action.get("exec") or {}
    family = str(exec_.get("kind", "")).split(":")[0].lower()
    binary = exec_.get("binary") is True
    if family == "blackbox" and exec_.get("code") is None and not binary:
        raise usage_error("Cannot save Docker images")
    if family == "sequence":
        raise usage_error("Cannot save action sequences")
    code = str(exec_.get("code") or "")
    if binary:
        try:
            data = base64.b64decode(code)
        except (binascii.Error, ValueError):
            data = b""
    else:
        data = code.encode("utf-8")
    filename = filename or default_save_name(action)
    if os.path.lexists(filename):
        raise usage_error(f"The file '{filename}' already exists")
    try:
        with open(filename, "xb") as handle:
            handle.write(data)
    except OSError as err:
        raise usage_error(f"Cannot create file '{filename}': {err.strerror or err}") from err
    return os.path.join(os.getcwd(), filename)
