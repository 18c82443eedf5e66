"""Per-run state shared by all commands: global flags, key/value args, properties, client.

Global flags are accepted before or after the subcommand (cobra's persistent flags allow
both), so every command carries them; their callbacks all write into the one Session kept
on the root click context.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pywhisk.cli.config import Properties, load_properties, with_overrides
from pywhisk.cli.params import KeyValueArgs

if TYPE_CHECKING:
    from pywhisk.cli.client import WhiskClient
    from pywhisk.cli.transport import Transport

F = TypeVar("F", bound=Callable[..., Any])


class GlobalFlags:
    """The global flags' values, set by their callbacks (a plain class: see config.Properties)."""

    def __init__(self) -> None:
        self.auth = ""
        self.apihost = ""
        self.apiversion = ""
        self.cert = ""
        self.key = ""
        self.insecure = False
        self.verbose = False
        self.debug = False


class Session:
    """Built once per `wsk` run; ``env`` and ``transport`` are injectable for tests."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.flags = GlobalFlags()
        self.kv = KeyValueArgs()
        self._env = env
        self._transport = transport
        self._props: Properties | None = None
        self._client: WhiskClient | None = None

    @property
    def env(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    @property
    def props(self) -> Properties:
        if self._props is None:
            self._props = with_overrides(
                load_properties(self.env),
                auth=self.flags.auth,
                apihost=self.flags.apihost,
                apiversion=self.flags.apiversion,
                cert=self.flags.cert,
                key=self.flags.key,
            )
        return self._props

    @property
    def client(self) -> WhiskClient:
        """Built on first use, so commands that fail on their arguments never need a host,
        and those that never talk to one (``wsk property get --auth``) import no HTTP code."""
        if self._client is None:
            from pywhisk.cli.client import WhiskClient

            self._client = WhiskClient(
                self.props,
                insecure=self.flags.insecure,
                verbose=self.flags.verbose,
                # WSK_CLI_DEBUG turns debug on as it does for wsk
                debug=self.flags.debug or bool(self.env.get("WSK_CLI_DEBUG")),
                transport=self._transport,
                env=self.env,
                echo=click.echo,
            )
        return self._client

    @property
    def namespace(self) -> str:
        """The namespace names without one resolve to (``_`` unless NAMESPACE is set)."""
        return self.props.namespace

    def refresh(self) -> None:
        """Forget resolved properties and the client after flags change mid-command."""
        self.close()
        self._props = None
        self._client = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def session_of(ctx: click.Context) -> Session:
    root = ctx.find_root()
    if not isinstance(root.obj, Session):
        root.obj = Session()
    return root.obj


def current() -> Session:
    return session_of(click.get_current_context())


# ------------------------------------------------------------------------ global flags
class GlobalOption(click.Option):
    """Marks the flags the help lists under "Global Flags"."""


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    # Only explicit values count, so a default at the subcommand never clears a value
    # given before it (``wsk -u KEY action list``).
    if value in (None, False, ""):
        return
    assert param.name is not None
    setattr(session_of(ctx).flags, param.name, value)


GLOBAL_FLAGS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--apihost",), {"help": "whisk API `HOST`"}),
    (("--apiversion",), {"help": "whisk API `VERSION`"}),
    (("-u", "--auth"), {"help": "authorization `KEY`"}),
    (("--cert",), {"help": "client cert"}),
    (("-d", "--debug"), {"is_flag": True, "help": "debug level output"}),
    (("-i", "--insecure"), {"is_flag": True, "help": "bypass certificate checking"}),
    (("--key",), {"help": "client key"}),
    (("-v", "--verbose"), {"is_flag": True, "help": "verbose output"}),
)


def global_options(exclude: Iterable[str] = ()) -> Callable[[F], F]:
    """Add the global flags to a command, except those it redefines locally."""
    skipped = set(exclude)

    def decorate(func: F) -> F:
        for decls, attrs in reversed(GLOBAL_FLAGS):
            name = decls[-1].lstrip("-")
            if name in skipped:
                continue
            func = click.option(
                *decls,
                cls=GlobalOption,
                expose_value=False,
                callback=_store,
                is_eager=True,
                **attrs,
            )(func)
        return func

    return decorate
