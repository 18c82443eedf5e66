"""``wsk api``: create, get, list and delete HTTP APIs, as openwhisk-cli's `commands/api.go`.

The commands call the management web actions `whisk.system/apimgmt/{createApi,getApi,
deleteApi}.http` with the caller's key, sending what the Go wsk sends: the route as an
`apidoc` (or a whole swagger file with `--config-file`), `spaceguid` (the key's uuid) and
the default `accesstoken`. Before creating a route, wsk reads the action and refuses one
that is not a web action; it does not change the action.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from cli import apis
from cli.client import quote_path
from cli.errors import EXIT_GENERAL, WskError, check_args, wrap
from cli.help import WskCommand, WskGroup
from cli.jsontext import go_json
from cli.names import parse_name
from cli.output import bold, ok
from cli.session import Session, current, global_options

VERBS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS")
RESPONSE_TYPE_HELP = (
    "Set the web action response `TYPE`. Possible values are html, http, json, text, svg"
)
_PARAM = re.compile(r"^\{([^/]+)\}$")
ACCESS_TOKEN = "DUMMY TOKEN"


@click.group("api", cls=WskGroup, help="work with APIs")
@global_options()
def api_group() -> None:
    pass


def _usage(message: str) -> WskError:
    return WskError(message, EXIT_GENERAL, display_usage=True)


def _mgmt(session: Session, operation: str) -> str:
    return f"{session.client.version_url}/web/whisk.system/apimgmt/{operation}.http"


def _context(session: Session) -> list[tuple[str, str]]:
    """`spaceguid` and `accesstoken`, as getUserContextId and getAccessToken give them."""
    return [("spaceguid", session.props.auth.split(":")[0]), ("accesstoken", ACCESS_TOKEN)]


def _check_path(path: str) -> None:
    if not path.startswith("/"):
        raise _usage(f"'{path}' must begin with '/'.")


def _check_verb(verb: str) -> str:
    if verb.upper() not in VERBS:
        raise _usage(f"'{verb}' is not a valid API verb.  Valid values are: {list(VERBS)}")
    return verb.upper()


def path_parameters(path: str) -> list[str]:
    names: list[str] = []
    for segment in path.split("/"):
        found = _PARAM.match(segment)
        if found and found.group(1) not in names:
            names.append(found.group(1))
    return names


def _web_action(session: Session, name: str) -> tuple[Any, dict[str, Any]]:
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
        raise _usage(
            f"Action '{full}' is not a web action. Issue 'wsk action update \"{full}\" "
            "--web true' to convert the action to a web action."
        )
    return annotations.get("require-whisk-auth"), action


def _route_apidoc(
    session: Session, args: tuple[str, ...], api_name: str, response_type: str
) -> tuple[dict[str, Any], str]:
    """parseApi: the apidoc of `[BASE_PATH] API_PATH VERB ACTION`, and the action's name."""
    base_path = "/"
    if len(args) > 3:
        if path_parameters(args[0]):
            raise _usage(
                f"The base path '{args[0]}' cannot have parameters. "
                "Only the relative path supports path parameters."
            )
        base_path, args = args[0], args[1:]
    relpath, verb, action_name = args
    _check_path(relpath)
    params = path_parameters(relpath)
    if params and response_type != "http":
        raise _usage("A response type of 'http' is required when using path parameters.")
    verb = _check_verb(verb)
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


def _swagger_apidoc(session: Session, config_file: str) -> dict[str, Any]:
    try:
        text = Path(config_file).read_text()
    except OSError as err:
        raise _usage(
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
        raise _usage(
            f"Unable to parse swagger file: Error parsing swagger file '{config_file}': {err}"
        ) from None
    if not isinstance(swagger, dict) or not all(
        swagger.get(k) for k in ("basePath", "swagger", "info", "paths")
    ):
        raise _usage(
            "Unable to parse swagger file: Swagger file is invalid "
            "(missing basePath, info, paths, or swagger fields)"
        )
    if not str(swagger["basePath"]).startswith("/"):
        raise _usage(
            "Unable to parse swagger file: Swagger file basePath must start with a leading slash (/)"
        )
    return {"namespace": session.namespace, "swagger": text}


@api_group.command(
    "create",
    cls=WskCommand,
    use="([BASE_PATH] API_PATH API_VERB ACTION] | --config-file CFG_FILE) ",
    help="create a new API",
)
@global_options()
@click.option(
    "-n",
    "--apiname",
    default="",
    help="Friendly name of the API; ignored when CFG_FILE is specified (default BASE_PATH)",
)
@click.option(
    "-c",
    "--config-file",
    "config_file",
    default="",
    help="`CFG_FILE` containing API configuration in swagger JSON format",
)
@click.option("--response-type", "response_type", default="json", help=RESPONSE_TYPE_HELP)
@click.argument("args", nargs=-1)
def api_create(args: tuple[str, ...], apiname: str, config_file: str, response_type: str) -> None:
    session = current()
    if not args and not config_file:
        raise _usage(
            "Invalid argument(s). Specify a swagger file or specify an API base path with an "
            "API path, an API verb, and an action name."
        )
    action_name = ""
    if args:
        check_args(
            args,
            3,
            4,
            "Specify a swagger file or specify an API base path with an API path, an API "
            "verb, and an action name.",
        )
        if len(args) == 4 and apiname and not args[0].startswith("/"):
            raise _usage("An API name can only be specified once.")
        apidoc, action_name = _route_apidoc(session, args, apiname, response_type)
        secure_key, _ = _web_action(session, args[-1])
        if secure_key is not None:
            apidoc["action"]["secureKey"] = secure_key
    else:
        apidoc = _swagger_apidoc(session, config_file)
    query = [*_context(session), ("responsetype", response_type)]
    try:
        value = session.client.request(
            "POST", _mgmt(session, "createApi"), query=query, body={"apidoc": apidoc}
        ).body
    except WskError as err:
        raise WskError(f"Unable to create API: {err}") from None
    base_url = str(value.get("gwApiUrl", "")).rstrip("/")
    if args:
        path = apidoc["gatewayBasePath"].rstrip("/") + apidoc["gatewayPath"]
        click.echo(
            f"{ok()} created API {path} {apidoc['gatewayMethod']} for action "
            f"{bold(action_name)}\n{base_url}{apidoc['gatewayPath']}"
        )
        return
    swagger = value.get("apidoc") or {}
    for row in sorted(apis.operations(value), key=apis.sort_key):
        action, verb, _, base, path, url = row
        where = f"{str(swagger.get('basePath', base)).rstrip('/')}{path} {verb}"
        target = f" for action {bold(action)}" if action else ""
        click.echo(f"{ok()} created API {where}{target}\n{url}")


def _get(
    session: Session, name: str, extra: Sequence[tuple[str, str]] = ()
) -> list[dict[str, Any]]:
    query = [("basepath", name), *extra, *_context(session)]
    body = session.client.request("GET", _mgmt(session, "getApi"), query=query).body
    return list((body or {}).get("apis") or [])


@api_group.command("get", cls=WskCommand, use="BASE_PATH | API_NAME", help="get API details")
@global_options()
@click.option("-f", "--full", "detail", is_flag=True, help="display full API configuration details")
@click.option(
    "--format", "fmt", default="json", help="Specify the API output `TYPE`, either json or yaml"
)
@click.argument("args", nargs=-1)
def api_get(args: tuple[str, ...], detail: bool, fmt: str) -> None:
    check_args(args, 1, 1, "An API base path or API name is required.")
    if fmt.lower() not in ("json", "yaml"):
        raise WskError(f"Invalid format type: {fmt}")
    session = current()
    try:
        found = _get(session, args[0])
    except WskError as err:
        raise WskError(f"Unable to get API '{args[0]}': {err}") from None
    value = found[0].get("value") if found else None
    if not isinstance(value, dict) or (not detail and not value.get("apidoc")):
        raise WskError(f"API does not exist for basepath {args[0]}")
    shown = apis.value_struct(value) if detail else apis.swagger_struct(value["apidoc"])
    if fmt.lower() == "yaml":
        click.echo(apis.to_yaml(json.loads(go_json(shown))))
    else:
        click.echo(go_json(shown), nl=False)


@api_group.command(
    "delete", cls=WskCommand, use="BASE_PATH | API_NAME [API_PATH [API_VERB]]", help="delete an API"
)
@global_options()
@click.argument("args", nargs=-1)
def api_delete(args: tuple[str, ...]) -> None:
    check_args(
        args,
        1,
        3,
        "An API base path or API name is required.  An optional API relative path and "
        "operation may also be provided.",
    )
    session = current()
    query = [("basepath", args[0])]
    if len(args) > 1:
        _check_path(args[1])
        query.append(("relpath", args[1]))
    verb = _check_verb(args[2]) if len(args) > 2 else ""
    if verb:
        query.append(("operation", verb))
    try:
        session.client.request(
            "DELETE", _mgmt(session, "deleteApi"), query=[*query, *_context(session)]
        )
    except WskError as err:
        raise WskError(f"Unable to delete API: {err}") from None
    if len(args) == 1:
        click.echo(f"{ok()} deleted API {args[0]}")
    elif len(args) == 2:
        click.echo(f"{ok()} deleted {args[1]} from {args[0]}")
    else:
        click.echo(f"{ok()} deleted {args[1]} {verb} from {args[0]}")


@api_group.command(
    "list", cls=WskCommand, use="[[BASE_PATH | API_NAME] [API_PATH [API_VERB]]", help="list APIs"
)
@global_options()
@click.option(
    "-s",
    "--skip",
    type=int,
    default=0,
    help="exclude the first `SKIP` number of actions from the result",
)
@click.option(
    "-l",
    "--limit",
    type=int,
    default=30,
    help="only return `LIMIT` number of actions from the collection",
)
@click.option(
    "-n",
    "--name-sort",
    "name_sort",
    is_flag=True,
    help="sorts a list alphabetically by order of [BASE_PATH | API_NAME], API_PATH, then "
    "API_VERB; only applicable within the limit/skip returned entity block",
)
@click.option("-f", "--full", "full", is_flag=True, help="display full description of each API")
@click.argument("args", nargs=-1)
def api_list(args: tuple[str, ...], skip: int, limit: int, name_sort: bool, full: bool) -> None:
    check_args(
        args,
        0,
        3,
        "Optional parameters are: API base path (or API name), API relative path and operation.",
    )
    session = current()
    relpath = verb = ""
    try:
        if not args:
            query = [("limit", str(limit)), ("skip", str(skip)), *_context(session)]
            body = session.client.request("GET", _mgmt(session, "getApi"), query=query).body
            found = list((body or {}).get("apis") or [])
        else:
            extra: list[tuple[str, str]] = []
            if len(args) > 1:
                _check_path(args[1])
                relpath = args[1]
                extra.append(("relpath", relpath))
            if len(args) > 2:
                verb = _check_verb(args[2])
                extra.append(("operation", verb))
            found = _get(session, args[0], extra)
    except WskError as err:
        raise wrap(f"Unable to obtain the API list: {err}", err) from None
    rows = [
        row
        for item in found
        if isinstance(item.get("value"), dict)
        for row in apis.operations(item["value"], relpath, verb)
    ]
    if name_sort:
        rows.sort(key=apis.sort_key)
    click.echo(f"{ok()} APIs")
    click.echo(apis.full(rows) if full else apis.table(rows), nl=False)
