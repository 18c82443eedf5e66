"""The `pywhisk` command: standalone, controller, invoker, admin, images (docs/architecture.md).

A start-up failure (a port in use, a store that refuses the login, a broker nobody answers
at, a missing Docker SDK, an unknown URL scheme, a data directory that cannot be written)
is one line on stderr and exit status 1, as soon as it is known: the backends' own error
families are caught here, at the edge, and nothing below needs to know about the terminal.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from pywhisk.common.config import Settings
from pywhisk.common.discovery.base import DiscoveryError
from pywhisk.common.plugins import UnknownScheme
from pywhisk.common.queue.base import QueueError
from pywhisk.common.startup import StartupError, one_line
from pywhisk.common.store.base import StoreError
from pywhisk.invoker.containers.base import ContainerError

# What a command may fail with because of the machine or the settings, not a bug.
FAILURES = (
    StartupError,
    StoreError,
    QueueError,
    DiscoveryError,
    ContainerError,
    UnknownScheme,
    ValidationError,
)


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


_LOG_FORMAT = click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="The platform's own log lines: text (default) or JSON, one object a line.",
)


@contextlib.contextmanager
def _logging(settings: Settings) -> Iterator[None]:
    """Logs configured for the run (PYWHISK_LOG_FORMAT, PYWHISK_LOG_LEVEL)."""
    from pywhisk.common import logcontext

    try:
        listener = logcontext.configure(settings.log_format, settings.log_level)
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    try:
        yield
    finally:
        listener.stop()


def _announce(settings: Settings) -> Callable[[str], None]:
    """Where the "is ready" message goes: stderr as it is, or with the JSON log format a log
    line like the others, so that stderr stays one JSON object a line for a log shipper
    (`docker logs` hands both streams to it as one)."""
    if settings.log_format == "json":
        return logging.getLogger("pywhisk.deploy").info
    return lambda message: click.echo(message, err=True)


class _Commands(click.Group):
    # Imported when asked for: `pywhisk invoker` loads no controller module but this one.
    LAZY = {"admin": "pywhisk.deploy.admin:admin"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            module, _, attr = self.LAZY[name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FAILURES as exc:
            raise click.ClickException(_reason(exc)) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):  # a PYWHISK_* setting that is not of its type
        error = exc.errors()[0]
        return f"invalid setting {'.'.join(map(str, error['loc']))}: {error['msg'].lower()}"
    return one_line(exc)


@click.group(cls=_Commands)
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
@click.option(
    "--action-network",
    type=click.Choice(["on", "off"]),
    default=None,
    help="Whether sandboxed process actions may use the network (default on).",
)
@_LOG_FORMAT
def standalone(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    containers: str | None,
    store_url: str | None,
    action_network: str | None,
    log_format: str | None,
) -> None:
    """Run controller and invoker in one process, ready for `wsk`."""
    from pywhisk.deploy import standalone as wiring

    settings = _settings(
        host=host,
        port=port,
        data_dir=data_dir,
        store_url=store_url,
        containers_url=f"{containers}://" if containers else None,
        action_network=None if action_network is None else action_network == "on",
        log_format=log_format,
    )
    with _logging(settings):
        wiring.run(settings, on_ready=_announce(settings))


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
@_LOG_FORMAT
@_backends
def controller(
    host: str | None,
    port: int | None,
    controller_id: int | None,
    controller_count: int | None,
    log_format: str | None,
    data_dir: Path | None,
    store_url: str | None,
    queue_url: str | None,
    discovery_url: str | None,
) -> None:
    """Run one controller of a cluster (no invoker): the REST API and the load balancer."""
    from pywhisk.controller import cluster

    settings = _settings(
        host=host,
        port=port,
        controller_id=controller_id,
        controller_count=controller_count,
        data_dir=data_dir,
        store_url=store_url,
        queue_url=queue_url,
        discovery_url=discovery_url,
        log_format=log_format,
    )
    with _logging(settings):
        cluster.run(settings, on_ready=_announce(settings))


@main.command()
@click.option("--id", "invoker_id", type=int, default=None, help="This invoker's id (default 0).")
@click.option(
    "--containers",
    type=click.Choice(["process", "docker"]),
    default=None,
    help="Run actions as local processes or Docker containers (default: the setting).",
)
@click.option("--user-memory", type=int, default=None, help="MB its containers may use.")
@click.option(
    "--metrics-port", type=int, default=None, help="Serve /metrics on this port (default: none)."
)
@_LOG_FORMAT
@_backends
def invoker(
    invoker_id: int | None,
    containers: str | None,
    user_memory: int | None,
    metrics_port: int | None,
    log_format: str | None,
    data_dir: Path | None,
    store_url: str | None,
    queue_url: str | None,
    discovery_url: str | None,
) -> None:
    """Run one invoker of a cluster: consumes invoker{N}, pings health, runs actions."""
    from pywhisk.invoker import main as wiring

    settings = _settings(
        invoker_id=invoker_id,
        containers_url=f"{containers}://" if containers else None,
        user_memory=user_memory,
        metrics_port=metrics_port,
        log_format=log_format,
        data_dir=data_dir,
        store_url=store_url,
        queue_url=queue_url,
        discovery_url=discovery_url,
    )
    with _logging(settings):
        wiring.run(settings, on_ready=_announce(settings))


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
    from pywhisk.deploy.images import ImageError, ensure_images

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
