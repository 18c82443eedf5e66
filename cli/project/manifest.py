"""wskdeploy's `manifest.yaml` read into a typed plan: every entity as the body its PUT takes.

The format is wskdeploy's (openwhisk-wskdeploy `specification/html/spec_*.md`):
`project: {name, packages}` (or `packages:` at the top, or the older single `package:`),
and per package `inputs`, `annotations`, `public`, `actions`, `sequences`, `triggers`,
`rules`, `apis` (see reader.py). Everything is checked before anything is sent: a refusal
names the file and line (`manifest.yaml:12: action 'x': runtime 'cobol' is not supported
(…)`). Deployment order is wskdeploy's: packages, actions, sequences, triggers, rules, APIs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .deployment import read_overrides
from .entities import ORDER, Entity, Manifest, Target
from .reader import PACKAGE_KEYS, Reader
from .source import ManifestError, Node, load

ROOT_KEYS = {"project", "packages", "package"}
PROJECT_KEYS = {"name", "packages", "namespace", "credential", "apiHost", "version",
                "description", "license", "config"}  # fmt: skip


def parse(
    path: Path,
    target: Target,
    runtimes: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    deployment: Path | None = None,
) -> Manifest:
    """The manifest at `path` (with `deployment`'s inputs over its own) as a plan."""
    overrides = read_overrides(deployment, env) if deployment else {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ManifestError(path.name, 0, f"cannot be read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ManifestError(path.name, 0, "is not UTF-8 text") from None
    root = load(text, path.name)
    reader = Reader(path, target, runtimes, env, overrides)
    reader.mapping(root, 0, "", ROOT_KEYS)
    project = reader.mapping(root.get("project"), root.line_of("project"), "project", PROJECT_KEYS)
    packages = root.get("packages", project.get("packages"))
    at = root.line_of("packages") if "packages" in root else project.line_of("packages")
    if "package" in root and packages is None:  # wskdeploy's older single-package form
        single = reader.mapping(root["package"], root.line_of("package"), "package")
        name = single.get("name")
        if not isinstance(name, str):
            raise reader.fail(single.line, "package", "name: needs a name")
        spec = Node({k: v for k, v in single.items() if k != "name"})
        spec.line, spec.key_lines = single.line, single.key_lines
        packages = Node({name: spec})
        packages.line, packages.key_lines = single.line, {name: single.line}
    packages = reader.mapping(packages, at, "")
    if not packages:
        raise ManifestError(path.name, at or 1, "the manifest has no packages")
    for name, spec in packages.items():
        line = packages.line_of(name)
        reader.package(name, reader.mapping(spec, line, f"package '{name}'", PACKAGE_KEYS))
    for name in overrides:
        if name not in packages:
            raise ManifestError(
                str(deployment),
                0,
                f"package '{name}' in the deployment file is not in the manifest",
            )
    entities = sorted(reader.entities, key=lambda e: ORDER.index(e.kind))
    project_name = project.get("name")
    return Manifest(path, str(project_name or ""), entities, reader.warnings)


__all__ = ["Entity", "Manifest", "ManifestError", "Target", "parse"]
