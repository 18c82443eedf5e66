"""``wsk api``: create, get, list and delete HTTP APIs, as openwhisk-cli's `commands/api.go`.

The commands call the management web actions `whisk.system/apimgmt/{createApi,getApi,
deleteApi}.http` with the caller's key, sending what the Go wsk sends: the route as an
`apidoc` (or a whole swagger file with `--config-file`), `spaceguid` (the key's uuid) and
the default `accesstoken`. Before creating a route, wsk reads the action and refuses one
that is not a web action; it does not change the action.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from pywhisk.cli import apidocs, apis
from pywhisk.cli.errors import WskError, check_args, wrap
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.jsontext import go_json
from pywhisk.cli.output import bold, ok
from pywhisk.cli.session import Session, current, global_options

from .common import list_options

RESPONSE_TYPE_HELP = (
    "Set the web action response `TYPE`. Possible values are html, http, json, text, svg"
)


@click.group("api", cls=WskGroup, help="work with APIs")
@global_options()
def api_group() -> None:
    pass


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
        raise apidocs.usage(
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
            raise apidocs.usage("An API name can only be specified once.")
        apidoc, action_name = apidocs.route_apidoc(session, args, apiname, response_type)
        secure_key, _ = apidocs.web_action(session, args[-1])
        if secure_key is not None:
            apidoc["action"]["secureKey"] = secure_key
    else:
        apidoc = apidocs.swagger_apidoc(session, config_file)
    query = [*apidocs.context(session), ("responsetype", response_type)]
    try:
        value = session.client.request(
            "POST", apidocs.mgmt(session, "createApi"), query=query, body={"apidoc": apidoc}
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
    query = [("basepath", name), *extra, *apidocs.context(session)]
    body = session.client.request("GET", apidocs.mgmt(session, "getApi"), query=query).body
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
        apidocs.check_path(args[1])
        query.append(("relpath", args[1]))
    verb = apidocs.check_verb(args[2]) if len(args) > 2 else ""
    if verb:
        query.append(("operation", verb))
    try:
        session.client.request(
            "DELETE", apidocs.mgmt(session, "deleteApi"), query=[*query, *apidocs.context(session)]
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
@list_options(
    "actions",
    name_sort_help="sorts a list alphabetically by order of [BASE_PATH | API_NAME], API_PATH, "
    "then API_VERB; only applicable within the limit/skip returned entity block",
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
            query = [("limit", str(limit)), ("skip", str(skip)), *apidocs.context(session)]
            body = session.client.request("GET", apidocs.mgmt(session, "getApi"), query=query).body
            found = list((body or {}).get("apis") or [])
        else:
            extra: list[tuple[str, str]] = []
            if len(args) > 1:
                apidocs.check_path(args[1])
                relpath = args[1]
                extra.append(("relpath", relpath))
            if len(args) > 2:
                verb = apidocs.check_verb(args[2])
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
