"""The test suite's own layout, read from its sources with `ast`: no module imports a test
module (nor a conftest), and tests/support imports nothing else of the tests. And the test
command installs every extra, so that no suite has a dependency to skip for.

A test module imported by another runs its module-level set-up twice and, when names of
tests are imported, has them collected twice; and the importer breaks when the imported
module's tests are reorganised. What several modules share lives in tests/support/, named
for what it holds; a suite's own helpers that are not tests (the contract behaviours, the
isolation platform) may sit beside its modules.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("tests", "bench", "examples")


def module_name(path: Path) -> str:
    """`tests/e2e/test_x.py` -> `tests.e2e.test_x` (a package's `__init__` -> the package)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str, is_package: bool = False) -> Iterator[tuple[int, list[str]]]:
    """(line, the dotted names it may import) for each import statement: the module named,
    and for a `from` import each name taken too, which may be a module itself (`from
    tests.e2e import test_x`)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, [alias.name]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package, `level - 1` packages up
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            yield node.lineno, [base, *(f"{base}.{alias.name}" for alias in node.names)]


def is_test_module(name: str) -> bool:
    """A module pytest collects (its default `python_files`: test_*.py, *_test.py) or a
    conftest, anywhere under tests/."""
    last = name.rpartition(".")[2]
    return name.startswith("tests.") and (
        last.startswith("test_") or last.endswith("_test") or last == "conftest"
    )


def in_support(name: str) -> bool:
    return name == "tests.support" or name.startswith("tests.support.")


def refusals(path: Path, source: str) -> Iterator[str]:
    module = module_name(path)
    where = path.relative_to(ROOT)
    for line, names in imports(source, module, path.name == "__init__.py"):
        tests = [name for name in names if is_test_module(name)]
        foreign = [n for n in names if n.startswith("tests.") and not in_support(n)]
        if tests:
            yield f"{where}:{line}: imports the test module {tests[0]}"
        elif in_support(module) and foreign:
            yield f"{where}:{line}: tests/support imports {foreign[0]}, outside tests/support"


def test_no_module_imports_a_test_module() -> None:
    found = [
        refusal
        for folder in SCANNED
        for path in sorted((ROOT / folder).rglob("*.py"))
        if ".venv" not in path.parts
        for refusal in refusals(path, path.read_text())
    ]
    assert not found, "move what is shared to tests/support/:\n" + "\n".join(found)


def test_the_check_sees_every_form_of_import() -> None:
    """The rule above, on sources that break it in each way Python can spell an import."""
    broken = {
        "from tests.e2e.test_invoke_api import put_action": "tests.e2e.test_invoke_api",
        "from tests.integration import test_api_entities": "tests.integration.test_api_entities",
        "import tests.unit.test_pool_apply as pool": "tests.unit.test_pool_apply",
        "from .test_cli_actions import Wsk": "tests.e2e.test_cli_actions",
        "from . import test_cli_actions": "tests.e2e.test_cli_actions",
        "from ..unit.test_pool_apply import Entry": "tests.unit.test_pool_apply",
        "from tests.conftest import TEST_LIMITS": "tests.conftest",
        "def f():\n    from tests.e2e.test_x import y": "tests.e2e.test_x",
    }
    here = ROOT / "tests" / "e2e" / "test_example.py"
    for source, imported in broken.items():
        assert list(refusals(here, source)) == [
            f"tests/e2e/test_example.py:{source.count(chr(10)) + 1}: imports the test module "
            f"{imported}"
        ], source
    support = ROOT / "tests" / "support" / "example.py"
    assert list(refusals(support, "from tests.contract.store_behavior import entity")) == [
        "tests/support/example.py:1: tests/support imports tests.contract.store_behavior, "
        "outside tests/support"
    ]
    fine = (
        "from tests.support.rest import put_action\nfrom tests.contract.queue_behavior import take"
    )
    assert list(refusals(here, fine)) == []


def test_the_test_command_installs_every_extra() -> None:
    """No suite is skipped for want of an extra (tests/support/prerequisites.py): so the
    test command installs them all."""
    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    script = (ROOT / "deploy" / "test.sh").read_text()
    installed = re.search(r"^ensure_venv (\S+)$", script, re.MULTILINE)
    assert installed, "deploy/test.sh no longer runs ensure_venv"
    assert set(installed.group(1).split(",")) == extras
