"""``wsk action create|update|invoke|get|delete|list``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

import click

from cli.artifacts import NO_ARTIFACT, build_exec, save_code
from cli.client import WhiskClient, quote_path
from cli.config import url_base
from cli.errors import (
    EXIT_NOT_ALLOWED,
    EXIT_NOT_FOUND,
    WskError,
    check_args,
    nested,
    usage_error,
)
from cli.help import WskCommand, WskGroup
from cli.jsontext import go_json
from cli.names import QualifiedName, parse_name_or_fail, qualify
from cli.output import (
    ACTION_FIELDS,
    action_rows,
    action_struct,
    annotation,
    bold,
    entity_summary,
    field_key,
    full_name,
    ok,
)
from cli.params import merge_json_objects
from cli.session import Session, current, global_options
from cli.web import augment

from .common import given, key_values, kv_options

DEFAULT_LIMITS = {"timeout": 60000, "memory": 256, "logsize": 10, "concurrency": 1}
LIMIT_KEYS = {
    "timeout": "timeout",
    "memory": "memory",
    "logsize": "logs",
    "concurrency": "concurrency",
}


@click.group("action", cls=WskGroup, help="work with actions")
@global_options()
def action_group() -> None:
    pass


def action_url(client: WhiskClient, qualified: QualifiedName) -> str:
    return client.namespaced(f"actions/{quote_path(qualified.entity_name)}", qualified.namespace)


def get_action(session: Session, qualified: QualifiedName, code: bool) -> Any:
    client = session.client
    query = [("code", "true" if code else "false")]
    return client.request("GET", action_url(client, qualified), query=query).body


# -------------------------------------------------------------------------- create/update
def _create_options(update: bool) -> Any:
    def decorate(func: Any) -> Any:
        options = [
            click.option(
                "--native",
                is_flag=True,
                help="treat ACTION as native action (zip file provides a compatible "
                "executable to run)",
            ),
            click.option(
                "--docker",
                default="",
                help="use provided docker image (a path on DockerHub) to run the action",
            ),
            click.option(
                "--copy", is_flag=True, help="treat ACTION as the name of an existing action"
            ),
            click.option(
                "--sequence",
                is_flag=True,
                help="treat ACTION as comma separated sequence of actions to invoke",
            ),
            click.option(
                "--kind",
                default="",
                help="the `KIND` of the action runtime (example: swift:default, nodejs:default)",
            ),
            click.option(
                "--main",
                default="",
                help="the name of the action entry point (function or fully-qualified method "
                "name when applicable)",
            ),
            click.option(
                "-t",
                "--timeout",
                type=int,
                default=DEFAULT_LIMITS["timeout"],
                help="the timeout `LIMIT` in milliseconds after which the action is terminated",
            ),
            click.option(
                "-m",
                "--memory",
                type=int,
                default=DEFAULT_LIMITS["memory"],
                help="the maximum memory `LIMIT` in MB for the action",
            ),
            click.option(
                "-l",
                "--logsize",
                type=int,
                default=DEFAULT_LIMITS["logsize"],
                help="the maximum log size `LIMIT` in MB for the action",
            ),
            click.option(
                "-c",
                "--concurrency",
                type=int,
                default=DEFAULT_LIMITS["concurrency"],
                help="the maximum intra-container concurrent activation `LIMIT` for the action",
            ),
            click.option(
                "--web",
                default=None,
                help="treat ACTION as a web action, a raw HTTP web action, or as a standard "
                "action; yes | true = web action, raw = raw HTTP web action, no | false = "
                "standard action",
            ),
            click.option(
                "--web-secure",
                "web_secure",
                default=None,
                help="secure the web action. where `SECRET` is true, false, or any string. "
                "Only valid when the ACTION is a web action",
            ),
        ]
        if update:
            options.append(
                click.option(
                    "--del-annotation",
                    "del_annotation",
                    multiple=True,
                    help="the list of annotations to be deleted from the action, e.g. "
                    "--del-annotation key1 --del-annotation key2",
                )
            )
        for option in reversed(options):
            func = option(func)
        return kv_options()(func)

    return decorate


@action_group.command(
    "create", cls=WskCommand, use="ACTION_NAME ACTION", help="create a new action"
)
@_create_options(update=False)
@global_options()
@click.argument("args", nargs=-1)
@click.pass_context
def action_create(ctx: click.Context, args: tuple[str, ...], **options: Any) -> None:
    check_args(args, 1, 2, "An action name and code artifact are required.")
    _put_action(ctx, args, options, update=False)


@action_group.command(
    "update",
    cls=WskCommand,
    use="ACTION_NAME [ACTION]",
    help="update an existing action, or create an action if it does not exist",
)
@_create_options(update=True)
@global_options()
@click.argument("args", nargs=-1)
@click.pass_context
def action_update(ctx: click.Context, args: tuple[str, ...], **options: Any) -> None:
    check_args(args, 1, 2, "An action name is required. A code artifact is optional.")
    _put_action(ctx, args, options, update=True)


def _put_action(
    ctx: click.Context, args: tuple[str, ...], options: dict[str, Any], update: bool
) -> None:
    session = current()
    try:
        qualified, action = _parse_action(ctx, session, args, options, update)
        action = _augment_action(ctx, session, qualified, action, options, update)
    except WskError as err:
        raise nested(f"Invalid argument(s). {err.message}", err) from None
    client = session.client
    try:
        client.request(
            "PUT",
            action_url(client, qualified),
            query=[("overwrite", "true" if update else "false")],
            body=action,
        )
    except WskError as err:
        raise nested(f"Unable to create action '{qualified.entity_name}': {err}", err) from None
    verb = "updated" if update else "created"
    click.echo(f"{ok()} {verb} action {bold(qualified.entity_name)}")


def _parse_action(
    ctx: click.Context,
    session: Session,
    args: tuple[str, ...],
    options: dict[str, Any],
    update: bool,
) -> tuple[QualifiedName, dict[str, Any]]:
    """``parseAction``: the PUT body from the command line (fields omitted when not given)."""
    qualified = parse_name_or_fail(args[0], session.namespace)
    action: dict[str, Any] = {"namespace": qualified.namespace, "name": qualified.entity_name}
    limits = {LIMIT_KEYS[flag]: options[flag] for flag in LIMIT_KEYS if given(ctx, flag)}
    if limits:
        action["limits"] = limits
    parameters = key_values(session.kv.param, "parameter")
    if parameters is not None:
        action["parameters"] = parameters
    annotations = key_values(session.kv.annotation, "annotation")
    if annotations is not None:
        action["annotations"] = annotations
    if options["kind"] and options["docker"]:
        raise WskError(
            "Cannot specify both --kind and --docker at the same time.", EXIT_NOT_ALLOWED
        )

    if options["copy"]:
        if len(args) < 2:
            raise usage_error(NO_ARTIFACT)
        source = parse_name_or_fail(args[1], session.namespace)
        try:
            existing = get_action(session, source, code=True)
        except WskError as err:
            raise nested(f"Unable to get action '{source.entity_name}': {err}", err) from None
        existing = existing if isinstance(existing, dict) else {}
        action["exec"] = existing.get("exec")
        action["parameters"] = (action.get("parameters") or []) + (existing.get("parameters") or [])
        action["annotations"] = (action.get("annotations") or []) + (
            existing.get("annotations") or []
        )
    elif options["sequence"]:
        if len(args) != 2:
            raise usage_error(NO_ARTIFACT)
        components = [qualify(name, session.namespace) for name in args[1].split(",")]
        action["exec"] = {"kind": "sequence", "components": components}
    elif len(args) > 1 or options["docker"]:
        action["exec"] = build_exec(
            args[1] if len(args) > 1 else None,
            kind=options["kind"],
            docker=options["docker"],
            native=options["native"],
            main=options["main"],
        )
    elif not update:
        raise usage_error(NO_ARTIFACT)

    if update and options.get("del_annotation"):
        action["delAnnotations"] = list(options["del_annotation"])
    return qualified, action


def _augment_action(
    ctx: click.Context,
    session: Session,
    qualified: QualifiedName,
    action: dict[str, Any],
    options: dict[str, Any],
    update: bool,
) -> dict[str, Any]:
    web = options["web"] if given(ctx, "web") else None
    web_secure = options["web_secure"] if given(ctx, "web_secure") else None
    if web is None and web_secure is None:
        return action
    existing = None
    if update:
        # wsk fetches the action on every update; only the web flags need it.
        try:
            existing = get_action(session, qualified, code=False)
        except WskError as err:
            if err.exit_code != EXIT_NOT_FOUND:
                raise nested(
                    f"Unable to get action '{qualified.entity_name}': {err}", err
                ) from None
    return augment(
        action, existing if isinstance(existing, dict) else None, web=web, web_secure=web_secure
    )


# ---------------------------------------------------------------------------------- invoke
@action_group.command("invoke", cls=WskCommand, use="ACTION_NAME", help="invoke action")
@kv_options(annotations=False)
@click.option("-b", "--blocking", is_flag=True, help="blocking invoke")
@click.option(
    "-r",
    "--result",
    is_flag=True,
    help="blocking invoke; show only activation result (unless there is a failure)",
)
@global_options()
@click.argument("args", nargs=-1)
def action_invoke(args: tuple[str, ...], blocking: bool, result: bool) -> None:
    check_args(args, 1, 1, "An action name is required.")
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    payload = merge_json_objects(session.kv.param, "parameter")
    blocking = blocking or result
    client = session.client
    query = [("blocking", str(blocking).lower()), ("result", str(result).lower())]
    try:
        reply = client.request(
            "POST",
            action_url(client, qualified),
            query=query,
            body=payload,
            timeout_is_error=blocking,
            activation_reply=True,
        )
    except WskError as err:
        if blocking and err.timed_out:
            activation_id = _activation_id(err.body, err.headers)
            click.echo(
                f"{ok()} invoked /{bold(qualified.namespace)}/{bold(qualified.entity_name)}, "
                f"but the request has not yet finished, with id {bold(activation_id)}",
                err=True,
            )
            raise
        if blocking and err.application_error:
            # wsk shows the failed result (or activation) on stderr and exits non-zero
            _print_invocation(qualified, err.body, err.headers, header=not result, to_stderr=True)
            raise
        raise nested(f"Unable to invoke action '{qualified.entity_name}': {err}", err) from None
    if blocking:
        _print_invocation(qualified, reply.body, reply.headers, header=not result)
    else:
        _print_invocation(qualified, reply.body, reply.headers, header=True, show_body=False)


def _activation_id(body: Any, headers: dict[str, str]) -> str:
    if isinstance(body, dict) and "activationId" in body:
        return str(body["activationId"])
    return headers.get("x-openwhisk-activation-id", "")


def _print_invocation(
    qualified: QualifiedName,
    body: Any,
    headers: dict[str, str],
    *,
    header: bool,
    show_body: bool = True,
    to_stderr: bool = False,
) -> None:
    """``printInvocationMsg``: the ``ok: invoked`` line and, when blocking, the JSON."""
    if header:
        click.echo(
            f"{ok()} invoked /{bold(qualified.namespace)}/{bold(qualified.entity_name)} "
            f"with id {bold(_activation_id(body, headers))}",
            err=to_stderr,
        )
    if show_body:
        click.echo(go_json(body), nl=False, err=to_stderr)


# ------------------------------------------------------------------------------------- get
@action_group.command(
    "get", cls=WskCommand, use="ACTION_NAME [FIELD_FILTER | --summary | --url]", help="get action"
)
@click.option(
    "-s",
    "--summary",
    is_flag=True,
    help='summarize action details; parameters with prefix "*" are bound, "**" are bound '
    "and finalized",
)
@click.option("-r", "--url", is_flag=True, help="get action url")
@click.option("--save-as", "save_as", default="", help="file to save action code to")
@click.option(
    "--save", is_flag=True, help="save action code to file corresponding with action name"
)
@global_options()
@click.argument("args", nargs=-1)
@click.pass_context
def action_get(
    ctx: click.Context, args: tuple[str, ...], summary: bool, url: bool, save_as: str, save: bool
) -> None:
    check_args(args, 1, 2, "An action name is required.")
    field = ""
    if not url and not summary and len(args) > 1:
        field = args[1]
        if field_key(ACTION_FIELDS, field) is None:
            raise usage_error(f"Invalid field filter '{field}'.")
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    fetch_code = given(ctx, "save_as") or given(ctx, "save")
    try:
        action = get_action(session, qualified, code=fetch_code)
    except WskError as err:
        raise nested(f"Unable to get action '{qualified.entity_name}': {err}", err) from None
    action = action if isinstance(action, dict) else {}

    if url:
        click.echo(f"{ok()} got action {bold(qualified.entity)}")
        click.echo(web_or_rest_url(session, action, qualified.package))
    elif summary:
        name = full_name(str(action.get("namespace", "")), "", str(action.get("name", "")))
        click.echo(
            entity_summary(
                f"{'action':>6}", name, action.get("annotations"), action.get("parameters")
            ),
            nl=False,
        )
    elif fetch_code:
        path = save_code(action, save_as)
        click.echo(f"{ok()} saved action code to {bold(path)}")
    elif field:
        key = field_key(ACTION_FIELDS, field)
        assert key is not None
        click.echo(
            f"{ok()} got action {bold(qualified.entity_name)}, displaying field {bold(field)}"
        )
        projected = action_struct(action)
        click.echo(go_json(projected.get(key, _ACTION_ZERO.get(key))), nl=False)
    else:
        click.echo(f"{ok()} got action {bold(qualified.entity_name)}")
        click.echo(go_json(action_struct(action)), nl=False)


# Go prints a struct field's zero value when its filter names a field the reply lacks.
_ACTION_ZERO: dict[str, Any] = {
    "namespace": "",
    "name": "",
    "version": "",
    "error": "",
    "code": 0,
    "updated": 0,
}


def _query_escape(text: str) -> str:
    return quote_plus(text, safe="").replace("+", "%20")


def web_or_rest_url(session: Session, action: dict[str, Any], package: str) -> str:
    """``Action.ActionURL``: the web URL for web actions, else the REST URL."""
    base = url_base(session.props.apihost)
    version = session.props.apiversion
    namespace = _query_escape(str(action.get("namespace", "")).split("/")[0])
    name = _query_escape(str(action.get("name", "")))
    package = _query_escape(package)
    if annotation(action.get("annotations"), "web-export") is True:
        return f"{base}/{version}/web/{namespace}/{package or 'default'}/{name}"
    if package:
        return f"{base}/{version}/namespaces/{namespace}/actions/{package}/{name}"
    return f"{base}/{version}/namespaces/{namespace}/actions/{name}"


# ---------------------------------------------------------------------------------- delete
@action_group.command("delete", cls=WskCommand, use="ACTION_NAME", help="delete action")
@global_options()
@click.argument("args", nargs=-1)
def action_delete(args: tuple[str, ...]) -> None:
    check_args(args, 1, 1, "An action name is required.")
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    client = session.client
    try:
        client.request("DELETE", action_url(client, qualified))
    except WskError as err:
        raise nested(f"Unable to delete action '{qualified.entity_name}': {err}", err) from None
    click.echo(f"{ok()} deleted action {bold(qualified.entity_name)}")


# ------------------------------------------------------------------------------------ list
@action_group.command(
    "list",
    cls=WskCommand,
    use="[ NAMESPACE | PACKAGE_NAME ]",
    help="list all actions in a namespace or actions contained in a package",
)
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
    help="sorts a list alphabetically by entity name; only applicable within the limit/skip "
    "returned entity block",
)
@global_options()
@click.argument("args", nargs=-1)
def action_list(args: tuple[str, ...], skip: int, limit: int, name_sort: bool) -> None:
    check_args(args, 0, 1, "An optional namespace is the only valid argument.")
    session = current()
    namespace, package = session.namespace, ""
    if args:
        qualified = parse_name_or_fail(args[0], session.namespace)
        namespace, package = qualified.namespace, qualified.entity_name
    client = session.client
    route = f"actions/{quote_path(package)}/" if package else "actions"
    try:
        reply = client.request(
            "GET",
            client.namespaced(route, namespace),
            query=[("limit", str(limit)), ("skip", str(skip))],
        )
    except WskError as err:
        shown = "default" if namespace == "_" else namespace
        raise nested(
            f"Unable to obtain the list of actions for namespace '{shown}': {err}", err
        ) from None
    actions = [item for item in reply.body or [] if isinstance(item, dict)]
    click.echo(action_rows(actions, name_sort), nl=False)
