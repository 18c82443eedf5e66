# Reads every file it is pointed at (directories walked) and returns what matches the patterns
# (the test looks there for the victim's secret, key and code).
import os
import re


def read(path, out):
    try:
        with open(path, "rb") as f:
            out.append(f.read(4 << 20).decode("latin-1"))
        return "read"
    except OSError as e:
        return e.strerror


def main(args):
    loot: list[str] = []
    report: dict[str, str | None] = {}
    for path in args.get("paths", []):
        if os.path.isdir(path):
            report[path] = "dir"
            for root, _, files in os.walk(path):
                for name in files:
                    full = os.path.join(root, name)
                    report[full] = read(full, loot)
        else:
            report[path] = read(path, loot)
    text = "".join(loot)
    found = {m for p in args.get("patterns", []) for m in re.findall(p, text)}
    return {"found": sorted(found)[:200], "report": report}
