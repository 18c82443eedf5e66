"""wskdeploy's optional `deployment.yaml`: per-environment input values over the manifest's.

The manifest says what the project is; the deployment file says where it runs (a test
database here, production's there), so the same manifest deploys twice without edits:
`project: {packages: {pkg: {inputs, actions: {a: {inputs}}, triggers: {t: {inputs}}}}}`
(or `packages:` at the top). Only inputs are read; values win over the manifest's key by
key, and a package the manifest lacks is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .inputs import InputError, resolve_inputs
from .source import ManifestError, Node, Substitution, load


def _inputs(spec: Any, subst: Substitution, where: str, what: str) -> list[dict[str, Any]]:
    if not isinstance(spec, Node):
        raise ManifestError(where, getattr(spec, "line", 0), f"{what}: must be a mapping")
    try:
        return resolve_inputs(spec.get("inputs"), subst, spec.line_of("inputs"))
    except InputError as err:
        raise ManifestError(where, err.line, f"{what}: {err.message}") from None


def read_overrides(path: Path, env: Mapping[str, str] | None) -> dict[str, Any]:
    """{package: {"inputs": params, "actions": {name: {"inputs"}}, "triggers": {…}}}."""
    try:
        root = load(path.read_text(), path.name)
    except OSError as err:
        raise ManifestError(path.name, 0, f"cannot be read: {err.strerror or err}") from None
    subst = Substitution(path.name, env)
    project = root.get("project") or Node()
    packages = root.get("packages", project.get("packages") if isinstance(project, Node) else None)
    if packages is None:
        return {}
    if not isinstance(packages, Node):
        raise ManifestError(path.name, root.line_of("packages"), "packages: must be a mapping")
    overrides: dict[str, Any] = {}
    for name, spec in packages.items():
        what = f"package '{name}'"
        entry: dict[str, Any] = {"inputs": _inputs(spec, subst, path.name, what)}
        for kind in ("actions", "triggers"):
            given = spec.get(kind) or Node()
            if not isinstance(given, Node):
                raise ManifestError(
                    path.name, spec.line_of(kind), f"{what}: {kind}: must be a mapping"
                )
            entry[kind] = {
                child: {"inputs": _inputs(child_spec, subst, path.name, f"{kind[:-1]} '{child}'")}
                for child, child_spec in given.items()
            }
        overrides[name] = entry
    return overrides
