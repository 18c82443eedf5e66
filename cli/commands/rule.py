"""``wsk rule``: create, update, enable, disable, status, get, delete and list rules, as wsk
does. A rule's trigger and action are sent fully qualified (``/_/t`` for a relative name)."""

from __future__ import annotations

from typing import Any

import click

from pywhisk.cli.client import WhiskClient, quote_path
from pywhisk.cli.errors import EXIT_GENERAL, WskError, check_args, wrap
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.names import QualifiedName, parse_name_or_fail, qualify
from pywhisk.cli.output import bold, ok
from pywhisk.cli.session import Session, current, global_options
from pywhisk.cli.structs import RULE_FIELDS, field_key, rule_struct
from pywhisk.cli.tables import full_name, rule_rows

from .common import (
    list_collection,
    list_options,
    print_got,
)

NAME_REQUIRED = "A rule name is required."
THREE_REQUIRED = "A rule, trigger and action name are required."

_RULE_ZERO: dict[str, Any] = {
    "namespace": "",
    "name": "",
    "version": "",
    "status": "",
    "updated": 0,
}


@click.group("rule", cls=WskGroup, help="work with rules")
@global_options()
def rule_group() -> None:
    pass


def rule_url(client: WhiskClient, qualified: QualifiedName) -> str:
    return client.namespaced(f"rules/{quote_path(qualified.entity_name)}", qualified.namespace)


def _named(args: tuple[str, ...], maximum: int = 1) -> tuple[Session, QualifiedName]:
    check_args(args, 1, maximum, NAME_REQUIRED)
    session = current()
    return session, parse_name_or_fail(args[0], session.namespace)


def _put(args: tuple[str, ...], update: bool) -> None:
    check_args(args, 3, 3, THREE_REQUIRED)
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    name = qualified.entity_name
    body = {
        "name": name,
        "trigger": qualify(args[1], session.namespace),
        "action": qualify(args[2], session.namespace),
    }
    query = [("overwrite", "true" if update else "false")]
    verb = "update" if update else "create"
    try:
        session.client.request("PUT", rule_url(session.client, qualified), query=query, body=body)
    except WskError as err:
        raise wrap(f"Unable to {verb} rule '{name}': {err}", err) from None
    click.echo(f"{ok()} {verb}d rule {bold(name)}")


@rule_group.command(
    "create", cls=WskCommand, use="RULE_NAME TRIGGER_NAME ACTION_NAME", help="create new rule"
)
@global_options()
@click.argument("args", nargs=-1)
def rule_create(args: tuple[str, ...]) -> None:
    _put(args, update=False)


@rule_group.command(
    "update",
    cls=WskCommand,
    use="RULE_NAME TRIGGER_NAME ACTION_NAME",
    help="update an existing rule, or create a rule if it does not exist",
)
@global_options()
@click.argument("args", nargs=-1)
def rule_update(args: tuple[str, ...]) -> None:
    _put(args, update=True)


def set_state(session: Session, qualified: QualifiedName, state: str) -> None:
    """POST the rule's status; raises wsk's "Unable to enable/disable rule" error."""
    try:
        session.client.request("POST", rule_url(session.client, qualified), body={"status": state})
    except WskError as err:
        verb = "enable" if state == "active" else "disable"
        raise wrap(f"Unable to {verb} rule '{qualified.entity_name}': {err}", err) from None


@rule_group.command("enable", cls=WskCommand, use="RULE_NAME", help="enable rule")
@global_options()
@click.argument("args", nargs=-1)
def rule_enable(args: tuple[str, ...]) -> None:
    session, qualified = _named(args)
    set_state(session, qualified, "active")
    click.echo(f"{ok()} enabled rule {bold(qualified.entity_name)}")


@rule_group.command("disable", cls=WskCommand, use="RULE_NAME", help="disable rule")
@global_options()
@click.argument("args", nargs=-1)
def rule_disable(args: tuple[str, ...]) -> None:
    session, qualified = _named(args)
    set_state(session, qualified, "inactive")
    click.echo(f"{ok()} disabled rule {bold(qualified.entity_name)}")


def _status(session: Session, name: str, url: str) -> str:
    try:
        body = session.client.request("GET", url).body
    except WskError as err:
        raise wrap(f"Unable to get status of rule '{name}': {err}", err) from None
    return str(body.get("status", "")) if isinstance(body, dict) else ""


@rule_group.command("status", cls=WskCommand, use="RULE_NAME", help="get rule status")
@global_options()
@click.argument("args", nargs=-1)
def rule_status(args: tuple[str, ...]) -> None:
    session, qualified = _named(args)
    name = qualified.entity_name
    status = _status(session, name, rule_url(session.client, qualified))
    click.echo(f"{ok()} rule {bold(name)} is {bold(status)}")


@rule_group.command("get", cls=WskCommand, use="RULE_NAME [FIELD_FILTER]", help="get rule")
@click.option("-s", "--summary", is_flag=True, help="summarize rule details")
@global_options()
@click.argument("args", nargs=-1)
def rule_get(args: tuple[str, ...], summary: bool) -> None:
    check_args(args, 1, 2, NAME_REQUIRED)
    field = args[1] if len(args) > 1 else ""
    key = field_key(RULE_FIELDS, field) if field else None
    if field and key is None:
        raise WskError(f"Invalid field filter '{field}'.", EXIT_GENERAL)
    session, qualified = _named(args, 2)
    try:
        rule = session.client.request("GET", rule_url(session.client, qualified)).body
    except WskError as err:
        raise wrap(f"Unable to get rule '{qualified.entity_name}': {err}", err) from None
    rule = rule if isinstance(rule, dict) else {}
    if summary:
        # wsk's printRuleSummary (its `get --summary` forgets to call it and prints nothing)
        name = full_name(str(rule.get("namespace", "")), "", str(rule.get("name", "")))
        click.echo(f"{bold('rule')} {name}")  # "rule" is already 4 wide
        click.echo(f"   ({bold('status')}: {rule.get('status', '')})")
        return
    projected = rule_struct(rule)
    print_got("rule", qualified.entity_name, projected, field, key, _RULE_ZERO.get(key or ""))


@rule_group.command("delete", cls=WskCommand, use="RULE_NAME", help="delete rule")
@click.option("--disable", is_flag=True, help="automatically disable rule before deleting it")
@global_options()
@click.argument("args", nargs=-1)
def rule_delete(args: tuple[str, ...], disable: bool) -> None:
    session, qualified = _named(args)
    if disable:
        set_state(session, qualified, "inactive")
    try:
        session.client.request("DELETE", rule_url(session.client, qualified))
    except WskError as err:
        raise wrap(f"Unable to delete rule '{qualified.entity_name}': {err}", err) from None
    click.echo(f"{ok()} deleted rule {bold(qualified.entity_name)}")


@rule_group.command("list", cls=WskCommand, use="[NAMESPACE]", help="list all rules")
@list_options("rules")
@global_options()
@click.argument("args", nargs=-1)
def rule_list(args: tuple[str, ...], skip: int, limit: int, name_sort: bool) -> None:
    session, namespace, rules = list_collection(args, "rules", skip, limit)
    for rule in rules:  # the list has no status: wsk asks for each rule (#312)
        name = str(rule.get("name", ""))
        url = session.client.namespaced(f"rules/{quote_path(name)}", namespace)
        try:
            rule["status"] = _status(session, name, url)
        except WskError as err:
            click.echo(err.message)
            raise
    click.echo(rule_rows(rules, name_sort), nl=False)
