"""Help screens laid out as wsk's (cobra + pflag) are, and click classes that use them.

Layout: the short description, ``Usage:``, ``Available Commands:`` for groups, then
``Flags:`` and ``Global Flags:`` with pflag's columns: ``-s, --long VARNAME`` (VARNAME is
the back-quoted word of the help text), sorted by long name, defaults appended as
``(default N)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import click

from pywhisk.cli.session import GlobalOption

MIN_NAME_PADDING = 11  # cobra's minNamePadding
_BACKQUOTED = re.compile(r"`([^`]*)`")
HELP_CONTEXT = {"help_option_names": ["-h", "--help"]}


def _names(option: click.Option) -> tuple[str, str]:
    long = next((o for o in option.opts if o.startswith("--")), option.opts[0])
    short = next((o for o in option.opts if len(o) == 2 and not o.startswith("--")), "")
    return short.lstrip("-"), long.lstrip("-")


def _varname_and_usage(option: click.Option) -> tuple[str, str]:
    text = option.help or ""
    match = _BACKQUOTED.search(text)
    if match:
        return match.group(1), text.replace("`", "")
    if option.is_flag:
        return "", text
    if isinstance(option.type, click.types.IntParamType):
        return "int", text
    return ("stringArray" if option.multiple else "string"), text


def _default_suffix(option: click.Option) -> str:
    """pflag shows defaults that are not the zero value of their type."""
    default = option.default
    if option.is_flag or isinstance(default, bool) or not default:
        return ""
    if isinstance(default, str):
        return f' (default "{default}")'
    if isinstance(default, int):
        return f" (default {default})"
    return ""  # unset (click's sentinel), lists and the like


def flag_usages(options: Sequence[click.Option], help_for: str | None = None) -> str:
    """pflag's ``FlagUsages``: one aligned line per flag, sorted by long name."""
    rows: list[tuple[str, str, str]] = []
    for option in options:
        if option.hidden:
            continue
        short, long = _names(option)
        left = f"  -{short}, --{long}" if short else f"      --{long}"
        varname, usage = _varname_and_usage(option)
        if varname:
            left += f" {varname}"
        rows.append((long, left, usage + _default_suffix(option)))
    if help_for is not None:
        rows.append(("help", "  -h, --help", f"help for {help_for}"))
    rows.sort(key=lambda row: row[0])
    width = max((len(left) for _, left, _ in rows), default=0)
    return "".join(f"{left.ljust(width)}   {usage}".rstrip() + "\n" for _, left, usage in rows)


def _options(command: click.Command) -> list[click.Option]:
    return [
        param
        for param in command.params
        if isinstance(param, click.Option) and param.name != "help"
    ]


def render_help(command: click.Command, ctx: click.Context) -> str:
    short = command.help or ""
    is_group = isinstance(command, click.Group)
    out = [f"{short}\n" if short else "", "Usage:"]
    if not isinstance(command, click.Group):
        use = getattr(command, "use", "")
        out.append(f"\n  {ctx.command_path}{' ' + use if use else ''} [flags]")
    else:
        out.append(f"\n  {ctx.command_path} [command]")
        listed = command.summaries(ctx) if isinstance(command, WskGroup) else []
        padding = max([MIN_NAME_PADDING, *(len(name) for name, _ in listed)])
        out.append("\n\nAvailable Commands:")
        for name, summary in listed:
            out.append(f"\n  {name.ljust(padding)} {summary}")
    options = _options(command)
    is_root = ctx.parent is None
    local = [o for o in options if is_root or not isinstance(o, GlobalOption)]
    inherited = [] if is_root else [o for o in options if isinstance(o, GlobalOption)]
    out.append("\n\nFlags:\n" + flag_usages(local, command.name).rstrip("\n"))
    if inherited:
        out.append("\n\nGlobal Flags:\n" + flag_usages(inherited).rstrip("\n"))
    if is_group:
        out.append(
            f'\n\nUse "{ctx.command_path} [command] --help" for more information about a command.'
        )
    return "".join(out) + "\n"


class WskCommand(click.Command):
    """A leaf command: ``use`` is cobra's argument synopsis, e.g. ``ACTION_NAME [ACTION]``."""

    def __init__(self, *args: Any, use: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", HELP_CONTEXT)
        super().__init__(*args, **kwargs)
        self.use = use

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write(render_help(self, ctx))

    def get_help(self, ctx: click.Context) -> str:
        # click's own makes a HelpFormatter, whose terminal-width query imports shutil
        # (and with it zlib, bz2, lzma): a cost on every `--help`, for a width not used
        return render_help(self, ctx).rstrip("\n")


class WskGroup(click.Group):
    command_class = WskCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", HELP_CONTEXT)
        super().__init__(*args, **kwargs)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # cobra's wording for a mistyped subcommand
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            ctx.fail(f'unknown command "{name}" for "{ctx.command_path}"')
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write(render_help(self, ctx))

    def get_help(self, ctx: click.Context) -> str:
        return render_help(self, ctx).rstrip("\n")  # as WskCommand's

    def summaries(self, ctx: click.Context) -> list[tuple[str, str]]:
        """(name, one-line help) of the visible subcommands, sorted by name."""
        listed = []
        for name in sorted(self.list_commands(ctx)):
            sub = self.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                listed.append((name, sub.help or ""))
        return listed


WskGroup.group_class = WskGroup
