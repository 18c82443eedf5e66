"""``wsk namespace list|get|usage`` and ``wsk list`` (the entities of the current namespace)."""

from __future__ import annotations

from typing import Any

import click

from pywhisk.cli.client import quote_path
from pywhisk.cli.errors import WskError, check_args, wrap
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.output import bold
from pywhisk.cli.session import current, global_options
from pywhisk.cli.tables import action_rows, namespace_rows, package_rows, rule_rows, trigger_rows

from .common import NAME_SORT_HELP, list_page
from .usage import namespace_usage


@click.group("namespace", cls=WskGroup, help="work with namespaces")
@global_options()
def namespace_group() -> None:
    pass


@namespace_group.command("list", cls=WskCommand, help="list available namespaces")
@global_options()
@click.argument("args", nargs=-1)
def namespace_list(args: tuple[str, ...]) -> None:
    check_args(args, 0, 0, "No arguments are required.")
    client = current().client
    try:
        body = client.request("GET", f"{client.version_url}/namespaces").body
    except WskError as err:
        raise wrap(f"Unable to obtain the list of available namespaces: {err}", err) from None
    names = [str(name) for name in body] if isinstance(body, list) else []
    click.echo(namespace_rows(names), nl=False)


def show_namespace(args: tuple[str, ...], name_sort: bool) -> None:
    """``namespace get``: every package, action, trigger and rule of the namespace."""
    if not (len(args) == 1 and args[0] == "/_"):
        check_args(args, 0, 0, "No arguments are required.")
    session = current()
    shown = "default" if session.namespace == "_" else session.namespace
    collections: dict[str, list[dict[str, Any]]] = {}
    for collection in ("actions", "packages", "triggers", "rules"):
        try:
            collections[collection] = list_page(session.client, collection, session.namespace, 0, 0)
        except WskError as err:
            raise wrap(
                f"Unable to obtain the list of entities for namespace '{shown}': {err}", err
            ) from None
    client = session.client
    for rule in collections["rules"]:
        name = str(rule.get("name", ""))
        try:
            url = client.namespaced(f"rules/{quote_path(name)}", session.namespace)
            body = client.request("GET", url).body
        except WskError as err:
            message = f"Unable to get status of rule '{name}': {err}"
            click.echo(message)
            raise wrap(message, err) from None
        rule["status"] = body.get("status", "") if isinstance(body, dict) else ""
    click.echo(f"Entities in namespace: {bold(shown)}")
    click.echo(package_rows(collections["packages"], name_sort), nl=False)
    click.echo(action_rows(collections["actions"], name_sort), nl=False)
    click.echo(trigger_rows(collections["triggers"], name_sort), nl=False)
    click.echo(rule_rows(collections["rules"], name_sort), nl=False)


@namespace_group.command(
    "get", cls=WskCommand, help="get triggers, actions, and rules in the registry for namespace"
)
@click.option("-n", "--name-sort", "name_sort", is_flag=True, help=NAME_SORT_HELP)
@global_options()
@click.argument("args", nargs=-1)
def namespace_get(args: tuple[str, ...], name_sort: bool) -> None:
    show_namespace(args, name_sort)


namespace_group.add_command(namespace_usage)


@click.command("list", cls=WskCommand, help="list entities in the current namespace")
@click.option("-n", "--name-sort", "name_sort", is_flag=True, help=NAME_SORT_HELP)
@global_options()
@click.argument("args", nargs=-1)
def list_command(args: tuple[str, ...], name_sort: bool) -> None:
    show_namespace(args, name_sort)
