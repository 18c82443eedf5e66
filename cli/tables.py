"""wsk's list tables, ``--summary`` text, log stripping and time formats."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pywhisk.cli.output import bold
from pywhisk.cli.structs import STATUS_NAMES, annotation


def entity_path(entity: dict[str, Any]) -> str:
    return f"/{entity.get('namespace', '')}/{entity.get('name', '')}"


def _action_sort_key(action: dict[str, Any]) -> tuple[int, str]:
    # Actions outside packages first, by name; then packaged ones by namespace+name.
    namespace = str(action.get("namespace", ""))
    name = str(action.get("name", ""))
    if "/" in namespace:
        return (1, (namespace + name).lower())
    return (0, name)


def _ns_name_key(entity: dict[str, Any]) -> str:
    return (str(entity.get("namespace", "")) + str(entity.get("name", ""))).lower()


def action_rows(actions: list[dict[str, Any]], name_sort: bool = False) -> str:
    if name_sort:
        actions = sorted(actions, key=_action_sort_key)
    out = [bold("actions") + "\n"]
    for action in actions:
        kind = annotation(action.get("annotations"), "exec")
        out.append(f"{entity_path(action):<70} private {'' if kind is None else kind}\n")
    return "".join(out)


def package_rows(packages: list[dict[str, Any]], name_sort: bool = False) -> str:
    if name_sort:
        packages = sorted(packages, key=_ns_name_key)
    out = [bold("packages") + "\n"]
    for package in packages:
        shared = "shared" if package.get("publish") is True else "private"
        out.append(f"{entity_path(package):<70} {shared}\n")
    return "".join(out)


def trigger_rows(triggers: list[dict[str, Any]], name_sort: bool = False) -> str:
    if name_sort:
        triggers = sorted(triggers, key=_ns_name_key)
    out = [bold("triggers") + "\n"]
    out.extend(f"{entity_path(trigger):<70} private\n" for trigger in triggers)
    return "".join(out)


def rule_rows(rules: list[dict[str, Any]], name_sort: bool = False) -> str:
    if name_sort:
        rules = sorted(rules, key=_ns_name_key)
    out = [bold("rules") + "\n"]
    for rule in rules:
        out.append(f"{entity_path(rule):<70} {'private':<20} {rule.get('status', '')}\n")
    return "".join(out)


def namespace_rows(names: list[str]) -> str:
    return bold("namespaces") + "\n" + "".join(f"{name}\n" for name in names)


def truncate(text: str, limit: int) -> str:
    """``whisk.TruncateStr``: keep both ends around ``...``."""
    if len(text) <= limit:
        return text
    middle = limit // 2
    upper = len(text) - middle + 3
    if limit % 2:
        middle += 1
    return text[:middle] + "..." + text[upper:]


def go_duration(milliseconds: int) -> str:
    """Go's ``time.Duration.String`` for a whole number of milliseconds."""
    if milliseconds == 0:
        return "0s"
    sign = "-" if milliseconds < 0 else ""
    milliseconds = abs(milliseconds)
    if milliseconds < 1000:
        return f"{sign}{milliseconds}ms"
    seconds, fraction = divmod(milliseconds, 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = str(seconds) + (("." + f"{fraction:03d}".rstrip("0")) if fraction else "") + "s"
    if hours:
        text = f"{hours}h{minutes}m{text}"
    elif minutes:
        text = f"{minutes}m{text}"
    return sign + text


def _activation_kind(activation: dict[str, Any]) -> str:
    kind = annotation(activation.get("annotations"), "kind")
    return "unknown" if kind is None else str(kind)


def _activation_status(activation: dict[str, Any]) -> str:
    code = activation.get("statusCode")
    if isinstance(code, int) and 0 < code < len(STATUS_NAMES):
        return STATUS_NAMES[code]
    return STATUS_NAMES[0]


def _local_time(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds // 1000)


def activation_rows(activations: list[dict[str, Any]]) -> str:
    """``wsk activation list``: the column-sized table, or one empty line when empty."""
    if not activations:
        return bold("") + "\n"
    kind_width = max(4, *(len(_activation_kind(a)) for a in activations))
    status_width = max(len("Status"), len(STATUS_NAMES[0]))
    status_width = max(status_width, *(len(_activation_status(a)) for a in activations))
    header = (
        f"{'Datetime':<19} {'Activation ID':<32} {'Kind':<{kind_width}} {'Start':<6}"
        f"{'Duration':<10} {'Status':<{status_width}} {'Entity':<6}\n"
    )
    out = [bold(header)]
    for activation in activations:
        start = int(activation.get("start") or 0)
        end = int(activation.get("end") or 0)
        duration = 0 if not activation.get("duration") else end - start
        started = _local_time(start)
        cold = annotation(activation.get("annotations"), "initTime") is not None
        entity = (
            truncate(str(activation.get("namespace", "")), 20)
            + "/"
            + truncate(str(activation.get("name", "")), 30)
            + ":"
            + truncate(str(activation.get("version", "")), 20)
        )
        out.append(
            f"{started:%Y-%m-%d %H:%M:%S} {activation.get('activationId', ''):<32} "
            f"{_activation_kind(activation):<{kind_width}} {'cold' if cold else 'warm':<5} "
            f"{go_duration(duration):<10} {_activation_status(activation):<{status_width}} "
            f"{entity}\n"
        )
    return "".join(out)


def go_time(milliseconds: int) -> str:
    """Go's ``time.Unix(s, 0).String()`` in local time: ``2006-01-02 15:04:05 -0700 MST``."""
    moment = datetime.fromtimestamp(milliseconds // 1000).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S %z %Z")


_LOG_LINE = re.compile(
    r"\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-6]\d:[0-6]\d.\d+Z( *(stdout|stderr):)?\s(.*)"
)


def strip_timestamp(line: str) -> str:
    """Drop ``<timestamp> stdout:`` from a log line, as ``--strip`` does."""
    match = _LOG_LINE.search(line)
    if match and match.group(3):
        return match.group(3)
    return line


# ----------------------------------------------------------------------------- summary
def _param_union(annotations: Any, parameters: Any) -> list[str]:
    """Bound parameter names (``*name``, ``**name`` when final) plus documented ones."""
    final = annotation(annotations, "final") is True
    tag = "**" if final else "*"
    bound = sorted(str(item.get("key")) for item in parameters or [] if isinstance(item, dict))
    documented: list[str] = []
    described = annotation(annotations, "parameters")
    if isinstance(described, list):
        for item in described:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                documented.append(item["name"])
    names = sorted(set(bound) | set(documented))
    return [f"{tag}{name}" if name in bound else name for name in names]


def _describe_params(params: str) -> str:
    preamble = "Returns a result based on parameter"
    params = params.replace("*", "")
    pieces = params.split(",")
    if len(pieces) > 1:
        last = pieces[-1]
        params = params.replace(f",{last}", f" and{last}", 1)
        return f"{preamble}s {params}"
    return f"{preamble} {params}"


def entity_summary(kind_label: str, full_name: str, annotations: Any, parameters: Any) -> str:
    """``printEntitySummary`` for ``get --summary``."""
    params = ", ".join(_param_union(annotations, parameters)) or "none defined"
    description = annotation(annotations, "description")
    if isinstance(description, str) and description:
        first = f"{bold(kind_label)} {full_name}: {description}"
    elif params != "none defined":
        first = f"{bold(kind_label)} {full_name}: {_describe_params(params)}"
    else:
        first = f"{bold(kind_label)} {full_name}"
    return f"{first}\n   ({bold('parameters')}: {params})\n"


def full_name(namespace: str, package: str, entity: str) -> str:
    parts = [part for part in (namespace, package, entity) if part]
    return "/" + "/".join(parts) if namespace else ""
