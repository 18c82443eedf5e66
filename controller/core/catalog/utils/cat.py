"""/whisk.system/utils/cat: joins `lines` into one string, one line each."""


def _text(value):
    # What JavaScript's join makes of each item (the catalog's actions are Node.js).
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def main(args):
    lines = args.get("lines") or []
    return {"lines": lines, "payload": "\n".join(_text(line) for line in lines)}
