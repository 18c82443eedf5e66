"""`pywhisk admin`: namespaces, keys and limit overrides, straight in the store (OpenWhisk's
`wskadmin user` and `wskadmin limits`).

The store is named by `--data-dir` (the standalone server's) or `--store-url`, before or
after the subcommand; the subcommand's wins. An admin command never creates a store: a
mistyped directory would otherwise get a fresh empty one, and the key printed from it would
open nothing on the running server. Limit values are checked by `NamespaceLimits` itself
(positive, below a ceiling); `default` removes an override, so the system default applies.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from pywhisk.common.config import Settings
from pywhisk.common.entities import Identity, NamespaceLimits
from pywhisk.common.ids import new_auth
from pywhisk.common.names import is_valid_name
from pywhisk.common.store.base import Store, StoreMissing, store_from_url

T = TypeVar("T")

DEFAULT = "default"
LIMIT_OPTIONS = {  # option name -> NamespaceLimits field, Settings field (the default)
    "invocations_per_minute": ("invocationsPerMinute", "invocations_per_minute"),
    "concurrent_invocations": ("concurrentInvocations", "concurrent_invocations"),
    "fires_per_minute": ("firesPerMinute", "fires_per_minute"),
}


def _store_options(command: Any) -> Any:
    """`--data-dir` and `--store-url`, accepted on the group and on every subcommand."""
    command = click.option(
        "--store-url", default=None, help="Store URL (default: the standalone SQLite store)."
    )(command)
    return click.option(
        "--data-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="The standalone server's data directory.",
    )(command)


def _settings(data_dir: Path | None, store_url: str | None) -> Settings:
    """The subcommand's options over the group's (kept in the context), over the environment."""
    group = click.get_current_context().find_root().meta.get("pywhisk.admin", {})
    overrides: dict[str, Any] = {
        "data_dir": data_dir or group.get("data_dir"),
        "store_url": store_url or group.get("store_url"),
    }
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    async def go() -> T:
        store = store_from_url(settings.effective_store_url)
        try:
            await store.open(create=False)
        except StoreMissing as exc:
            raise click.ClickException(
                f"{exc}: start the server once to create it, or name the store with "
                "--data-dir or --store-url"
            ) from None
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(go())


async def _identity(store: Store, namespace: str) -> Identity:
    identity = await store.subjects.by_namespace(namespace)
    if identity is None:
        raise click.ClickException(f"namespace '{namespace}' does not exist")
    return identity


@click.group()
@_store_options
def admin(data_dir: Path | None, store_url: str | None) -> None:
    """Manage namespaces and their keys directly in the store (like wskadmin)."""
    root = click.get_current_context().find_root()
    root.meta["pywhisk.admin"] = {"data_dir": data_dir, "store_url": store_url}


@admin.command("create")
@click.argument("namespace")
@_store_options
def admin_create(namespace: str, data_dir: Path | None, store_url: str | None) -> None:
    """Create NAMESPACE and print its key (uuid:key)."""
    if not is_valid_name(namespace):
        raise click.ClickException("The namespace contains illegal characters.")

    async def work(store: Store) -> Identity:
        if await store.subjects.by_namespace(namespace) is not None:
            raise click.ClickException(f"namespace '{namespace}' already exists")
        uuid, key = new_auth()
        identity = Identity(namespace=namespace, subject=namespace, uuid=uuid, key=key)
        await store.subjects.put(identity)
        return identity

    click.echo(with_store(_settings(data_dir, store_url), work).auth)


@admin.command("get")
@click.argument("namespace")
@click.option("--limits", "show_limits", is_flag=True, help="Print its limits instead of its key.")
@_store_options
def admin_get(
    namespace: str, show_limits: bool, data_dir: Path | None, store_url: str | None
) -> None:
    """Print NAMESPACE's key (uuid:key), or with --limits its limits and where they come from."""
    settings = _settings(data_dir, store_url)
    identity = with_store(settings, lambda store: _identity(store, namespace))
    if show_limits:
        click.echo(limits_table(identity.limits, settings), nl=False)
    else:
        click.echo(identity.auth)


def limits_table(limits: NamespaceLimits, settings: Settings) -> str:
    """One line per limit: its value and whether it is the namespace's own or the default."""
    lines = []
    for field, default in LIMIT_OPTIONS.values():
        value = getattr(limits, field)
        source = "default" if value is None else "override"
        lines.append(
            f"{field:<24} {getattr(settings, default) if value is None else value} ({source})\n"
        )
    return "".join(lines)


@admin.command("list")
@_store_options
def admin_list(data_dir: Path | None, store_url: str | None) -> None:
    """List namespaces with their limit overrides."""
    identities = with_store(_settings(data_dir, store_url), lambda store: store.subjects.all())
    for identity in identities:
        limits = identity.limits.to_json()
        click.echo(f"{identity.namespace:<40} {json.dumps(limits) if limits else ''}".rstrip())


@admin.command("delete")
@click.argument("namespace")
@_store_options
def admin_delete(namespace: str, data_dir: Path | None, store_url: str | None) -> None:
    """Delete NAMESPACE's key (its entities stay in the store)."""
    settings = _settings(data_dir, store_url)
    if not with_store(settings, lambda store: store.subjects.delete(namespace)):
        raise click.ClickException(f"namespace '{namespace}' does not exist")
    click.echo(f"ok: deleted namespace {namespace}")


class LimitValue(click.ParamType):
    """A positive integer, or `default` (remove the override)."""

    name = "N|default"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) or value == DEFAULT:
            return value
        try:
            return int(value)
        except ValueError:
            self.fail(f"{value!r} is not a whole number or '{DEFAULT}'", param, ctx)


@admin.command("limits")
@click.argument("namespace")
@click.option("--invocations-per-minute", type=LimitValue(), default=None)
@click.option("--concurrent-invocations", type=LimitValue(), default=None)
@click.option("--fires-per-minute", type=LimitValue(), default=None)
@click.option("--reset", is_flag=True, help="Remove every override (system defaults apply).")
@_store_options
def admin_limits(
    namespace: str,
    reset: bool,
    data_dir: Path | None,
    store_url: str | None,
    **given: int | str | None,
) -> None:
    """Override NAMESPACE's throttles (N, or `default` to remove an override); unset ones
    stay as they are. Without options, show them."""
    settings = _settings(data_dir, store_url)
    changes: dict[str, Any] = {
        LIMIT_OPTIONS[k][0]: None if v == DEFAULT else v for k, v in given.items() if v is not None
    }
    try:  # checked before the store is touched
        NamespaceLimits.model_validate(changes)
    except ValidationError as exc:
        error = exc.errors()[0]
        option = "--" + next(k for k, v in LIMIT_OPTIONS.items() if v[0] == error["loc"][0])
        raise click.ClickException(
            f"{option.replace('_', '-')} {error['input']}: {error['msg'].lower()}"
        ) from None
    change = reset or bool(changes)

    async def work(store: Store) -> Identity:
        identity = await _identity(store, namespace)
        if not change:
            return identity
        current = {} if reset else identity.limits.model_dump()
        updated = identity.model_copy(update={"limits": NamespaceLimits(**{**current, **changes})})
        await store.subjects.put(updated)
        return updated

    identity = with_store(settings, work)
    if change:
        click.echo(f"ok: limits of {namespace}: {json.dumps(identity.limits.to_json())}")
    click.echo(limits_table(identity.limits, settings), nl=False)
