"""/whisk.system/utils/sort: sorts `lines` as JavaScript's default sort does (as text)."""

import json


def main(args):
    lines = args.get("lines") or []
    ordered = sorted(lines, key=lambda line: line if isinstance(line, str) else json.dumps(line))
    return {"lines": ordered, "length": len(ordered)}
