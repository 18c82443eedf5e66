"""/whisk.system/utils/head: the first `num` (default 1) of `lines`."""


def main(args):
    lines = args.get("lines") or []
    num = args.get("num") or 1
    if not isinstance(num, int) or isinstance(num, bool):
        return {"error": "num must be an integer"}
    return {"lines": lines[:num], "num": num}
