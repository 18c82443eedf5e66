"""``wsk activation list|get|logs|result|poll``.

Activations are always addressed in namespace ``_`` (the caller's), as wsk does.
"""

from __future__ import annotations

import time
from typing import Any

import click

from pywhisk.cli.client import quote_path
from pywhisk.cli.errors import EXIT_GENERAL, WskError, check_args, wrap
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.jsontext import go_json
from pywhisk.cli.names import parse_name_or_fail
from pywhisk.cli.output import bold, ok
from pywhisk.cli.session import Session, current, global_options
from pywhisk.cli.structs import (
    ACTIVATION_FIELDS,
    activation_get_struct,
    activation_struct,
    field_key,
)
from pywhisk.cli.tables import activation_rows, go_time, strip_timestamp

POLL_INTERVAL_SECONDS = 2.0
ACTIVATION_ID_REQUIRED = "An activation ID is required."


@click.group("activation", cls=WskGroup, help="work with activations")
@global_options()
def activation_group() -> None:
    pass


def list_activations(session: Session, query: dict[str, Any]) -> list[dict[str, Any]]:
    """GET the activation list; query keys are sent sorted, as go-querystring does."""
    client = session.client
    pairs = [(key, _query_value(query[key])) for key in sorted(query)]
    body = client.request("GET", client.namespaced("activations"), query=pairs).body
    return [item for item in body or [] if isinstance(item, dict)]


def _query_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _activation_url(session: Session, activation_id: str, suffix: str = "") -> str:
    return session.client.namespaced(f"activations/{quote_path(activation_id)}{suffix}")


def with_last(session: Session, args: tuple[str, ...], last: bool) -> list[str]:
    """``lastFlag``: put the most recent activation id first in the arguments."""
    out = list(args)
    if not last:
        return out
    activations = list_activations(session, {"limit": 1, "skip": 0})
    if not activations:
        raise WskError(
            "Activation list does not contain any activations.", EXIT_GENERAL, display_usage=True
        )
    out.append(str(activations[0].get("activationId", "")))
    out[0], out[-1] = out[-1], out[0]
    return out


_LAST = click.option("-l", "--last", is_flag=True, help="retrieves the last activation")


# ------------------------------------------------------------------------------------ list
@activation_group.command(
    "list", cls=WskCommand, use="[NAMESPACE or NAME]", help="list activations"
)
@click.option(
    "-s",
    "--skip",
    type=int,
    default=0,
    help="exclude the first `SKIP` number of activations from the result",
)
@click.option(
    "-l",
    "--limit",
    type=int,
    default=30,
    help="only return `LIMIT` number of activations from the collection with a maximum "
    "LIMIT of 200 activations",
)
@click.option("-f", "--full", is_flag=True, help="include full activation description")
@click.option(
    "--upto",
    type=int,
    default=0,
    help="return activations with timestamps earlier than `UPTO`; measured in milliseconds "
    "since Th, 01, Jan 1970",
)
@click.option(
    "--since",
    type=int,
    default=0,
    help="return activations with timestamps later than `SINCE`; measured in milliseconds "
    "since Th, 01, Jan 1970",
)
@global_options()
@click.argument("args", nargs=-1)
def activation_list(
    args: tuple[str, ...], skip: int, limit: int, full: bool, upto: int, since: int
) -> None:
    check_args(args, 0, 1, "An optional namespace is the only valid argument.")
    session = current()
    query: dict[str, Any] = {"limit": limit, "skip": skip}
    if args:
        query["name"] = parse_name_or_fail(args[0], session.namespace).entity_name
    if since:
        query["since"] = since
    if upto:
        query["upto"] = upto
    if full:
        query["docs"] = True
    try:
        activations = list_activations(session, query)
    except WskError as err:
        raise wrap(
            f"Unable to obtain the list of activations for namespace 'default': {err}", err
        ) from None
    if full:
        click.echo(bold("activations"))
        for activation in activations:
            click.echo(go_json(activation_struct(activation)), nl=False)
    else:
        click.echo(activation_rows(activations), nl=False)


# ------------------------------------------------------------------------------------- get
@activation_group.command(
    "get", cls=WskCommand, use="(ACTIVATION_ID | --last) [FIELD_FILTER]", help="get activation"
)
@click.option("-s", "--summary", is_flag=True, help="summarize activation details")
@_LAST
@click.option(
    "-g",
    "--logs",
    is_flag=True,
    help="emit only the logs, stripped of time stamps and stream identifier",
)
@global_options()
@click.argument("args", nargs=-1)
def activation_get(args: tuple[str, ...], summary: bool, last: bool, logs: bool) -> None:
    session = current()
    try:
        arguments = with_last(session, args, last)
    except WskError as err:
        raise wrap(f"Unable to get activation: {err}", err) from None
    check_args(arguments, 1, 2, ACTIVATION_ID_REQUIRED)
    field = arguments[1] if len(arguments) > 1 else ""
    if field and field_key(ACTIVATION_FIELDS, field) is None:
        raise WskError(f"Invalid field filter '{field}'.", EXIT_GENERAL)
    activation_id = arguments[0]
    try:
        activation = session.client.request("GET", _activation_url(session, activation_id)).body
    except WskError as err:
        raise wrap(f"Unable to get activation '{activation_id}': {err}", err) from None
    activation = activation if isinstance(activation, dict) else {}
    projected = activation_get_struct(activation)

    if summary:
        response = projected["response"]
        click.echo(
            f"activation result for '/{projected['namespace']}/{projected['name']}' "
            f"({response.get('status', '')} at {go_time(int(projected['end']))})"
        )
        click.echo(go_json(response.get("result")), nl=False)
    elif logs:
        for line in projected["logs"] or []:
            click.echo(strip_timestamp(str(line)))
    elif field:
        key = field_key(ACTIVATION_FIELDS, field)
        assert key is not None
        click.echo(f"{ok()} got activation {bold(activation_id)}, displaying field {bold(field)}")
        click.echo(go_json(projected.get(key)), nl=False)
    else:
        click.echo(f"{ok()} got activation {bold(activation_id)}")
        click.echo(go_json(projected), nl=False)


# ------------------------------------------------------------------------------------ logs
@activation_group.command(
    "logs", cls=WskCommand, use="(ACTIVATION_ID | --last)", help="get the logs of an activation"
)
@_LAST
@click.option("-r", "--strip", is_flag=True, help="strip timestamp and stream information")
@global_options()
@click.argument("args", nargs=-1)
def activation_logs(args: tuple[str, ...], last: bool, strip: bool) -> None:
    session = current()
    try:
        arguments = with_last(session, args, last)
    except WskError as err:
        raise wrap(f"Unable to get logs for activation: {err}", err) from None
    check_args(arguments, 1, 1, ACTIVATION_ID_REQUIRED)
    activation_id = arguments[0]
    try:
        body = session.client.request("GET", _activation_url(session, activation_id, "/logs")).body
    except WskError as err:
        raise wrap(f"Unable to get logs for activation '{activation_id}': {err}", err) from None
    lines = body.get("logs") if isinstance(body, dict) else None
    for line in lines or []:
        click.echo(strip_timestamp(str(line)) if strip else str(line))


# ---------------------------------------------------------------------------------- result
@activation_group.command(
    "result",
    cls=WskCommand,
    use="(ACTIVATION_ID | --last)",
    help="get the result of an activation",
)
@_LAST
@global_options()
@click.argument("args", nargs=-1)
def activation_result(args: tuple[str, ...], last: bool) -> None:
    session = current()
    try:
        arguments = with_last(session, args, last)
    except WskError as err:
        raise wrap(f"Unable to get result for activation: {err}", err) from None
    check_args(arguments, 1, 1, ACTIVATION_ID_REQUIRED)
    activation_id = arguments[0]
    try:
        url = _activation_url(session, activation_id, "/result")
        body = session.client.request("GET", url).body
    except WskError as err:
        raise wrap(f"Unable to get result for activation '{activation_id}': {err}", err) from None
    click.echo(go_json(body.get("result") if isinstance(body, dict) else None), nl=False)


# ------------------------------------------------------------------------------------ poll
@activation_group.command(
    "poll",
    cls=WskCommand,
    use="[ NAMESPACE | ACTION_NAME ]",
    help="poll continuously for log messages from currently running actions",
)
@click.option(
    "-e", "--exit", "exit_after", type=int, default=0, help="stop polling after `SECONDS` seconds"
)
@click.option(
    "--since-seconds",
    type=int,
    default=0,
    help="start polling for activations `SECONDS` seconds ago",
)
@click.option(
    "--since-minutes",
    type=int,
    default=0,
    help="start polling for activations `MINUTES` minutes ago",
)
@click.option(
    "--since-hours", type=int, default=0, help="start polling for activations `HOURS` hours ago"
)
@click.option(
    "--since-days", type=int, default=0, help="start polling for activations `DAYS` days ago"
)
@global_options()
@click.argument("args", nargs=-1)
def activation_poll(
    args: tuple[str, ...],
    exit_after: int,
    since_seconds: int,
    since_minutes: int,
    since_hours: int,
    since_days: int,
) -> None:
    name = ""
    if len(args) == 1:
        name = args[0]
    else:
        check_args(args, 0, 1, "An optional namespace is the only valid argument.")
    session = current()
    click.echo("Enter Ctrl-c to exit.")
    try:
        _poll(session, name, exit_after, since_seconds, since_minutes, since_hours, since_days)
    except KeyboardInterrupt:
        click.echo("Poll terminated")
        raise WskError("Poll terminated", EXIT_GENERAL, display_msg=False) from None


def _poll(
    session: Session,
    name: str,
    exit_after: int,
    since_seconds: int,
    since_minutes: int,
    since_hours: int,
    since_days: int,
) -> None:
    now_ms = int(time.time()) * 1000
    since = 0
    offset = since_seconds + 60 * (since_minutes + 60 * (since_hours + 24 * since_days))
    if since_seconds + since_minutes + since_hours + since_days == 0:
        # start after the newest activation that already exists
        try:
            newest = list_activations(session, {"limit": 1, "skip": 0, "docs": True})
        except WskError:
            since = now_ms
        else:
            if newest:
                since = int(newest[0].get("start") or 0) + 1
    else:
        since = now_ms - offset * 1000
    click.echo("Polling for activation logs")
    started = time.monotonic()
    reported: set[str] = set()
    while True:
        if exit_after > 0 and int(time.monotonic() - started) > exit_after:
            return
        query: dict[str, Any] = {"docs": True, "limit": 0, "skip": 0}
        if name:
            query["name"] = name
        if since:
            query["since"] = since
        try:
            activations = list_activations(session, query)
        except WskError:
            activations = []  # wsk ignores failures and keeps polling
        for activation in activations:
            activation_id = str(activation.get("activationId", ""))
            if activation_id in reported:
                continue
            click.echo(f"\nActivation: '{activation.get('name', '')}' ({activation_id})")
            click.echo(go_json(activation.get("logs")), nl=False)
            reported.add(activation_id)
            start = int(activation.get("start") or 0)
            if start > since:
                since = start + 1
        time.sleep(POLL_INTERVAL_SECONDS)
