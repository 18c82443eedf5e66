"""Pieces shared by entity commands (actions now; triggers, rules, packages later)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from cli.params import KVSource, key_value_array, merge_json_objects

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


def given(ctx: click.Context, name: str) -> bool:
    """Whether a flag was typed on the command line (wsk's ``Flags().Changed``)."""
    return ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
