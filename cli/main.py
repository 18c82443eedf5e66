"""The ``wsk`` entry point: the command tree, and turning failures into wsk's output and exit codes.

Failures are reported as openwhisk-cli does: ``error: <message>`` on stderr, then
``Run 'wsk --help' for usage.`` for misuse, and the error's exit code (see cli.errors).

Every ``wsk`` run is a new process, so what it imports is paid each time a person types it:
a command's module is imported only when that command runs (``COMMANDS``), and ``wsk --help``
lists them from the table without importing any.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import click

from pywhisk.cli.errors import EXIT_GENERAL, WskError
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.output import error_prefix
from pywhisk.cli.params import split_kv_args
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


class Entry(NamedTuple):
    """Where a top-level command lives, and the line ``wsk --help`` shows for it."""

    module: str
    attribute: str
    help: str


_COMMANDS = "pywhisk.cli.commands"
# tests/unit/test_cli_startup.py checks each line against the command's own help
COMMANDS: dict[str, Entry] = {
    "action": Entry(f"{_COMMANDS}.action", "action_group", "work with actions"),
    "activation": Entry(f"{_COMMANDS}.activation", "activation_group", "work with activations"),
    "api": Entry(f"{_COMMANDS}.api", "api_group", "work with APIs"),
    "layer": Entry(f"{_COMMANDS}.layer", "layer_group", "work with layers (pywhisk)"),
    "list": Entry(
        f"{_COMMANDS}.namespace", "list_command", "list entities in the current namespace"
    ),
    "namespace": Entry(f"{_COMMANDS}.namespace", "namespace_group", "work with namespaces"),
    "package": Entry(f"{_COMMANDS}.package", "package_group", "work with packages"),
    "project": Entry(
        "pywhisk.cli.project.commands", "project_group", "The OpenWhisk Project Management Tool"
    ),
    "property": Entry(f"{_COMMANDS}.property", "property_group", "work with whisk properties"),
    "rule": Entry(f"{_COMMANDS}.rule", "rule_group", "work with rules"),
    "trigger": Entry(f"{_COMMANDS}.trigger", "trigger_group", "work with triggers"),
}


class RootGroup(WskGroup):
    """The ``wsk`` group; its ``main`` does wsk's pre-parsing and error reporting."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        entry = COMMANDS.get(cmd_name)
        if command is None and entry is not None:
            # __import__, not importlib.import_module: the same import, but seen by
            # `python -X importtime` (the latter bypasses its trace)
            module = __import__(entry.module, fromlist=[entry.attribute])
            command = getattr(module, entry.attribute)
            assert isinstance(command, click.Command)
            self.commands[cmd_name] = command
        return command

    def summaries(self, ctx: click.Context) -> list[tuple[str, str]]:
        """The ``Available Commands`` lines: the table's, so that none is imported for them."""
        rows = [(name, entry.help) for name, entry in COMMANDS.items()]
        for name, command in self.commands.items():
            if name not in COMMANDS and not command.hidden:
                rows.append((name, command.help or ""))
        return sorted(rows)

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


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``wsk = "pywhisk.cli.main:main"``)."""
    cli.main(args=argv, prog_name="wsk")
