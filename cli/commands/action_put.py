"""``wsk action create|update``: the PUT body built from the command line, as wsk builds it.

Only what the user gave is sent: limits for the flags typed, parameters/annotations when
``-p/-a`` were used (an update then keeps the rest), ``exec`` when there is an artifact.
"""

from __future__ import annotations

from typing import Any

import click

from pywhisk.cli.artifacts import NO_ARTIFACT, build_exec
from pywhisk.cli.client import WhiskClient, quote_path
from pywhisk.cli.errors import (
    EXIT_NOT_ALLOWED,
    EXIT_NOT_FOUND,
    WskError,
    check_args,
    nested,
    usage_error,
)
from pywhisk.cli.help import WskCommand
from pywhisk.cli.names import QualifiedName, parse_name_or_fail, qualify
from pywhisk.cli.output import bold, ok
from pywhisk.cli.session import Session, current, global_options
from pywhisk.cli.web import augment

from .common import given, key_value_fields, kv_options

DEFAULT_LIMITS = {"timeout": 60000, "memory": 256, "logsize": 10, "concurrency": 1}
LIMIT_KEYS = {
    "timeout": "timeout",
    "memory": "memory",
    "logsize": "logs",
    "concurrency": "concurrency",
}


def action_url(client: WhiskClient, qualified: QualifiedName) -> str:
    return client.namespaced(f"actions/{quote_path(qualified.entity_name)}", qualified.namespace)


def get_action(session: Session, qualified: QualifiedName, code: bool) -> Any:
    client = session.client
    query = [("code", "true" if code else "false")]
    return client.request("GET", action_url(client, qualified), query=query).body


# -------------------------------------------------------------------------- create/update
def _create_options(update: bool) -> Any:
    def decorate(func: Any) -> Any:
        options = [
            click.option(
                "--native",
                is_flag=True,
                help="treat ACTION as native action (zip file provides a compatible "
                "executable to run)",
            ),
            click.option(
                "--docker",
                default="",
                help="use provided docker image (a path on DockerHub) to run the action",
            ),
            click.option(
                "--copy", is_flag=True, help="treat ACTION as the name of an existing action"
            ),
            click.option(
                "--sequence",
                is_flag=True,
                help="treat ACTION as comma separated sequence of actions to invoke",
            ),
            click.option(
                "--kind",
                default="",
                help="the `KIND` of the action runtime (example: swift:default, nodejs:default)",
            ),
            click.option(
                "--main",
                default="",
                help="the name of the action entry point (function or fully-qualified method "
                "name when applicable)",
            ),
            click.option(
                "-t",
                "--timeout",
                type=int,
                default=DEFAULT_LIMITS["timeout"],
                help="the timeout `LIMIT` in milliseconds after which the action is terminated",
            ),
            click.option(
                "-m",
                "--memory",
                type=int,
                default=DEFAULT_LIMITS["memory"],
                help="the maximum memory `LIMIT` in MB for the action",
            ),
            click.option(
                "-l",
                "--logsize",
                type=int,
                default=DEFAULT_LIMITS["logsize"],
                help="the maximum log size `LIMIT` in MB for the action",
            ),
            click.option(
                "-c",
                "--concurrency",
                type=int,
                default=DEFAULT_LIMITS["concurrency"],
                help="the maximum intra-container concurrent activation `LIMIT` for the action",
            ),
            click.option(
                "--web",
                default=None,
                help="treat ACTION as a web action, a raw HTTP web action, or as a standard "
                "action; yes | true = web action, raw = raw HTTP web action, no | false = "
                "standard action",
            ),
            click.option(
                "--web-secure",
                "web_secure",
                default=None,
                help="secure the web action. where `SECRET` is true, false, or any string. "
                "Only valid when the ACTION is a web action",
            ),
            click.option(
                "--env",
                "env",
                nargs=2,
                multiple=True,
                metavar="KEY VALUE",
                help="an environment variable of the action's process: a parameter marked "
                "init, sent in /init's env and not in each run's arguments (pywhisk; "
                "OpenWhisk's init parameters)",
            ),
            click.option(
                "--layer",
                "layer",
                multiple=True,
                help="a layer `NAME` (or /NAMESPACE/NAME) unpacked under /opt of the action's "
                "containers; repeatable, later layers win (pywhisk)",
            ),
        ]
        if update:
            options.append(
                click.option(
                    "--del-annotation",
                    "del_annotation",
                    multiple=True,
                    help="the list of annotations to be deleted from the action, e.g. "
                    "--del-annotation key1 --del-annotation key2",
                )
            )
        for option in reversed(options):
            func = option(func)
        return kv_options()(func)

    return decorate


@click.command("create", cls=WskCommand, use="ACTION_NAME ACTION", help="create a new action")
@_create_options(update=False)
@global_options()
@click.argument("args", nargs=-1)
@click.pass_context
def action_create(ctx: click.Context, args: tuple[str, ...], **options: Any) -> None:
    check_args(args, 1, 2, "An action name and code artifact are required.")
    _put_action(ctx, args, options, update=False)


@click.command(
    "update",
    cls=WskCommand,
    use="ACTION_NAME [ACTION]",
    help="update an existing action, or create an action if it does not exist",
)
@_create_options(update=True)
@global_options()
@click.argument("args", nargs=-1)
@click.pass_context
def action_update(ctx: click.Context, args: tuple[str, ...], **options: Any) -> None:
    check_args(args, 1, 2, "An action name is required. A code artifact is optional.")
    _put_action(ctx, args, options, update=True)


def _put_action(
    ctx: click.Context, args: tuple[str, ...], options: dict[str, Any], update: bool
) -> None:
    session = current()
    try:
        qualified, action = _parse_action(ctx, session, args, options, update)
        action = _augment_action(ctx, session, qualified, action, options, update)
    except WskError as err:
        raise nested(f"Invalid argument(s). {err.message}", err) from None
    client = session.client
    try:
        client.request(
            "PUT",
            action_url(client, qualified),
            query=[("overwrite", "true" if update else "false")],
            body=action,
        )
    except WskError as err:
        raise nested(f"Unable to create action '{qualified.entity_name}': {err}", err) from None
    verb = "updated" if update else "created"
    click.echo(f"{ok()} {verb} action {bold(qualified.entity_name)}")


def _parse_action(
    ctx: click.Context,
    session: Session,
    args: tuple[str, ...],
    options: dict[str, Any],
    update: bool,
) -> tuple[QualifiedName, dict[str, Any]]:
    """``parseAction``: the PUT body from the command line (fields omitted when not given)."""
    qualified = parse_name_or_fail(args[0], session.namespace)
    action: dict[str, Any] = {"namespace": qualified.namespace, "name": qualified.entity_name}
    limits = {LIMIT_KEYS[flag]: options[flag] for flag in LIMIT_KEYS if given(ctx, flag)}
    if limits:
        action["limits"] = limits
    action.update(key_value_fields(session))
    if options.get("env"):
        # Init parameters (OpenWhisk's "init": true) as strings, as /init's env carries them;
        # a key given with -p too is the environment variable, not both.
        names = {key for key, _ in options["env"]}
        kept = [p for p in action.get("parameters") or [] if p.get("key") not in names]
        env = [{"key": key, "value": value, "init": True} for key, value in options["env"]]
        action["parameters"] = [*kept, *env]
    if options.get("layer"):
        kept = [a for a in action.get("annotations") or [] if a.get("key") != "layers"]
        action["annotations"] = [*kept, {"key": "layers", "value": list(options["layer"])}]
    if options["kind"] and options["docker"]:
        raise WskError(
            "Cannot specify both --kind and --docker at the same time.", EXIT_NOT_ALLOWED
        )

    if options["copy"]:
        if len(args) < 2:
            raise usage_error(NO_ARTIFACT)
        source = parse_name_or_fail(args[1], session.namespace)
        try:
            existing = get_action(session, source, code=True)
        except WskError as err:
            raise nested(f"Unable to get action '{source.entity_name}': {err}", err) from None
        existing = existing if isinstance(existing, dict) else {}
        action["exec"] = existing.get("exec")
        action["parameters"] = (action.get("parameters") or []) + (existing.get("parameters") or [])
        action["annotations"] = (action.get("annotations") or []) + (
            existing.get("annotations") or []
        )
    elif options["sequence"]:
        if len(args) != 2:
            raise usage_error(NO_ARTIFACT)
        components = [qualify(name, session.namespace) for name in args[1].split(",")]
        action["exec"] = {"kind": "sequence", "components": components}
    elif len(args) > 1 or options["docker"]:
        action["exec"] = build_exec(
            args[1] if len(args) > 1 else None,
            kind=options["kind"],
            docker=options["docker"],
            native=options["native"],
            main=options["main"],
        )
    elif not update:
        raise usage_error(NO_ARTIFACT)

    if update and options.get("del_annotation"):
        action["delAnnotations"] = list(options["del_annotation"])
    return qualified, action


def _augment_action(
    ctx: click.Context,
    session: Session,
    qualified: QualifiedName,
    action: dict[str, Any],
    options: dict[str, Any],
    update: bool,
) -> dict[str, Any]:
    web = options["web"] if given(ctx, "web") else None
    web_secure = options["web_secure"] if given(ctx, "web_secure") else None
    if web is None and web_secure is None:
        return action
    existing = None
    if update:
        # wsk fetches the action on every update; only the web flags need it.
        try:
            existing = get_action(session, qualified, code=False)
        except WskError as err:
            if err.exit_code != EXIT_NOT_FOUND:
                raise nested(
                    f"Unable to get action '{qualified.entity_name}': {err}", err
                ) from None
    return augment(
        action, existing if isinstance(existing, dict) else None, web=web, web_secure=web_secure
    )
