"""Pieces shared by entity commands (actions now; triggers, rules, packages later)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from cli.client import WhiskClient
from cli.params import KVSource, key_value_array, merge_json_objects
from cli.session import Session

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
