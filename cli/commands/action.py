"""``wsk action``: the group, and ``invoke|get|delete|list`` (create/update in action_put)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

import click

from pywhisk.cli.artifacts import save_code
from pywhisk.cli.client import application_error_message, quote_path
from pywhisk.cli.config import url_base
from pywhisk.cli.errors import WskError, check_args, exit_code_for_status, nested, usage_error
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.jsontext import go_json
from pywhisk.cli.names import QualifiedName, parse_name_or_fail
from pywhisk.cli.output import bold, ok
from pywhisk.cli.params import merge_json_objects
from pywhisk.cli.session import Session, current, global_options
from pywhisk.cli.structs import ACTION_FIELDS, action_struct, annotation, field_key
from pywhisk.cli.tables import action_rows, entity_summary, full_name

from .action_put import action_create, action_update, action_url, get_action
from .common import given, kv_options, list_options, list_page, shown_namespace


@click.group("action", cls=WskGroup, help="work with actions")
@global_options()
def action_group() -> None:
    pass


action_group.add_command(action_create)
action_group.add_command(action_update)


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
        failed = failed_activation(reply.body) if blocking and not result else None
        if failed is not None:
            raise failed
    except WskError as err:
        if blocking and err.timed_out:
            print_not_finished(qualified, err)
            raise
        if blocking and err.application_error:
            # wsk shows the failed result (or activation) on stderr and exits non-zero
            print_invocation(qualified, err.body, err.headers, header=not result, to_stderr=True)
            raise
        raise nested(f"Unable to invoke action '{qualified.entity_name}': {err}", err) from None
    if blocking:
        print_invocation(qualified, reply.body, reply.headers, header=not result)
    else:
        print_invocation(qualified, reply.body, reply.headers, header=True, show_body=False)


def failed_activation(body: Any) -> WskError | None:
    """A 200 whose activation says ``success: false`` is the failure a 502 would be."""
    response = body.get("response") if isinstance(body, dict) else None
    if isinstance(response, dict) and response.get("success") is False:
        return WskError(
            "The following application error was received: "
            + application_error_message(response.get("result")),
            exit_code_for_status(502),
            display_msg=False,
            application_error=True,
            body=body,
        )
    return None


def print_not_finished(qualified: QualifiedName, err: WskError) -> None:
    """``printBlockingTimeoutMsg``: a blocking invoke answered 202."""
    activation_id = _activation_id(err.body, err.headers)
    click.echo(
        f"{ok()} invoked /{bold(qualified.namespace)}/{bold(qualified.entity_name)}, "
        f"but the request has not yet finished, with id {bold(activation_id)}",
        err=True,
    )


def _activation_id(body: Any, headers: dict[str, str]) -> str:
    if isinstance(body, dict) and "activationId" in body:
        return str(body["activationId"])
    return headers.get("x-openwhisk-activation-id", "")


def print_invocation(
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
@list_options("actions")
@global_options()
@click.argument("args", nargs=-1)
def action_list(args: tuple[str, ...], skip: int, limit: int, name_sort: bool) -> None:
    check_args(args, 0, 1, "An optional namespace is the only valid argument.")
    session = current()
    namespace, package = session.namespace, ""
    if args:
        qualified = parse_name_or_fail(args[0], session.namespace)
        namespace, package = qualified.namespace, qualified.entity_name
    route = f"actions/{quote_path(package)}/" if package else "actions"
    client = session.client  # outside the try: a missing API host is reported as it is
    try:
        actions = list_page(client, route, namespace, skip, limit)
    except WskError as err:
        raise nested(
            f"Unable to obtain the list of actions for namespace '{shown_namespace(namespace)}': "
            f"{err}",
            err,
        ) from None
    click.echo(action_rows(actions, name_sort), nl=False)
