"""A feed action: hands a trigger's lifecycle event to the controller, the feed provider.

The code of /whisk.system/alarms/{alarm,once,interval} and /whisk.system/couchdb/changes.
The CLI invokes it with `lifecycleEvent` (CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE),
`triggerName` (`/namespace/name`), `authKey` (the trigger owner's key) and the feed's
parameters; it POSTs them, less the key, to
`$__OW_API_HOST/api/v1/namespaces/<ns>/feeds/<package>/<trigger>` with that key, and
answers what the provider answered, or `{"error": …}` (an application error: the CLI then
reports it and, at CREATE, deletes the trigger). Runs in an action container: standard
library only.
"""

import base64
import json
import os
import urllib.error
import urllib.request
from urllib.parse import quote

EVENTS = ("CREATE", "READ", "UPDATE", "DELETE", "PAUSE", "UNPAUSE")


def split_trigger(name):
    """`/ns/trigger` → (ns, trigger); a bare name is in the caller's namespace, `_`."""
    if name.startswith("/"):
        namespace, _, rest = name[1:].partition("/")
        if rest:
            return namespace, rest
    return "_", name


def main(params):
    event = str(params.get("lifecycleEvent", "")).upper()
    if event not in EVENTS:
        return {"error": "unsupported lifecycleEvent"}
    if not params.get("triggerName"):
        return {"error": "no trigger name parameter was provided"}
    auth = params.get("authKey") or os.environ.get("__OW_API_KEY")
    if not auth:
        return {"error": "no authKey parameter was provided"}
    namespace, trigger = split_trigger(str(params["triggerName"]))
    # /<namespace>/<package>/<action>: the package names the provider.
    provider = os.environ.get("__OW_ACTION_NAME", "").split("/")[2:3] or ["alarms"]
    host = os.environ.get("__OW_API_HOST", "").rstrip("/")
    body = {k: v for k, v in params.items() if k not in ("authKey", "triggerName")}
    body["lifecycleEvent"] = event
    path = "/".join(quote(part, safe="") for part in (namespace, "feeds", provider[0], trigger))
    url = f"{host}/api/v1/namespaces/{path}"
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(str(auth).encode()).decode(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=50) as answer:
            return json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            message = json.loads(e.read()).get("error")
        except ValueError:
            message = None
        return {"error": message or f"the feed provider answered {e.code}"}
    except OSError as e:
        return {"error": f"the feed provider at {host} cannot be reached: {e}"}
