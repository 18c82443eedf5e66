"""What `wsk api` sends: the route or swagger file as an `apidoc`, checked as openwhisk-cli's
`commands/api.go` checks it (its messages), and the web-action check before a route is made.

The management URLs are `whisk.system/apimgmt/<operation>.http`; every call carries
`spaceguid` (the key's uuid) and wsk's default `accesstoken`, as the Go wsk sends them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pywhisk.cli.client import quote_path
from pywhisk.cli.errors import EXIT_GENERAL, WskError, wrap
from pywhisk.cli.names import parse_name
from pywhisk.cli.session import Session

VERBS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS")
_PARAM = re.compile(r"^\{([^/]+)\}$")
ACCESS_TOKEN = "DUMMY TOKEN"


def usage(message: str) -> WskError:
    return WskError(message, EXIT_GENERAL, display_usage=True)


def mgmt(session: Session, operation: str) -> str:
    return f"{session.client.version_url}/web/whisk.system/apimgmt/{operation}.http"


def context(session: Session) -> list[tuple[str, str]]:
    """`spaceguid` and `accesstoken`, as getUserContextId and getAccessToken give them."""
    return [("spaceguid", session.props.auth.split(":")[0]), ("accesstoken", ACCESS_TOKEN)]


def check_path(path: str) -> None:
    if not path.startswith("/"):
        raise usage(f"'{path}' must begin with '/'.")


def check_verb(verb: str) -> str:
    if verb.upper() not in VERBS:
        raise usage(f"'{verb}' is not a valid API verb.  Valid values are: {list(VERBS)}")
    return verb.upper()


def path_parameters(path: str) -> list[str]:
    names: list[str] = []
    for segment in path.split("/"):
        found = _PARAM.match(segment)
        if found and found.group(1) not in names:
            names.append(found.group(1))
    return names


def web_action(session: Session, name: str) -> tuple[Any, dict[str, Any]]:
    """(secure key, action) of a web action; wsk's refusal for anything else."""
    qualified = parse_name(name, session.namespace)
    full = f"/{qualified.namespace}/{qualified.entity_name}"
    url = session.client.namespaced(
        f"actions/{quote_path(qualified.entity_name)}", qualified.namespace
    )
    try:
        action = session.client.request("GET", url, query=[("code", "false")]).body
    except WskError as err:
        raise wrap(f"Unable to get action '{full}': {err}", err) from None
    annotations = {a.get("key"): a.get("value") for a in action.get("annotations") or []}
    if annotations.get("web-export") is not True:
        raise usage(
            f"Action '{full}' is not a web action. Issue 'wsk action update \"{full}\" "
            "--web true' to convert the action to a web action."
        )
    return annotations.get("require-whisk-auth"), action


def route_apidoc(
    session: Session, args: tuple[str, ...], api_name: str, response_type: str
) -> tuple[dict[str, Any], str]:
    """parseApi: the apidoc of `[BASE_PATH] API_PATH VERB ACTION`, and the action's name."""
    base_path = "/"
    if len(args) > 3:
        if path_parameters(args[0]):
            raise usage(
                f"The base path '{args[0]}' cannot have parameters. "
                "Only the relative path supports path parameters."
            )
        base_path, args = args[0], args[1:]
    relpath, verb, action_name = args
    check_path(relpath)
    params = path_parameters(relpath)
    if params and response_type != "http":
        raise usage("A response type of 'http' is required when using path parameters.")
    verb = check_verb(verb)
    qualified = parse_name(action_name, session.namespace)
    package = qualified.package or "default"
    host = session.props.apihost
    backend = f"{host}/api/v1/web/{qualified.namespace}/{package}/{qualified.entity}.http"
    if not backend.startswith("http"):
        backend = "https://" + backend
    apidoc: dict[str, Any] = {
        "namespace": session.namespace,
        "gatewayBasePath": base_path,
        "gatewayPath": relpath,
        "gatewayMethod": verb,
        "id": f"API:{session.namespace}:{base_path}",
        "action": {
            "name": qualified.entity_name,
            "namespace": qualified.namespace,
            "backendMethod": verb,
            "backendUrl": backend,
            "authkey": session.props.auth,
        },
    }
    if api_name:
        apidoc["apiName"] = api_name
    if params:
        apidoc["pathParameters"] = [
            {
                "name": p,
                "in": "path",
                "description": f"Default description for '{p}'",
                "required": True,
                "type": "string",
            }
            for p in params
        ]
    return apidoc, qualified.full_name


def swagger_apidoc(session: Session, config_file: str) -> dict[str, Any]:
    try:
        text = Path(config_file).read_text()
    except OSError as err:
        raise usage(
            f"Unable to parse swagger file: Error reading swagger file '{config_file}': {err}"
        ) from None
    try:
        if config_file.endswith(("yaml", "yml")):
            import yaml  # only here: YAML swagger files are rare, and pyyaml optional

            swagger = yaml.safe_load(text)
            text = json.dumps(swagger)
        else:
            swagger = json.loads(text)
    except ImportError:
        raise WskError("Unable to parse YAML configuration file: pyyaml is not installed") from None
    except ValueError as err:
        raise usage(
            f"Unable to parse swagger file: Error parsing swagger file '{config_file}': {err}"
        ) from None
    if not isinstance(swagger, dict) or not all(
        swagger.get(k) for k in ("basePath", "swagger", "info", "paths")
    ):
        raise usage(
            "Unable to parse swagger file: Swagger file is invalid "
            "(missing basePath, info, paths, or swagger fields)"
        )
    if not str(swagger["basePath"]).startswith("/"):
        raise usage(
            "Unable to parse swagger file: Swagger file basePath must start with a leading slash (/)"
        )
    return {"namespace": session.namespace, "swagger": text}
