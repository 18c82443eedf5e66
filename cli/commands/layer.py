"""``wsk layer``: create, update, get, list and delete layers (a pywhisk extension: OpenWhisk's
wsk has no such command). A layer is a zip file unpacked under /opt of the containers of the
actions that name it (``wsk action create … --layer NAME``), as AWS Lambda's layers are.
Output and exit codes follow the other entities' commands.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import click

from pywhisk.cli.client import WhiskClient, quote_path
from pywhisk.cli.errors import EXIT_GENERAL, WskError, check_args, wrap
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.jsontext import go_json
from pywhisk.cli.names import QualifiedName, parse_name_or_fail
from pywhisk.cli.output import bold, ok
from pywhisk.cli.session import current, global_options
from pywhisk.cli.tables import package_rows

from .common import list_collection, list_options

NAME_REQUIRED = "A layer name is required."


@click.group("layer", cls=WskGroup, help="work with layers (pywhisk)")
@global_options()
def layer_group() -> None:
    pass


def layer_url(client: WhiskClient, qualified: QualifiedName) -> str:
    return client.namespaced(f"layers/{quote_path(qualified.entity_name)}", qualified.namespace)


def _zip_code(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise WskError(
            f"File '{path}' is not a valid file or it does not exist: {exc.strerror}", EXIT_GENERAL
        ) from None
    if data[:2] != b"PK":
        raise WskError(f"File '{path}' is not a zip file.", EXIT_GENERAL)
    return base64.b64encode(data).decode("ascii")


def _put(args: tuple[str, ...], shared: str | None, update: bool) -> None:
    check_args(args, 2, 2, "A layer name and a zip file are required.")
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    body: dict[str, Any] = {"code": _zip_code(args[1])}
    if shared:
        if shared.lower() not in ("yes", "no"):
            raise WskError(
                f"Cannot use value '{shared}' for shared.", EXIT_GENERAL, display_usage=True
            )
        body["publish"] = shared.lower() == "yes"
    client = session.client
    try:
        client.request(
            "PUT",
            layer_url(client, qualified),
            query=[("overwrite", "true" if update else "false")],
            body=body,
        )
    except WskError as err:
        if update:
            raise wrap(f"Layer update failed: {err}", err) from None
        raise wrap(f"Unable to create layer '{qualified.entity_name}': {err}", err) from None
    verb = "updated" if update else "created"
    click.echo(f"{ok()} {verb} layer {bold(qualified.entity_name)}")


SHARED_HELP = "layer visibility `SCOPE`; yes = shared, no = private"


@layer_group.command("create", cls=WskCommand, use="LAYER_NAME ZIP_FILE", help="create a new layer")
@click.option("--shared", default=None, help=SHARED_HELP)
@global_options()
@click.argument("args", nargs=-1)
def layer_create(args: tuple[str, ...], shared: str | None) -> None:
    _put(args, shared, update=False)


@layer_group.command(
    "update",
    cls=WskCommand,
    use="LAYER_NAME ZIP_FILE",
    help="update an existing layer, or create a layer if it does not exist",
)
@click.option("--shared", default=None, help=SHARED_HELP)
@global_options()
@click.argument("args", nargs=-1)
def layer_update(args: tuple[str, ...], shared: str | None) -> None:
    _put(args, shared, update=True)


@layer_group.command("get", cls=WskCommand, use="LAYER_NAME", help="get layer")
@global_options()
@click.argument("args", nargs=-1)
def layer_get(args: tuple[str, ...]) -> None:
    check_args(args, 1, 1, NAME_REQUIRED)
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    client = session.client
    try:
        layer = client.request("GET", layer_url(client, qualified), query=[("code", "false")]).body
    except WskError as err:
        raise wrap(f"Unable to get layer '{qualified.entity_name}': {err}", err) from None
    click.echo(f"{ok()} got layer {bold(qualified.entity_name)}")
    click.echo(go_json(layer), nl=False)


@layer_group.command("delete", cls=WskCommand, use="LAYER_NAME", help="delete layer")
@global_options()
@click.argument("args", nargs=-1)
def layer_delete(args: tuple[str, ...]) -> None:
    check_args(args, 1, 1, NAME_REQUIRED)
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    client = session.client
    try:
        client.request("DELETE", layer_url(client, qualified))
    except WskError as err:
        raise wrap(f"Unable to delete layer '{qualified.entity_name}': {err}", err) from None
    click.echo(f"{ok()} deleted layer {bold(qualified.entity_name)}")


@layer_group.command("list", cls=WskCommand, use="[NAMESPACE]", help="list all layers")
@list_options("layers")
@global_options()
@click.argument("args", nargs=-1)
def layer_list(args: tuple[str, ...], skip: int, limit: int, name_sort: bool) -> None:
    _, _, layers = list_collection(args, "layers", skip, limit)
    rows = package_rows(layers, name_sort)
    click.echo(rows.replace(bold("packages"), bold("layers"), 1), nl=False)
