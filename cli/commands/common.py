"""Pieces shared by entity commands (actions, packages, triggers, rules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from pywhisk.cli.client import WhiskClient
from pywhisk.cli.errors import EXIT_GENERAL, WskError, check_args, wrap
from pywhisk.cli.jsontext import go_json
from pywhisk.cli.names import parse_name_or_fail
from pywhisk.cli.output import bold, ok
from pywhisk.cli.params import KVSource, key_value_array, merge_json_objects
from pywhisk.cli.session import Session, current

F = TypeVar("F", bound=Callable[..., Any])


def kv_options(*, params: bool = True, annotations: bool = True) -> Callable[[F], F]:
    """Declare ``-p/-P/-a/-A`` for help and usage only.

    Their values never reach click: like wsk, the root command removes them from the
    command line first (see ``cli.params.split_kv_args``) and keeps them on the Session.
    """
    specs: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    if params:
        specs += [
            (("-p", "--param"), {"nargs": 2, "help": "parameter values in `KEY VALUE` format"}),
            (("-P", "--param-file"), {"help": "`FILE` containing parameter values in JSON format"}),
        ]
    if annotations:
        specs += [
            (
                ("-a", "--annotation"),
                {"nargs": 2, "help": "annotation values in `KEY VALUE` format"},
            ),
            (
                ("-A", "--annotation-file"),
                {"help": "`FILE` containing annotation values in JSON format"},
            ),
        ]

    def decorate(func: F) -> F:
        for decls, attrs in reversed(specs):
            func = click.option(*decls, multiple=True, expose_value=False, **attrs)(func)
        return func

    return decorate


def key_values(sources: list[KVSource], what: str) -> list[dict[str, Any]] | None:
    """The wire array for ``-p``/``-a`` values, or None when none were given.

    None (not ``[]``) matters: wsk omits the field, so an update keeps the old values.
    """
    if not sources:
        return None
    merged = merge_json_objects(sources, what)
    return key_value_array(merged) if merged else None


def key_value_fields(session: Session) -> dict[str, Any]:
    """``parameters``/``annotations`` from -p/-P/-a/-A, each omitted when not given."""
    fields: dict[str, Any] = {}
    parameters = key_values(session.kv.param, "parameter")
    if parameters is not None:
        fields["parameters"] = parameters
    annotations = key_values(session.kv.annotation, "annotation")
    if annotations is not None:
        fields["annotations"] = annotations
    return fields


def given(ctx: click.Context, name: str) -> bool:
    """Whether a flag was typed on the command line (wsk's ``Flags().Changed``)."""
    return ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE


def list_page(
    client: WhiskClient, route: str, namespace: str, skip: int, limit: int
) -> list[dict[str, Any]]:
    """One page of a collection (``route`` already path-quoted), as wsk asks for it."""
    reply = client.request(
        "GET",
        client.namespaced(route, namespace),
        query=[("limit", str(limit)), ("skip", str(skip))],
    )
    return [item for item in reply.body or [] if isinstance(item, dict)]


def shown_namespace(namespace: str) -> str:
    """How wsk names the namespace in messages: ``_`` is ``default``."""
    return "default" if namespace == "_" else namespace


def namespace_argument(args: tuple[str, ...], session: Session) -> str:
    """The optional ``/NAMESPACE`` of ``list`` commands (wsk refuses an entity name there)."""
    check_args(args, 0, 1, "An optional namespace is the only valid argument.")
    if not args:
        return session.namespace
    qualified = parse_name_or_fail(args[0], session.namespace)
    if qualified.entity_name:
        raise WskError(
            f"An entity name, '{qualified.entity_name}', was provided instead of a "
            "namespace. Valid namespaces are of the following format: /NAMESPACE.",
            EXIT_GENERAL,
            display_usage=True,
        )
    return qualified.namespace


def print_got(
    kind: str, name: str, projected: Any, field: str = "", key: str | None = None, zero: Any = None
) -> None:
    """``ok: got KIND NAME`` and the entity, or only the field `key` that the filter `field`
    names (its Go zero value, `zero`, when the reply lacks it)."""
    if field and key is not None:
        click.echo(f"{ok()} got {kind} {bold(name)}, displaying field {bold(field)}")
        click.echo(go_json(projected.get(key, zero)), nl=False)
    else:
        click.echo(f"{ok()} got {kind} {bold(name)}")
        click.echo(go_json(projected), nl=False)


NAME_SORT_HELP = (
    "sorts a list alphabetically by entity name; only applicable within the limit/skip "
    "returned entity block"
)


def list_options(collection: str, name_sort_help: str = NAME_SORT_HELP) -> Callable[[F], F]:
    """``-s/--skip``, ``-l/--limit`` and ``-n/--name-sort`` of every ``list`` command."""

    def decorate(func: F) -> F:
        func = click.option("-n", "--name-sort", "name_sort", is_flag=True, help=name_sort_help)(
            func
        )
        func = click.option(
            "-l",
            "--limit",
            type=int,
            default=30,
            help=f"only return `LIMIT` number of {collection} from the collection",
        )(func)
        return click.option(
            "-s",
            "--skip",
            type=int,
            default=0,
            help=f"exclude the first `SKIP` number of {collection} from the result",
        )(func)

    return decorate


def list_collection(
    args: tuple[str, ...], collection: str, skip: int, limit: int
) -> tuple[Session, str, list[dict[str, Any]]]:
    """What ``wsk <entity> list [/NAMESPACE]`` lists: the session, namespace and page."""
    session = current()
    namespace = namespace_argument(args, session)
    client = session.client  # outside the try: a missing API host is reported as it is
    try:
        return session, namespace, list_page(client, collection, namespace, skip, limit)
    except WskError as err:
        raise wrap(
            f"Unable to obtain the list of {collection} for namespace "
            f"'{shown_namespace(namespace)}': {err}",
            err,
        ) from None
