"""``wsk package``: create, update, bind, get, delete and list packages, as wsk does.

One addition to wsk: ``package delete --force`` sends OpenWhisk's ``?force=true`` (delete
the package's actions too), which the API has and the Go CLI offers no flag for.
"""

from __future__ import annotations

from typing import Any

import click

from pywhisk.cli.client import WhiskClient, quote_path
from pywhisk.cli.errors import EXIT_GENERAL, WskError, check_args, wrap
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.jsontext import go_json
from pywhisk.cli.names import QualifiedName, parse_name_or_fail
from pywhisk.cli.output import bold, ok
from pywhisk.cli.session import Session, current, global_options
from pywhisk.cli.structs import PACKAGE_FIELDS, field_key, package_struct
from pywhisk.cli.tables import entity_summary, full_name, package_rows

from .common import (
    key_value_fields,
    kv_options,
    list_collection,
    list_options,
)

NAME_REQUIRED = "A package name is required."


@click.group("package", cls=WskGroup, help="work with packages")
@global_options()
def package_group() -> None:
    pass


def package_url(client: WhiskClient, qualified: QualifiedName) -> str:
    return client.namespaced(f"packages/{quote_path(qualified.entity_name)}", qualified.namespace)


def _shared(value: str | None) -> bool | None:
    """``parseShared``: yes/no (any case), or unset."""
    if not value:
        return None
    if value.lower() in ("yes", "no"):
        return value.lower() == "yes"
    raise WskError(f"Cannot use value '{value}' for shared.", EXIT_GENERAL, display_usage=True)


def _put(session: Session, qualified: QualifiedName, body: Any, overwrite: bool) -> None:
    client = session.client
    query = [("overwrite", "true" if overwrite else "false")]
    client.request("PUT", package_url(client, qualified), query=query, body=body)


def _put_package(args: tuple[str, ...], shared: str | None, update: bool) -> None:
    check_args(args, 1, 1, NAME_REQUIRED)
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    publish = _shared(shared)
    body: dict[str, Any] = {"namespace": qualified.namespace, "name": qualified.entity_name}
    body.update(key_value_fields(session))
    if publish is not None:
        body["publish"] = publish
    try:
        _put(session, qualified, body, overwrite=update)
    except WskError as err:
        if update:
            raise wrap(f"Package update failed: {err}", err) from None
        raise wrap(f"Unable to create package '{qualified.entity_name}': {err}", err) from None
    verb = "updated" if update else "created"
    click.echo(f"{ok()} {verb} package {bold(qualified.entity_name)}")


SHARED_HELP = "package visibility `SCOPE`; yes = shared, no = private"


@package_group.command("create", cls=WskCommand, use="PACKAGE_NAME", help="create a new package")
@kv_options()
@click.option("--shared", default=None, help=SHARED_HELP)
@global_options()
@click.argument("args", nargs=-1)
def package_create(args: tuple[str, ...], shared: str | None) -> None:
    _put_package(args, shared, update=False)


@package_group.command(
    "update",
    cls=WskCommand,
    use="PACKAGE_NAME",
    help="update an existing package, or create a package if it does not exist",
)
@kv_options()
@click.option("--shared", default=None, help=SHARED_HELP)
@global_options()
@click.argument("args", nargs=-1)
def package_update(args: tuple[str, ...], shared: str | None) -> None:
    _put_package(args, shared, update=True)


@package_group.command(
    "bind",
    cls=WskCommand,
    use="PACKAGE_NAME BOUND_PACKAGE_NAME",
    help="bind parameters to a package",
)
@kv_options()
@click.option("-o", "--overwrite", is_flag=True, help="overwrite bind")
@global_options()
@click.argument("args", nargs=-1)
def package_bind(args: tuple[str, ...], overwrite: bool) -> None:
    check_args(args, 2, 2, "A package name and binding name are required.")
    session = current()
    bound = parse_name_or_fail(args[0], session.namespace)
    binding = parse_name_or_fail(args[1], session.namespace)
    body = key_value_fields(session)
    body["binding"] = {"namespace": bound.namespace, "name": bound.entity_name}
    try:
        _put(session, binding, body, overwrite=overwrite)
    except WskError as err:
        raise wrap(f"Binding creation failed: {err}", err) from None
    click.echo(f"{ok()} created binding {bold(args[1])}")


# Go prints a struct field's zero value when its filter names a field the reply lacks.
_PACKAGE_ZERO: dict[str, Any] = {"namespace": "", "name": "", "version": "", "updated": 0}


@package_group.command("get", cls=WskCommand, use="PACKAGE_NAME [FIELD_FILTER]", help="get package")
@click.option(
    "-s",
    "--summary",
    is_flag=True,
    help='summarize package details; parameters with prefix "*" are bound',
)
@global_options()
@click.argument("args", nargs=-1)
def package_get(args: tuple[str, ...], summary: bool) -> None:
    check_args(args, 1, 2, NAME_REQUIRED)
    field = args[1] if len(args) > 1 else ""
    key = field_key(PACKAGE_FIELDS, field) if field else None
    if field and key is None:
        raise WskError(f"Invalid field filter '{field}'.", EXIT_GENERAL)
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    client = session.client
    try:
        package = client.request("GET", package_url(client, qualified)).body
    except WskError as err:
        raise wrap(f"Unable to get package '{qualified.entity_name}': {err}", err) from None
    package = package if isinstance(package, dict) else {}
    name = qualified.entity_name
    if summary:
        click.echo(package_summary(package), nl=False)
    elif key is not None:
        click.echo(f"{ok()} got package {bold(name)}, displaying field {bold(field)}")
        click.echo(go_json(package_struct(package).get(key, _PACKAGE_ZERO.get(key))), nl=False)
    else:
        click.echo(f"{ok()} got package {bold(name)}")
        click.echo(go_json(package_struct(package)), nl=False)


def package_summary(package: dict[str, Any]) -> str:
    """``printPackageSummary``: the package, then each action and feed it holds."""
    namespace, name = str(package.get("namespace", "")), str(package.get("name", ""))
    out = [
        entity_summary(
            f"{'package':>7}",
            full_name(namespace, name, ""),
            package.get("annotations"),
            package.get("parameters"),
        )
    ]
    for label, collection in ((f"{'action':>7}", "actions"), (f"{'feed  ':>7}", "feeds")):
        for item in package.get(collection) or []:
            if isinstance(item, dict):
                out.append(
                    entity_summary(
                        label,
                        full_name(namespace, name, str(item.get("name", ""))),
                        item.get("annotations"),
                        item.get("parameters"),
                    )
                )
    return "".join(out)


@package_group.command("delete", cls=WskCommand, use="PACKAGE_NAME", help="delete package")
@click.option(
    "--force",
    is_flag=True,
    help="also delete the actions the package holds (pywhisk; the API's force parameter)",
)
@global_options()
@click.argument("args", nargs=-1)
def package_delete(args: tuple[str, ...], force: bool) -> None:
    check_args(args, 1, 1, NAME_REQUIRED)
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    client = session.client
    query = [("force", "true")] if force else []
    try:
        client.request("DELETE", package_url(client, qualified), query=query)
    except WskError as err:
        raise wrap(f"Unable to delete package '{qualified.entity_name}': {err}", err) from None
    click.echo(f"{ok()} deleted package {bold(qualified.entity_name)}")


@package_group.command("list", cls=WskCommand, use="[NAMESPACE]", help="list all packages")
@list_options("packages")
@global_options()
@click.argument("args", nargs=-1)
def package_list(args: tuple[str, ...], skip: int, limit: int, name_sort: bool) -> None:
    _, _, packages = list_collection(args, "packages", skip, limit)
    click.echo(package_rows(packages, name_sort), nl=False)
