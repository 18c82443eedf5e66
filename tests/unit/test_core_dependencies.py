"""The controller's core depends on small capabilities (`controller/core/capabilities.py`),
not on the whole `Services`: read from the sources with `ast`, no module of the core but the
composition itself names `Services` or imports its module, and none imports the HTTP face.

A core module that took `Services` again could reach every other piece through it, and
could no longer be built (or tested) from just what it uses."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "controller" / "core"
# The composition: `Services` is defined there; the bootstrap runs before it exists.
COMPOSITION = {"services.py", "bootstrap.py"}
SERVICES_MODULE = "pywhisk.controller.core.services"
HTTP = ("pywhisk.controller.api", "starlette", "fastapi")


def reaches(source: str) -> Iterator[tuple[int, str]]:
    """(line, what) for each import of the composition or the HTTP face, and each use of
    the name `Services` (annotations included: they are still names in the tree)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == SERVICES_MODULE or alias.name.startswith(HTTP):
                    yield node.lineno, f"imports {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            taken = [f"{module}.{alias.name}" for alias in node.names]
            if module.startswith(HTTP) or SERVICES_MODULE in (module, *taken):
                yield node.lineno, f"imports from {module}"
        elif isinstance(node, ast.Name) and node.id == "Services":
            yield node.lineno, "names Services"
        elif isinstance(node, ast.Constant) and node.value == "Services":
            yield node.lineno, "names Services in a string annotation"


def test_the_core_takes_capabilities_not_services() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in sorted(CORE.rglob("*.py"))
        if path.relative_to(CORE).as_posix() not in COMPOSITION
        for line, what in reaches(path.read_text())
    ]
    assert not found, "take the capabilities the code uses instead:\n" + "\n".join(found)


def test_the_check_sees_each_way_back_to_services() -> None:
    broken = [
        "from pywhisk.controller.core.services import Services",
        "from pywhisk.controller.core import services",
        "import pywhisk.controller.core.services",
        "def f(svc: Services) -> None: ...",
        "def f(svc: 'Services') -> None: ...",
        "from pywhisk.controller.api.responses import Response",
        "from starlette.responses import Response",
    ]
    for source in broken:
        assert [line for line, _ in reaches(source)] == [1], source
    fine = "from pywhisk.controller.core.capabilities import Invoking\nsvc: Invoking"
    assert list(reaches(fine)) == []
