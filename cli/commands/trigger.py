"""``wsk trigger``: create, update, get, delete, list and fire triggers, as wsk does,
feeds included (see cli.commands.feeds); plus ``webhook`` (a pywhisk extension).

With ``--feed`` the trigger is created first (its ``-p`` parameters go to the feed, not the
trigger), then the feed is invoked with CREATE; if that fails the trigger is deleted again
and the command fails. ``get``, ``update`` and ``delete`` of a trigger with a feed invoke the
feed with READ, UPDATE and DELETE. ``-F``/``-T`` split feed and trigger parameters.
"""

from __future__ import annotations

from typing import Any

import click

from pywhisk.cli.client import WhiskClient, quote_path
from pywhisk.cli.config import url_base
from pywhisk.cli.errors import (
    EXIT_GENERAL,
    EXIT_NOT_ALLOWED,
    EXIT_NOT_FOUND,
    WskError,
    check_args,
    usage_error,
    wrap,
)
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.names import QualifiedName, parse_name_or_fail
from pywhisk.cli.output import bold, ok
from pywhisk.cli.params import KVSource, formatted_json, merge_json_objects
from pywhisk.cli.session import Session, current, global_options
from pywhisk.cli.structs import TRIGGER_FIELDS, field_key, trigger_struct
from pywhisk.cli.tables import entity_summary, full_name, trigger_rows

from .action import print_invocation
from .common import (
    key_values,
    kv_options,
    list_collection,
    list_options,
    print_got,
)
from .feeds import (
    FEED_ANNOTATION,
    configure_feed,
    feed_arguments,
    feed_error,
    feed_of,
    invoke_feed,
    print_feed_failure,
)

NAME_REQUIRED = "A trigger name is required."
MIXED_FLAGS = (
    "Incorrect usage. Cannot combine --feed-param or --trigger-param flag with neither "
    "--param nor --param-file flag"
)
FEED_PARAMS_WITHOUT_FEED = "Incorrect usage. Trigger without a feed cannot have feed parameters"

_TRIGGER_ZERO: dict[str, Any] = {"namespace": "", "name": "", "version": "", "updated": 0}


_FEED_PARAM_OPTIONS = (
    click.option(
        "-F",
        "--feed-param",
        nargs=2,
        multiple=True,
        expose_value=False,
        help="feed parameter values in `KEY VALUE` format",
    ),
    click.option(
        "-T",
        "--trigger-param",
        nargs=2,
        multiple=True,
        expose_value=False,
        help="trigger parameter values in `KEY VALUE` format",
    ),
)


@click.group("trigger", cls=WskGroup, help="work with triggers")
@global_options()
def trigger_group() -> None:
    pass


def trigger_url(client: WhiskClient, qualified: QualifiedName) -> str:
    return client.namespaced(f"triggers/{quote_path(qualified.entity_name)}", qualified.namespace)


def _get(session: Session, qualified: QualifiedName) -> Any:
    try:
        return session.client.request("GET", trigger_url(session.client, qualified)).body
    except WskError as err:
        raise wrap(f"Unable to get trigger '{qualified.entity_name}': {err}", err) from None


def _put(session: Session, qualified: QualifiedName, body: dict[str, Any], update: bool) -> None:
    query = [("overwrite", "true" if update else "false")]
    try:
        session.client.request(
            "PUT", trigger_url(session.client, qualified), query=query, body=body
        )
    except WskError as err:
        verb = "update" if update else "create"
        raise wrap(f"Unable to {verb} trigger '{qualified.entity_name}': {err}", err) from None


def _old_style(session: Session) -> bool:
    """``userIndicatesToUseOldTriggerCommand``: -p given, or none of -p/-F/-T."""
    kv = session.kv
    return bool(kv.param) or not (kv.feed_param or kv.trigger_param)


def _refuse_mixed(session: Session) -> None:
    if session.kv.feed_param or session.kv.trigger_param:
        raise WskError(MIXED_FLAGS, EXIT_NOT_ALLOWED)


def _body(
    name: str, annotations: list[KVSource], parameters: list[KVSource] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name}
    values = key_values(annotations, "annotation")
    if values is not None:
        body["annotations"] = values
    values = key_values(parameters or [], "parameter")
    if values is not None:
        body["parameters"] = values
    return body


def _create(session: Session, args: tuple[str, ...], feed_name: str) -> None:
    check_args(args, 1, 1, NAME_REQUIRED)
    qualified = parse_name_or_fail(args[0], session.namespace)
    kv = session.kv
    old_style = _old_style(session)
    if old_style:
        _refuse_mixed(session)
    feed = parse_name_or_fail(feed_name, session.namespace) if feed_name else None
    annotations = list(kv.annotation)
    if feed is not None:  # appended last: the feed annotation wins over a user's -a feed
        annotations.append(KVSource(formatted_json(FEED_ANNOTATION, feed.full_name), "feed"))
    if old_style:
        trigger_params = kv.param if feed is None else None
        feed_params = kv.param
    else:
        if feed is None and kv.feed_param:
            raise WskError(FEED_PARAMS_WITHOUT_FEED, EXIT_NOT_ALLOWED)
        trigger_params, feed_params = kv.trigger_param, kv.feed_param
    name = qualified.entity_name
    _put(session, qualified, _body(name, annotations, trigger_params), update=False)
    if feed is not None:
        params = merge_json_objects(feed_params, "parameter")
        try:
            reply = invoke_feed(session, feed, feed_arguments(session, qualified, "CREATE", params))
        except WskError as err:
            print_feed_failure(feed, err)
            _delete_quietly(session, qualified)
            reason = f"Unable to configure feed '{feed.full_name}': {err}"
            raise feed_error(f"Unable to create trigger '{name}': {reason}", err) from None
        print_invocation(feed, reply.body, reply.headers, header=True)
    click.echo(f"{ok()} created trigger {bold(name)}")


def _delete_quietly(session: Session, qualified: QualifiedName) -> None:
    """A trigger whose feed refused it is removed again (wsk ignores a failure here)."""
    try:
        session.client.request("DELETE", trigger_url(session.client, qualified))
    except WskError:
        pass


@trigger_group.command("create", cls=WskCommand, use="TRIGGER_NAME", help="create new trigger")
@kv_options()
@click.option("-f", "--feed", "feed", default="", help="trigger feed `ACTION_NAME`")
@_FEED_PARAM_OPTIONS[0]
@_FEED_PARAM_OPTIONS[1]
@global_options()
@click.argument("args", nargs=-1)
def trigger_create(args: tuple[str, ...], feed: str) -> None:
    _create(current(), args, feed)


@trigger_group.command(
    "update",
    cls=WskCommand,
    use="TRIGGER_NAME",
    help="update an existing trigger, or create a trigger if it does not exist",
)
@kv_options()
@_FEED_PARAM_OPTIONS[0]
@_FEED_PARAM_OPTIONS[1]
@global_options()
@click.argument("args", nargs=-1)
def trigger_update(args: tuple[str, ...]) -> None:
    check_args(args, 1, 1, NAME_REQUIRED)
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    kv = session.kv
    merge_json_objects(kv.param, "parameter")  # wsk validates both before anything else
    merge_json_objects(kv.annotation, "annotation")
    try:
        existing = session.client.request("GET", trigger_url(session.client, qualified)).body
    except WskError as err:
        if err.exit_code == EXIT_NOT_FOUND:
            _create(session, args, "")  # wsk: an update of a missing trigger creates it
            return
        raise wrap(f"Unable to get trigger '{qualified.entity_name}': {err}", err) from None
    name = qualified.entity_name
    feed = feed_of(existing)
    if _old_style(session):
        _refuse_mixed(session)
        if feed:
            params = merge_json_objects(kv.param, "parameter")
            _configure(session, qualified, feed, "UPDATE", params)
        else:
            _put(session, qualified, _body(name, kv.annotation, kv.param), update=True)
    else:
        _put(session, qualified, _body(name, kv.annotation, kv.trigger_param), update=True)
        if not feed and kv.feed_param:
            raise WskError(
                f"Unable to configure feed '{name}': this trigger does not contain a feed",
                EXIT_GENERAL,
            )
        if feed and kv.feed_param:
            params = merge_json_objects(kv.feed_param, "parameter")
            _configure(session, qualified, feed, "UPDATE", params)
    click.echo(f"{ok()} updated trigger {bold(name)}")


def _configure(
    session: Session, qualified: QualifiedName, feed: str, event: str, params: dict[str, Any]
) -> None:
    try:
        configure_feed(session, feed, feed_arguments(session, qualified, event, params))
    except WskError as err:
        name = qualified.entity_name
        raise feed_error(f"Unable to create trigger '{name}': {err}", err) from None


@trigger_group.command("get", cls=WskCommand, use="TRIGGER_NAME [FIELD_FILTER]", help="get trigger")
@click.option(
    "-s",
    "--summary",
    is_flag=True,
    help='summarize trigger details; parameters with prefix "*" are bound',
)
@global_options()
@click.argument("args", nargs=-1)
def trigger_get(args: tuple[str, ...], summary: bool) -> None:
    check_args(args, 1, 2, NAME_REQUIRED)
    field = args[1] if len(args) > 1 else ""
    key = field_key(TRIGGER_FIELDS, field) if field else None
    if field and key is None:
        raise WskError(f"Invalid field filter '{field}'.", EXIT_GENERAL)
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    trigger = _get(session, qualified)
    trigger = trigger if isinstance(trigger, dict) else {}
    feed = feed_of(trigger)
    if feed:
        # wsk shows what the feed answers to READ instead (its failure: see feeds.py).
        params = merge_json_objects(session.kv.param, "parameter")
        try:
            configure_feed(session, feed, feed_arguments(session, qualified, "READ", params))
        except WskError as err:
            name = qualified.entity_name
            raise feed_error(f"Unable to get trigger '{name}': {err}", err) from None
    elif summary:
        name = full_name(str(trigger.get("namespace", "")), "", str(trigger.get("name", "")))
        click.echo(
            entity_summary(
                f"{'trigger':>7}", name, trigger.get("annotations"), trigger.get("parameters")
            ),
            nl=False,
        )
    else:
        projected = trigger_struct(trigger)
        print_got(
            "trigger", qualified.entity_name, projected, field, key, _TRIGGER_ZERO.get(key or "")
        )


@trigger_group.command("delete", cls=WskCommand, use="TRIGGER_NAME", help="delete trigger")
@global_options()
@click.argument("args", nargs=-1)
def trigger_delete(args: tuple[str, ...]) -> None:
    check_args(args, 1, 1, NAME_REQUIRED)
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    name = qualified.entity_name
    feed = feed_of(_get(session, qualified))
    refused: WskError | None = None
    if feed:
        params = merge_json_objects(session.kv.param, "parameter")
        try:  # as wsk, the trigger is deleted whatever the feed answers to DELETE
            configure_feed(session, feed, feed_arguments(session, qualified, "DELETE", params))
        except WskError as err:
            refused = err
    try:
        session.client.request("DELETE", trigger_url(session.client, qualified))
    except WskError as err:
        raise wrap(f"Unable to delete trigger '{name}': {err}", err) from None
    click.echo(f"{ok()} deleted trigger {bold(name)}")
    if refused is not None:
        raise feed_error(
            f"Trigger '{name}' was deleted, but its feed may still run: {refused}", refused
        )


@trigger_group.command("list", cls=WskCommand, use="[NAMESPACE]", help="list all triggers")
@list_options("triggers")
@global_options()
@click.argument("args", nargs=-1)
def trigger_list(args: tuple[str, ...], skip: int, limit: int, name_sort: bool) -> None:
    _, _, triggers = list_collection(args, "triggers", skip, limit)
    click.echo(trigger_rows(triggers, name_sort), nl=False)


@trigger_group.command(
    "fire", cls=WskCommand, use="TRIGGER_NAME [PAYLOAD]", help="fire trigger event"
)
@kv_options(annotations=False)
@global_options()
@click.argument("args", nargs=-1)
def trigger_fire(args: tuple[str, ...]) -> None:
    check_args(args, 1, 1, NAME_REQUIRED)
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    payload = merge_json_objects(session.kv.param, "parameter")
    try:
        reply = session.client.request("POST", trigger_url(session.client, qualified), body=payload)
    except WskError as err:
        raise wrap(f"Unable to fire trigger '{qualified.entity_name}': {err}", err) from None
    # 204 (no active rule) has no body: wsk prints an empty id.
    body = reply.body if isinstance(reply.body, dict) else {}
    click.echo(
        f"{ok()} triggered /{bold(qualified.namespace)}/{bold(qualified.entity_name)} "
        f"with id {bold(body.get('activationId', ''))}"
    )


@trigger_group.command(
    "webhook",
    cls=WskCommand,
    use="TRIGGER_NAME [--rotate | --revoke]",
    help="create, rotate or revoke the URL that fires a trigger without credentials (pywhisk)",
)
@click.option("--rotate", is_flag=True, help="replace the secret: the old URL stops working")
@click.option("--revoke", is_flag=True, help="remove the webhook: its URL stops working")
@global_options()
@click.argument("args", nargs=-1)
def trigger_webhook(args: tuple[str, ...], rotate: bool, revoke: bool) -> None:
    check_args(args, 1, 1, NAME_REQUIRED)
    if rotate and revoke:
        raise usage_error("Only one of --rotate and --revoke may be given.")
    session = current()
    qualified = parse_name_or_fail(args[0], session.namespace)
    name = qualified.entity_name
    client = session.client
    url = f"{trigger_url(client, qualified)}/webhook"
    verb = "revoke" if revoke else "rotate" if rotate else "create"
    try:
        if revoke:
            client.request("DELETE", url)
        else:
            query = [("rotate", "true")] if rotate else []
            reply = client.request("POST", url, query=query)
    except WskError as err:
        raise wrap(f"Unable to {verb} the webhook of trigger '{name}': {err}", err) from None
    click.echo(f"{ok()} {verb}d webhook for trigger {bold(name)}")
    if not revoke:
        # The secret is shown this once (the server keeps only its hash); the URL is
        # spelled with the API host wsk talks to, as `wsk action get --url` does.
        path = reply.body.get("path", "") if isinstance(reply.body, dict) else ""
        click.echo(url_base(session.props.apihost, "") + path)
