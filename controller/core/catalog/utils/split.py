"""/whisk.system/utils/split: splits `payload` at `separator` (default: line breaks)."""

import re


def main(args):
    if "payload" not in args or args["payload"] is None:
        return {"error": "split needs a payload to split"}
    payload = args["payload"]
    text = payload if isinstance(payload, str) else str(payload)
    separator = args.get("separator")
    lines = text.split(separator) if separator else re.split(r"\r?\n", text)
    return {"lines": lines, "payload": payload}
