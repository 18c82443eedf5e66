"""/whisk.system/utils/hosturl: the URL that activates an action (or a trigger)."""

import os

EXTENSIONS = (".html", ".http", ".json", ".svg", ".text")


def main(args):
    host = os.environ.get("__OW_API_HOST", "")
    namespace = os.environ.get("__OW_NAMESPACE", "")
    web = args.get("web") is True
    trigger = bool(args.get("trigger"))
    path = args.get("path")
    ext = args.get("ext") or ""
    if web and trigger:
        return {"error": "triggers are not allowed for web actions."}
    if web and ext and ext not in EXTENSIONS:
        return {"error": f"extension for web action must be one of {list(EXTENSIONS)}."}
    if not web and trigger and path and "/" in path:
        return {"error": "triggers are not allowed in packages."}
    if web:
        base = f"{host}/api/v1/web/{namespace}"
    else:
        base = f"{host}/api/v1/namespaces/{namespace}/{'triggers' if trigger else 'actions'}"
    if not path:
        return {"url": base}
    if web and "/" not in path:
        path = f"default/{path}"
    return {"url": f"{base}/{path}{ext if web else ''}"}
