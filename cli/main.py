"""The ``wsk`` entry point: the command tree, and turning failures into wsk's output and exit codes.

Failures are reported as openwhisk-cli does: ``error: <message>`` on stderr, then
``Run 'wsk --help' for usage.`` for misuse, and the error's exit code (see cli.errors).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from pywhisk.cli.commands.action import action_group
from pywhisk.cli.commands.activation import activation_group
from pywhisk.cli.commands.api import api_group
from pywhisk.cli.commands.layer import layer_group
from pywhisk.cli.commands.namespace import list_command, namespace_group
from pywhisk.cli.commands.package import package_group
from pywhisk.cli.commands.property import property_group
from pywhisk.cli.commands.rule import rule_group
from pywhisk.cli.commands.trigger import trigger_group
from pywhisk.cli.errors import EXIT_GENERAL, WskError
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.output import error_prefix
from pywhisk.cli.params import split_kv_args
from pywhisk.cli.project.commands import project_group
from pywhisk.cli.session import Session, global_options

USAGE_HINT = "Run 'wsk --help' for usage."
EXIT_INTERRUPTED = 130


def report(err: WskError) -> None:
    """``ExitOnError``: print the message (unless already shown) and the usage hint."""
    if err.display_msg and err.exit_code != 0:
        prefix = error_prefix() if err.display_prefix else ""
        click.echo(f"{prefix}{err.message}", err=True)
    elif err.display_msg:
        click.echo(err.message, err=True)
    if err.display_usage:
        click.echo(USAGE_HINT, err=True)


def _usage_message(err: click.UsageError) -> str:
    if isinstance(err, click.NoSuchOption):
        return f"unknown flag: {err.option_name}"
    return err.format_message()


class RootGroup(WskGroup):
    """The ``wsk`` group; its ``main`` does wsk's pre-parsing and error reporting."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        session = extra.pop("obj", None)
        if not isinstance(session, Session):
            session = Session()
        try:
            argv, session.kv = split_kv_args(argv)
            result = super().main(
                argv,
                prog_name or "wsk",
                complete_var,
                standalone_mode=False,
                obj=session,
                **extra,
            )
            code = result if isinstance(result, int) else 0
        except WskError as err:
            report(err)
            code = err.exit_code
        except click.exceptions.NoArgsIsHelpError as err:
            # a group without a subcommand prints its help, as cobra does
            click.echo(err.ctx.get_help() if err.ctx else "")
            code = 0
        except click.UsageError as err:
            click.echo(f"{error_prefix()}{_usage_message(err)}", err=True)
            click.echo(USAGE_HINT, err=True)
            code = EXIT_GENERAL
        except click.Abort:
            code = EXIT_INTERRUPTED
        except BrokenPipeError:
            code = EXIT_GENERAL
        finally:
            session.close()
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(
    "wsk",
    cls=RootGroup,
    help="pywhisk: an OpenWhisk-compatible cloud computing command line interface.",
)
@global_options()
def cli() -> None:
    pass


@cli.command("help", cls=WskCommand, use="[command]", help="Help about any command")
@click.argument("words", nargs=-1)
@click.pass_context
def help_command(ctx: click.Context, words: tuple[str, ...]) -> None:
    current = ctx.find_root()
    command: click.Command = current.command
    for word in words:
        sub = command.get_command(current, word) if isinstance(command, click.Group) else None
        if sub is None:
            click.echo(f"Unknown help topic {list(words)!r}")
            command, current = ctx.find_root().command, ctx.find_root()
            break
        current = click.Context(sub, info_name=word, parent=current)
        command = sub
    click.echo(command.get_help(current))


for _command in (
    action_group,
    activation_group,
    api_group,
    layer_group,
    namespace_group,
    package_group,
    project_group,
    property_group,
    rule_group,
    trigger_group,
    list_command,
):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``wsk = "pywhisk.cli.main:main"``)."""
    cli.main(args=argv, prog_name="wsk")
