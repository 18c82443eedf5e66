"""How `wsk api` prints APIs: openwhisk-cli's Go structs, its list table, and YAML.

wsk decodes getApi's answer into Go structs (openwhisk-client-go `whisk/api.go`), so
`wsk api get` prints the swagger's fields in struct order and drops what the structs do
not hold; `wsk api list` prints one row per operation, `Action Verb API Name URL`, with
column widths fitted to the longest action (≤ 40) and API name (≤ 30).
"""

from __future__ import annotations

from typing import Any

from pywhisk.cli.jsontext import GoStruct, go_json

VERBS = ("get", "put", "post", "delete", "options", "head", "patch")  # ApiSwaggerPath order
_PARAM_FIELDS = ("name", "in", "description", "required", "type", "format", "default", "enum")


def _parameters(given: Any) -> list[Any]:
    out: list[Any] = []
    for item in given if isinstance(given, list) else ():
        if isinstance(item, dict):
            param = GoStruct(name=item.get("name", ""), **{"in": item.get("in", "")})
            for key in _PARAM_FIELDS[2:]:
                if item.get(key) not in (None, "", False):
                    param[key] = item[key]
            out.append(param)
    return out


def _operation(given: dict[str, Any]) -> GoStruct:
    out = GoStruct(operationId=given.get("operationId", ""))
    if given.get("parameters"):
        out["parameters"] = _parameters(given["parameters"])
    out["responses"] = given.get("responses")
    extension = given.get("x-openwhisk")
    if isinstance(extension, dict):
        out["x-openwhisk"] = GoStruct(
            action=extension.get("action", ""),
            namespace=extension.get("namespace", ""),
            package=extension.get("package", ""),
            url=extension.get("url", ""),
        )
    return out


def swagger_struct(swagger: dict[str, Any]) -> GoStruct:
    """`ApiSwagger` as wsk prints it."""
    out = GoStruct()
    for key in ("swagger", "basePath"):
        if swagger.get(key):
            out[key] = swagger[key]
    info = swagger.get("info")
    if isinstance(info, dict):
        out["info"] = GoStruct(
            {k: info[k] for k in ("title", "version") if info.get(k)}  # omitempty
        )
    if swagger.get("paths"):
        paths: dict[str, Any] = {}
        for path, item in swagger["paths"].items():
            struct = GoStruct()
            for verb in VERBS:
                if isinstance(item, dict) and isinstance(item.get(verb), dict):
                    struct[verb] = _operation(item[verb])
            if isinstance(item, dict) and item.get("parameters"):
                struct["parameters"] = _parameters(item["parameters"])
            paths[path] = struct
        out["paths"] = paths
    for key in ("securityDefinitions", "security", "x-ibm-configuration", "x-ibm-rate-limit"):
        if swagger.get(key) is not None:
            out[key] = swagger[key]
    return out


def value_struct(value: dict[str, Any]) -> GoStruct:
    """`RetApi` (`wsk api get --full`)."""
    out = GoStruct(
        namespace=value.get("namespace", ""),
        gwApiUrl=value.get("gwApiUrl", ""),
        gwApiActivated=bool(value.get("gwApiActivated")),
        tenantId=value.get("tenantId", ""),
    )
    if isinstance(value.get("apidoc"), dict):
        out["apidoc"] = swagger_struct(value["apidoc"])
    return out


def operations(
    value: dict[str, Any], relpath: str = "", verb: str = ""
) -> list[tuple[str, str, str, str, str, str]]:
    """(action, verb, API name, base path, path, URL) per operation, filtered as wsk does."""
    swagger = value.get("apidoc") or {}
    base_url = str(value.get("gwApiUrl", "")).rstrip("/")
    title = str((swagger.get("info") or {}).get("title", ""))
    rows = []
    for path, item in (swagger.get("paths") or {}).items():
        if (relpath and path != relpath) or not isinstance(item, dict):
            continue
        for op in VERBS:
            given = item.get(op)
            if not isinstance(given, dict) or (verb and op != verb.lower()):
                continue
            rows.append(
                (
                    action_of(given),
                    op,
                    title,
                    str(swagger.get("basePath", "")),
                    path,
                    base_url + path,
                )
            )
    return rows


def action_of(operation: dict[str, Any]) -> str:
    ow = operation.get("x-openwhisk")
    if not isinstance(ow, dict):
        return ""
    parts = [ow.get("namespace", ""), ow.get("package", ""), ow.get("action", "")]
    return "/" + "/".join(str(p) for p in parts if p)


def sort_key(row: tuple[str, ...]) -> str:
    return (row[3] + row[4] + row[1]).lower()


def table(rows: list[tuple[str, str, str, str, str, str]]) -> str:
    if not rows:
        return f"{'Action':<30} {'Verb':>7} {'API Name':>20}  URL\n"
    action_width = min(40, max(len("Action"), *(len(r[0]) for r in rows)))
    name_width = min(30, max(len("API Name"), *(len(r[2]) for r in rows)))

    def line(action: str, verb: str, name: str, url: str) -> str:
        return f"{action:<{action_width}} {verb:>7} {name:>{name_width + 1}}  {url}\n"

    out = [line("Action", "Verb", "API Name", "URL")]
    out += [line(r[0][:action_width], r[1], r[2][:name_width], r[5]) for r in rows]
    return "".join(out)


def full(rows: list[tuple[str, str, str, str, str, str]]) -> str:
    if not rows:
        return "\n"
    labels = ("API Name", "Base path", "Path", "Verb", "URL")
    out = []
    for action, verb, name, base, path, url in rows:
        rest = [
            f"  {label}: {v}\n"
            for label, v in zip(labels, (name, base, path, verb, url), strict=True)
        ]
        out.append(" ".join([f"Action: {action}\n", *rest]))
    return "".join(out)


_RESERVED = frozenset(("true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"))


def _yaml_scalar(value: Any) -> str:
    """A scalar as go-yaml writes it in block context: plain unless YAML would read it as
    something else (a number, a boolean, an indicator), else double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    special = (
        not text
        or text[0] in "-?:,[]{}#&*!|>'\"%@`"
        or ": " in text
        or " #" in text
        or text.endswith(":")
        or text != text.strip()
        or any(c in text for c in "\n\t")
        or text.lower() in _RESERVED
        or text.replace(".", "", 1).lstrip("-+").isdigit()
    )
    return go_json(text, indent="").strip() if special else text


def _yaml(value: Any, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    if isinstance(value, dict) and value:
        for key in sorted(value):
            item = value[key]
            if isinstance(item, dict | list) and item:
                out.append(f"{pad}{_yaml_scalar(key)}:\n")
                _yaml(item, indent + (0 if isinstance(item, list) else 1), out)
            else:
                out.append(f"{pad}{_yaml_scalar(key)}: {_yaml_empty(item)}\n")
    elif isinstance(value, list) and value:
        for item in value:
            if isinstance(item, dict | list) and item:
                inner: list[str] = []
                _yaml(item, indent + 1, inner)
                first = inner[0].lstrip()
                out.append(f"{pad}- {first}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}- {_yaml_empty(item)}\n")


def _yaml_empty(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _yaml_scalar(value)


def to_yaml(value: Any) -> str:
    """Block YAML with sorted keys, as wsk's JSONToYAML writes it."""
    out: list[str] = []
    _yaml(value, 0, out)
    return "".join(out)
