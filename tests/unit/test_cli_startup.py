"""The table `wsk` lists its commands from without importing them, against the commands."""

from __future__ import annotations

from importlib import import_module

import click
from click.testing import CliRunner

from pywhisk.cli.main import COMMANDS, cli


def test_each_entry_names_its_command_and_its_help() -> None:
    for name, entry in COMMANDS.items():
        command = getattr(import_module(entry.module), entry.attribute)
        assert isinstance(command, click.Command)
        assert (command.name, command.help) == (name, entry.help)


def test_help_lists_every_command_once_in_order() -> None:
    out = CliRunner().invoke(cli, ["--help"]).stdout
    listed = out.split("Available Commands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    expected = sorted([*COMMANDS, "help"])
    assert [line.split()[0] for line in listed] == expected
    assert f"  {'property':<11} work with whisk properties" in listed
