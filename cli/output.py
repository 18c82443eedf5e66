"""Styling of wsk's status lines: green ``ok:``, bold names, red ``error:``.

click.echo drops these styles when the stream is not a terminal, as wsk's color library
does, so piped output and tests see plain text.
"""

from __future__ import annotations

import click


def ok() -> str:
    return click.style("ok:", fg="green")


def bold(value: object) -> str:
    return click.style(str(value), bold=True)


def error_prefix() -> str:
    return click.style("error: ", fg="red")
