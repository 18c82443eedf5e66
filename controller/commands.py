"""The `pywhisk` command: standalone, controller, invoker, admin (DESIGN.md)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from common.config import Settings
from common.entities import Identity, NamespaceLimits
from common.ids import new_auth
from common.names import is_valid_name
from common.store.base import Store, store_from_url


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@click.group()
@click.version_option(package_name="pywhisk")
def main() -> None:
    """pywhisk: an OpenWhisk-compatible Functions-as-a-Service platform."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 3233).")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the SQLite store lives.",
)
@click.option(
    "--containers",
    type=click.Choice(["process", "docker"]),
    default=None,
    help="Run actions as local processes (default) or Docker containers.",
)
@click.option(
    "--store-url", default=None, help="Store URL (default sqlite:///<data-dir>/pywhisk.db)."
)
def standalone(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    containers: str | None,
    store_url: str | None,
) -> None:
    """Run controller and invoker in one process, ready for `wsk`."""
    from controller import standalone as wiring
    from invoker.containers.base import ContainerError

    settings = _settings(
        host=host,
        port=port,
        data_dir=data_dir,
        store_url=store_url,
        containers_url=f"{containers}://" if containers else None,
    )
    try:
        wiring.run(settings, on_ready=lambda message: click.echo(message, err=True))
    except ContainerError as exc:  # e.g. no Docker engine: what to do, not a traceback
        raise click.ClickException(str(exc)) from None


_BACKENDS = [
    click.option("--data-dir", type=click.Path(path_type=Path), default=None),
    click.option("--store-url", default=None, help="PYWHISK_STORE_URL (sqlite:///…, couchdb://…)."),
    click.option("--queue-url", default=None, help="PYWHISK_QUEUE_URL (kafka://host:9092)."),
    click.option(
        "--discovery-url", default=None, help="PYWHISK_DISCOVERY_URL (static://, consul://…)."
    ),
]


def _backends(command: Any) -> Any:
    for option in reversed(_BACKENDS):
        command = option(command)
    return command


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 3233).")
@click.option("--controller-id", type=int, default=None, help="This controller's id (default 0).")
@click.option(
    "--controller-count",
    type=int,
    default=None,
    help="How many controllers share the invokers (each takes 1/N of their memory).",
)
@_backends
def controller(
    host: str | None,
    port: int | None,
    controller_id: int | None,
    controller_count: int | None,
    data_dir: Path | None,
    store_url: str | None,
    queue_url: str | None,
    discovery_url: str | None,
) -> None:
    """Run one controller of a cluster (no invoker): the REST API and the load balancer."""
    from controller import cluster

    settings = _settings(
        host=host,
        port=port,
        controller_id=controller_id,
        controller_count=controller_count,
        data_dir=data_dir,
        store_url=store_url,
        queue_url=queue_url,
        discovery_url=discovery_url,
    )
    cluster.run(settings, on_ready=lambda message: click.echo(message, err=True))


@main.command()
@click.option("--id", "invoker_id", type=int, default=None, help="This invoker's id (default 0).")
@click.option(
    "--containers",
    type=click.Choice(["process", "docker"]),
    default=None,
    help="Run actions as local processes or Docker containers (default: the setting).",
)
@click.option("--user-memory", type=int, default=None, help="MB its containers may use.")
@_backends
def invoker(
    invoker_id: int | None,
    containers: str | None,
    user_memory: int | None,
    data_dir: Path | None,
    store_url: str | None,
    queue_url: str | None,
    discovery_url: str | None,
) -> None:
    """Run one invoker of a cluster: consumes invoker{N}, pings health, runs actions."""
    from invoker import main as wiring
    from invoker.containers.base import ContainerError

    settings = _settings(
        invoker_id=invoker_id,
        containers_url=f"{containers}://" if containers else None,
        user_memory=user_memory,
        data_dir=data_dir,
        store_url=store_url,
        queue_url=queue_url,
        discovery_url=discovery_url,
    )
    try:
        wiring.run(settings, on_ready=lambda message: click.echo(message, err=True))
    except ContainerError as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The standalone data directory.",
)
@click.option("--store-url", default=None, help="Store URL (default: the standalone SQLite store).")
@click.pass_context
def admin(ctx: click.Context, data_dir: Path | None, store_url: str | None) -> None:
    """Manage namespaces and their keys directly in the store (like wskadmin)."""
    ctx.obj = _settings(data_dir=data_dir, store_url=store_url)


def _with_store(settings: Settings, work: Any) -> Any:
    async def go() -> Any:
        store: Store = store_from_url(settings.effective_store_url)
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(go())


@admin.command("create")
@click.argument("namespace")
@click.pass_obj
def admin_create(settings: Settings, namespace: str) -> None:
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

    click.echo(_with_store(settings, work).auth)


@admin.command("get")
@click.argument("namespace")
@click.pass_obj
def admin_get(settings: Settings, namespace: str) -> None:
    """Print NAMESPACE's key (uuid:key)."""
    identity = _with_store(settings, lambda store: store.subjects.by_namespace(namespace))
    if identity is None:
        raise click.ClickException(f"namespace '{namespace}' does not exist")
    click.echo(identity.auth)


@admin.command("list")
@click.pass_obj
def admin_list(settings: Settings) -> None:
    """List namespaces with their limit overrides."""
    for identity in _with_store(settings, lambda store: store.subjects.all()):
        limits = identity.limits.to_json()
        click.echo(f"{identity.namespace:<40} {json.dumps(limits) if limits else ''}".rstrip())


@admin.command("delete")
@click.argument("namespace")
@click.pass_obj
def admin_delete(settings: Settings, namespace: str) -> None:
    """Delete NAMESPACE's key (its entities stay in the store)."""
    if not _with_store(settings, lambda store: store.subjects.delete(namespace)):
        raise click.ClickException(f"namespace '{namespace}' does not exist")
    click.echo(f"ok: deleted namespace {namespace}")


@admin.command("limits")
@click.argument("namespace")
@click.option("--invocations-per-minute", type=int, default=None)
@click.option("--concurrent-invocations", type=int, default=None)
@click.option("--fires-per-minute", type=int, default=None)
@click.pass_obj
def admin_limits(settings: Settings, namespace: str, **limits: int | None) -> None:
    """Override NAMESPACE's throttles (unset ones keep the system defaults)."""

    async def work(store: Store) -> Identity:
        identity = await store.subjects.by_namespace(namespace)
        if identity is None:
            raise click.ClickException(f"namespace '{namespace}' does not exist")
        current = identity.limits.model_dump()
        given = {
            "invocationsPerMinute": limits["invocations_per_minute"],
            "concurrentInvocations": limits["concurrent_invocations"],
            "firesPerMinute": limits["fires_per_minute"],
        }
        current.update({k: v for k, v in given.items() if v is not None})
        updated = identity.model_copy(update={"limits": NamespaceLimits(**current)})
        await store.subjects.put(updated)
        return updated

    updated = _with_store(settings, work).limits.to_json()
    click.echo(f"ok: limits of {namespace}: {json.dumps(updated)}")


@main.group()
def images() -> None:
    """Runtime images for Docker containers (needs the `docker` extra)."""


@images.command("build")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    help="A kind to build (repeatable; default: every kind of the runtime manifest).",
)
@click.option(
    "--base",
    default=None,
    help="Build FROM this image (pulled if absent) instead of the local debootstrap base.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.option("--verbose", "-v", is_flag=True, help="Also print debootstrap and build output.")
def images_build(kinds: tuple[str, ...], base: str | None, quiet: bool, verbose: bool) -> None:
    """Build the runtime images that are missing or out of date (cached by content)."""
    from invoker.images import ImageError, ensure_images

    try:
        ensure_images(
            list(kinds) or None,
            base=base,
            progress=(lambda line: None) if quiet else click.echo,
            log=click.echo if verbose and not quiet else None,
        )
    except ImageError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
