"""Reading one package of a manifest into entities, each refusal naming its line.

A package named `default` puts its entities straight into the namespace, as in wskdeploy;
triggers and rules live in the namespace whatever package lists them; sequence components
and rule actions without a package are the listing package's. Keys a manifest may carry
for other tools (`version`, `license`, `description`, `outputs`) are accepted and ignored;
any other unknown key is refused, since a misspelt `limts:` silently ignored deploys the
wrong thing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .actions import ACTION_KEYS, build_annotations, build_exec, build_limits
from .apis import build_apis
from .entities import DEFAULT_PACKAGE, Entity, Target
from .inputs import InputError, resolve_inputs
from .source import ManifestError, Node, Substitution

NAME = re.compile(r"\A([\w]|[\w][\w@ .-]*[\w@.-]+)\Z")
PACKAGE_KEYS = {
    "inputs",
    "annotations",
    "public",
    "actions",
    "sequences",
    "triggers",
    "rules",
    "apis",
    "version",
    "license",
    "description",
    "namespace",
    "dependencies",
}
SEQUENCE_KEYS = {"actions", "web", "web-export", "annotations", "inputs", "description", "version"}
TRIGGER_KEYS = {"feed", "source", "inputs", "annotations", "description", "version"}
RULE_KEYS = {"trigger", "action", "description", "version"}
FEED_DIGEST = "feed-inputs-sha256"  # the feed's inputs, which the trigger does not hold


class Reader:
    def __init__(
        self,
        path: Path,
        target: Target,
        runtimes: Mapping[str, Any],
        env: Mapping[str, str] | None,
        overrides: Mapping[str, Any],
    ) -> None:
        self.where = path.name
        self.base = path.parent
        self.target = target
        self.runtimes = runtimes
        self.subst = Substitution(self.where, env)
        self.overrides = overrides
        self.entities: list[Entity] = []
        self.warnings: list[str] = []

    def fail(self, line: int, what: str, message: str) -> ManifestError:
        return ManifestError(self.where, line, f"{what}: {message}" if what else message)

    def mapping(self, value: Any, line: int, what: str, allowed: set[str] | None = None) -> Node:
        if value is None:
            empty = Node()
            empty.line = line
            return empty
        if not isinstance(value, Node):
            raise self.fail(line, what, "must be a mapping")
        for key in value:
            if allowed is not None and key not in allowed:
                raise self.fail(value.line_of(key), what, f"unknown key '{key}'")
        value.line = line  # where it is named: what a missing key's refusal points at
        return value

    def named(self, name: str, line: int, kind: str) -> str:
        if not NAME.match(name):
            raise self.fail(line, f"{kind} '{name}'", "not a valid OpenWhisk entity name")
        return name

    def inputs(self, spec: Node, what: str, override: Any = None) -> list[dict[str, Any]]:
        try:
            params = resolve_inputs(spec.get("inputs"), self.subst, spec.line_of("inputs"))
        except InputError as err:
            raise self.fail(err.line or spec.line_of("inputs"), what, err.message) from None
        if override:  # the deployment file's values win, key by key
            extra = {p["key"]: p for p in override}
            params = [extra.pop(p["key"], p) for p in params] + list(extra.values())
        return params

    def qualify(self, package: str, name: str) -> str:
        """A component or rule target: `a` is the package's, `p/a` another's, `/ns/…` as is."""
        name = name.strip()
        if name.startswith("/"):
            return name
        if "/" not in name and package != DEFAULT_PACKAGE:
            name = f"{package}/{name}"
        return f"/{self.target.namespace}/{name}"

    def add(self, entity: Entity) -> None:
        runnable = ("action", "sequence")  # one name space: both are actions to the server
        for known in self.entities:
            same_kind = known.kind == entity.kind or {known.kind, entity.kind} <= set(runnable)
            if same_kind and known.name == entity.name:
                raise self.fail(
                    entity.line,
                    f"{entity.kind} '{entity.name}'",
                    f"already defined as {'an' if known.kind == 'action' else 'a'} {known.kind} on line {known.line}",
                )
        self.entities.append(entity)

    # ------------------------------------------------------------------------ packages
    def package(self, name: str, spec: Node) -> None:
        what = f"package '{name}'"
        self.named(name, spec.line, "package")
        self.subst.context = what
        override = self.overrides.get(name, {})
        params = self.inputs(spec, what, override.get("inputs"))
        if name != DEFAULT_PACKAGE:
            annotations = self.mapping(spec.get("annotations"), spec.line_of("annotations"), what)
            body = {
                "namespace": self.target.namespace,
                "name": name,
                "parameters": params,
                "annotations": [
                    {"key": k, "value": self.subst.value(v, annotations.line_of(k))}
                    for k, v in annotations.items()
                ],
                "publish": spec.get("public") is True,
            }
            self.add(Entity("package", name, spec.line, body))
        known = len(self.entities)
        actions = self.mapping(spec.get("actions"), spec.line_of("actions"), what)
        for action, action_spec in actions.items():
            at = actions.line_of(action)
            self.action(
                name,
                action,
                self.mapping(action_spec, at, f"action '{action}'", ACTION_KEYS),
                override.get("actions", {}).get(action, {}).get("inputs"),
            )
        sequences = self.mapping(spec.get("sequences"), spec.line_of("sequences"), what)
        for sequence, seq_spec in sequences.items():
            at = sequences.line_of(sequence)
            self.sequence(
                name, sequence, self.mapping(seq_spec, at, f"sequence '{sequence}'", SEQUENCE_KEYS)
            )
        triggers = self.mapping(spec.get("triggers"), spec.line_of("triggers"), what)
        for trigger, trigger_spec in triggers.items():
            at = triggers.line_of(trigger)
            self.trigger(
                trigger,
                self.mapping(trigger_spec, at, f"trigger '{trigger}'", TRIGGER_KEYS),
                override.get("triggers", {}).get(trigger, {}).get("inputs"),
            )
        rules = self.mapping(spec.get("rules"), spec.line_of("rules"), what)
        for rule, rule_spec in rules.items():
            self.rule(
                name,
                rule,
                self.mapping(rule_spec, rules.line_of(rule), f"rule '{rule}'", RULE_KEYS),
            )
        if name != DEFAULT_PACKAGE:
            for entity in self.entities[known:]:
                if entity.kind in ("action", "sequence"):
                    entity.inherited = params
        if "apis" in spec:
            self.subst.context = what
            try:
                apis = build_apis(
                    spec["apis"], spec.line_of("apis"), name, self.entities, self.target
                )
            except InputError as err:
                raise self.fail(err.line, what, err.message) from None
            for api, warning in apis:
                if warning:
                    self.warnings.append(f"{self.where}:{api.line}: {warning}")
                self.add(api)

    def _path(self, package: str, name: str) -> str:
        return name if package == DEFAULT_PACKAGE else f"{package}/{name}"

    def action(self, package: str, name: str, spec: Node, override: Any) -> None:
        what = f"action '{name}'"
        self.named(name, spec.line, "action")
        self.subst.context = what
        warnings: list[tuple[int, str]] = []
        try:
            body: dict[str, Any] = {
                "namespace": self.target.namespace
                if package == DEFAULT_PACKAGE
                else f"{self.target.namespace}/{package}",
                "name": name,
                "exec": build_exec(spec, self.base, self.runtimes, self.subst),
                "annotations": build_annotations(spec, self.subst),
            }
            limits = build_limits(spec, warnings)
        except InputError as err:
            raise self.fail(err.line or spec.line, what, err.message) from None
        body["parameters"] = self.inputs(spec, what, override)
        if limits:
            body["limits"] = limits
        self.warnings += [f"{self.where}:{line}: {what}: {text}" for line, text in warnings]
        self.add(Entity("action", self._path(package, name), spec.line, body))

    def sequence(self, package: str, name: str, spec: Node) -> None:
        what = f"sequence '{name}'"
        self.named(name, spec.line, "sequence")
        self.subst.context = what
        given = spec.get("actions")
        if isinstance(given, str):
            given = given.split(",")
        if not isinstance(given, list) or not [c for c in given if str(c).strip()]:
            raise self.fail(spec.line_of("actions"), what, "actions: needs one or more actions")
        components = [
            self.qualify(package, self.subst.text(str(c), spec.line_of("actions"))) for c in given
        ]
        try:
            annotations = build_annotations(spec, self.subst)
        except InputError as err:
            raise self.fail(err.line or spec.line, what, err.message) from None
        body = {
            "namespace": self.target.namespace
            if package == DEFAULT_PACKAGE
            else f"{self.target.namespace}/{package}",
            "name": name,
            "exec": {"kind": "sequence", "components": components},
            "annotations": annotations,
            "parameters": self.inputs(spec, what),
        }
        self.add(Entity("sequence", self._path(package, name), spec.line, body))

    def trigger(self, name: str, spec: Node, override: Any) -> None:
        what = f"trigger '{name}'"
        self.named(name, spec.line, "trigger")
        self.subst.context = what
        params = self.inputs(spec, what, override)
        annotations = self.mapping(spec.get("annotations"), spec.line_of("annotations"), what)
        body: dict[str, Any] = {
            "name": name,
            "annotations": [
                {"key": k, "value": self.subst.value(v, annotations.line_of(k))}
                for k, v in annotations.items()
            ],
        }
        feed = spec.get("feed", spec.get("source"))
        if feed is None:
            body["parameters"] = params
            self.add(Entity("trigger", name, spec.line, body))
            return
        feed_name = self.subst.text(str(feed), spec.line_of("feed" if "feed" in spec else "source"))
        qualified = (
            feed_name if feed_name.startswith("/") else f"/{self.target.namespace}/{feed_name}"
        )
        feed_params = {p["key"]: p["value"] for p in params}
        digest = hashlib.sha256(json.dumps(feed_params, sort_keys=True).encode()).hexdigest()
        body["annotations"] += [
            {"key": "feed", "value": qualified},
            {"key": FEED_DIGEST, "value": digest},
        ]
        body["parameters"] = []
        self.add(Entity("trigger", name, spec.line, body, qualified, feed_params))

    def rule(self, package: str, name: str, spec: Node) -> None:
        what = f"rule '{name}'"
        self.named(name, spec.line, "rule")
        self.subst.context = what
        for key in ("trigger", "action"):
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                raise self.fail(spec.line_of(key), what, f"{key}: needs a name")
        trigger = self.subst.text(spec["trigger"], spec.line_of("trigger")).strip()
        action = self.subst.text(spec["action"], spec.line_of("action"))
        body = {
            "name": name,
            "trigger": trigger
            if trigger.startswith("/")
            else f"/{self.target.namespace}/{trigger}",
            "action": self.qualify(package, action),
        }
        self.add(Entity("rule", name, spec.line, body))
