"""What `pip install pywhisk` puts in site-packages: one top-level name, `pywhisk`.

The repository keeps its folders (common/, controller/, invoker/, cli/, action_runtime/) and
pyproject.toml maps each onto pywhisk.<folder>. The mapping lists every package by hand, so a
new package folder that is not listed would silently be missing from the wheel: the first test
catches that, the second builds the real wheel and reads it.
"""

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOLDERS = ("common", "controller", "invoker", "cli", "action_runtime", "deploy")


def test_every_package_folder_is_listed_under_pywhisk() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {
        "pywhisk." + ".".join(init.parent.relative_to(REPO).parts)
        for folder in FOLDERS
        for init in (REPO / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert set(config["packages"]) == folders
    assert config["package-dir"] == {f"pywhisk.{folder}": folder for folder in FOLDERS}


def test_the_wheel_holds_one_top_level_name(tmp_path: Path) -> None:
    # Built from a copy: setuptools leaves a build/ folder beside the sources it builds.
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", "*.egg-info")
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in FOLDERS:
        shutil.copytree(REPO / folder, source / folder, ignore=ignore)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("pywhisk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"pywhisk"}
    # The data files the code reads at run time travel with it.
    for data in (
        "pywhisk/action_runtime/launcher.php",
        # The dashboard's three assets: the app reads each when it is built.
        "pywhisk/controller/api/dashboard/index.html",
        "pywhisk/controller/api/dashboard/dashboard.js",
        "pywhisk/controller/api/dashboard/dashboard.css",
        "pywhisk/deploy/runtimes/Dockerfile",
    ):
        assert data in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "pywhisk = pywhisk.deploy.commands:main" in scripts
    assert "wsk = pywhisk.cli.main:main" in scripts
