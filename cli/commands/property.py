"""``wsk property set|unset|get``: the properties file, with wsk's messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pywhisk.cli.config import (
    DEFAULT_API_VERSION,
    DEFAULT_NAMESPACE,
    read_props,
    url_base,
    write_props,
)
from pywhisk.cli.errors import EXIT_GENERAL, WskError, wrap
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.output import bold, ok
from pywhisk.cli.session import Session, current, global_options
from pywhisk.cli.version import VERSION

if TYPE_CHECKING:
    from pywhisk.cli.client import WhiskClient

# flags that property commands define themselves, shadowing the global ones as in cobra
SHADOWED = ("auth", "cert", "key", "apihost", "apiversion")

DISPLAY = {
    "apihost": "whisk API host",
    "auth": "whisk auth",
    "namespace": "whisk namespace",
    "cert": "client cert",
    "key": "Client key",
    "apiversion": "whisk API version",
    "cliversion": "whisk CLI version",
    "apibuild": "whisk API build",
    "apibuildno": "whisk API build number",
}
# properties whose label is long enough that wsk uses one tab instead of two
ONE_TAB = ("apiversion", "cliversion", "apibuildno")


@click.group("property", cls=WskGroup, help="work with whisk properties")
@global_options()
def property_group() -> None:
    pass


# ---------------------------------------------------------------------------------- set
@property_group.command("set", cls=WskCommand, help="set property")
@click.option("-u", "--auth", "auth", help="authorization `KEY`")
@click.option("--cert", "cert", help="client cert")
@click.option("--key", "key", help="client key")
@click.option("--apihost", "apihost", help="whisk API `HOST`")
@click.option("--apiversion", "apiversion", help="whisk API `VERSION`")
@click.option("--namespace", "namespace", help="whisk `NAMESPACE`")
@global_options(exclude=SHADOWED)
@click.argument("args", nargs=-1, expose_value=False)
def property_set(
    auth: str | None,
    cert: str | None,
    key: str | None,
    apihost: str | None,
    apiversion: str | None,
    namespace: str | None,
) -> None:
    session = current()
    # --auth/--cert/--key are the global flags in wsk, so they also apply to this run
    for name, value in (("auth", auth), ("cert", cert), ("key", key)):
        if value:
            setattr(session.flags, name, value)
    path = session.props.props_file
    props = read_props(path) if path else {}
    messages: list[str] = []
    failure: WskError | None = None

    if cert:
        props["CERT"] = cert
        messages.append(
            f"{ok()} client cert set. Run 'wsk property get --cert' to see the new value."
        )
    if key:
        props["KEY"] = key
        messages.append(
            f"{ok()} client key set. Run 'wsk property get --key' to see the new value."
        )
    if auth:
        props["AUTH"] = auth
        messages.append(
            f"{ok()} whisk auth set. Run 'wsk property get --auth' to see the new value."
        )
    if apihost:
        try:
            url_base(apihost)
        except ValueError as err:
            failure = WskError(
                f"Unable to set API host value; the API host value '{apihost}' is invalid: {err}",
                EXIT_GENERAL,
                display_usage=True,
            )
        else:
            props["APIHOST"] = apihost
            messages.append(f"{ok()} whisk API host set to {bold(apihost)}")
    if apiversion:
        props["APIVERSION"] = apiversion
        messages.append(f"{ok()} whisk API version set to {bold(apiversion)}")
    if namespace:
        failure = _set_namespace(session, props, namespace, apihost, messages) or failure

    try:
        if not path:
            raise OSError("no properties file path (WSK_CONFIG_FILE is empty)")
        write_props(path, props)
    except OSError as err:
        raise WskError(
            "Unable to set the property value(s): "
            f"Whisk properties file write failure: {err.strerror or err}"
        ) from err
    for message in messages:
        click.echo(message)
    if failure is not None:
        raise failure


def _set_namespace(
    session: Session,
    props: dict[str, str],
    namespace: str,
    apihost: str | None,
    messages: list[str],
) -> WskError | None:
    """Older wsk validated the namespace against the ones the key may use."""
    if namespace != DEFAULT_NAMESPACE:
        try:
            if apihost:
                session.flags.apihost = apihost
                session.refresh()
            names = list_namespaces(session.client)
        except WskError as err:
            return WskError(
                f"Authenticated user does not have namespace '{namespace}'; "
                f"set command failed: {err.message}"
            )
        if namespace not in names:
            return WskError(f"Namespace '{namespace}' is not in the list of entitled namespaces")
    props["NAMESPACE"] = namespace
    messages.append(f"{ok()} whisk namespace set to {bold(namespace)}")
    return None


def list_namespaces(client: WhiskClient) -> list[str]:
    body = client.request("GET", f"{client.version_url}/namespaces").body
    return [str(name) for name in body] if isinstance(body, list) else []


# -------------------------------------------------------------------------------- unset
@property_group.command("unset", cls=WskCommand, help="unset property")
@click.option("--cert", is_flag=True, help="client cert")
@click.option("--key", is_flag=True, help="Client key")
@click.option("--auth", is_flag=True, help="authorization key")
@click.option("--apihost", is_flag=True, help="whisk API host")
@click.option("--apiversion", is_flag=True, help="whisk API version")
@click.option("--namespace", is_flag=True, help="whisk namespace")
@global_options(exclude=SHADOWED)
@click.argument("args", nargs=-1, expose_value=False)
def property_unset(
    cert: bool, key: bool, auth: bool, apihost: bool, apiversion: bool, namespace: bool
) -> None:
    session = current()
    path = session.props.props_file
    props = read_props(path) if path else {}
    messages: list[str] = []
    if cert:
        props.pop("CERT", None)
        messages.append(f"{ok()} client cert unset.")
    if key:
        props.pop("KEY", None)
        messages.append(f"{ok()} client key unset.")
    if auth:
        props.pop("AUTH", None)
        messages.append(f"{ok()} whisk auth unset.")
    if namespace:
        props.pop("NAMESPACE", None)
        messages.append(
            f"{ok()} whisk namespace unset; the default value of "
            f"{bold(DEFAULT_NAMESPACE)} will be used."
        )
    if apihost:
        props.pop("APIHOST", None)
        messages.append(f"{ok()} whisk API host unset.")
    if apiversion:
        props.pop("APIVERSION", None)
        messages.append(
            f"{ok()} whisk API version unset; the default value of "
            f"{bold(DEFAULT_API_VERSION)} will be used."
        )
    try:
        if not path:
            raise OSError("no properties file path (WSK_CONFIG_FILE is empty)")
        write_props(path, props)
    except OSError as err:
        raise WskError(
            "Unable to unset the property value: "
            f"Whisk properties file write failure: {err.strerror or err}"
        ) from err
    for message in messages:
        click.echo(message)


# ---------------------------------------------------------------------------------- get
@property_group.command("get", cls=WskCommand, help="get property")
@click.option("--cert", is_flag=True, help="client cert")
@click.option("--key", is_flag=True, help="Client key")
@click.option("--auth", is_flag=True, help="authorization key")
@click.option("--apihost", is_flag=True, help="whisk API host")
@click.option("--apiversion", is_flag=True, help="whisk API version")
@click.option("--apibuild", is_flag=True, help="whisk API build version")
@click.option("--apibuildno", is_flag=True, help="whisk API build number")
@click.option("--cliversion", is_flag=True, help="whisk CLI version")
@click.option("--namespace", is_flag=True, help="whisk namespace")
@click.option("--all", "all_", is_flag=True, help="all properties")
@click.option("-o", "--output", default="std", help="Output format in std|raw")
@global_options(exclude=SHADOWED)
@click.argument("args", nargs=-1, expose_value=False)
def property_get(
    cert: bool,
    key: bool,
    auth: bool,
    apihost: bool,
    apiversion: bool,
    apibuild: bool,
    apibuildno: bool,
    cliversion: bool,
    namespace: bool,
    all_: bool,
    output: str,
) -> None:
    session = current()
    if output not in ("std", "raw"):
        raise WskError("Supported output format are std|raw")
    chosen = {
        "apihost": apihost,
        "auth": auth,
        "namespace": namespace,
        "cert": cert,
        "key": key,
        "cliversion": cliversion,
        "apiversion": apiversion,
    }
    if not (all_ or apibuild or apibuildno or any(chosen.values())):
        all_ = True
    if all_ and output != "std":
        raise WskError("--output|-o raw only supported with specific property type")

    props = session.props
    values = {
        "apihost": props.apihost,
        "auth": props.auth,
        "cert": props.cert,
        "key": props.key,
        "apiversion": props.apiversion,
        "cliversion": VERSION,
    }
    shown = list(DISPLAY)[:7] if all_ else [name for name, wanted in chosen.items() if wanted]
    for name in shown:
        value = _namespace(session) if name == "namespace" else values[name]
        _print_property(name, value, "std" if all_ else output)

    if not (all_ or apibuild or apibuildno):
        return
    try:
        info = session.client.request("GET", session.client.version_url, auth=False).body
        build = str(info.get("build", "")) if isinstance(info, dict) else ""
        buildno = str(info.get("buildno", "")) if isinstance(info, dict) else ""
        failure = None
    except WskError as err:
        build = buildno = "Unknown"
        failure = err
    if all_:
        _print_property("apibuild", build, "std")
        _print_property("apibuildno", buildno, "std")
    else:
        if apibuild:
            _print_property("apibuild", build, output)
        if apibuildno:
            _print_property("apibuildno", buildno, output)
    if failure is not None:
        raise wrap(f"Unable to obtain API build information: {failure.message}", failure)


def _namespace(session: Session) -> str:
    """The configured NAMESPACE, else the first namespace the key belongs to, else ``_``."""
    if session.props.namespace_configured:
        return session.props.namespace
    try:
        names = list_namespaces(session.client)
    except WskError:
        return DEFAULT_NAMESPACE
    return names[0] if names else DEFAULT_NAMESPACE


def _print_property(name: str, value: str, output: str) -> None:
    if output == "raw":
        click.echo(bold(value))
        return
    tabs = "\t" if name in ONE_TAB else "\t\t"
    click.echo(f"{DISPLAY[name]}{tabs}{bold(value)}")
