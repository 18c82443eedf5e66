"""``wsk namespace usage``: what the namespace's actions ran, in GB-seconds (a pywhisk
extension: the Go wsk has no such command, so its table follows `wsk activation list`'s
plain columns)."""

from __future__ import annotations

import re
import time
from typing import Any

import click

from pywhisk.cli.errors import WskError, check_args, wrap
from pywhisk.cli.help import WskCommand
from pywhisk.cli.output import bold
from pywhisk.cli.session import current, global_options

_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_time(raw: str | None, now_ms: int) -> int | None:
    """Epoch milliseconds, or a span back from now: `90s`, `15m`, `24h`, `7d`."""
    if raw is None:
        return None
    if raw.isdigit():
        return int(raw)
    match = _RELATIVE.match(raw)
    if match is None:
        raise click.BadParameter(
            f"'{raw}' is neither milliseconds since 1970 nor a span such as 24h or 7d"
        )
    return now_ms - int(match.group(1)) * _UNIT_MS[match.group(2)]


def _when(ms: Any, otherwise: str) -> str:
    if not isinstance(ms, int):
        return otherwise
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def usage_table(body: dict[str, Any]) -> str:
    priced = "price_per_gb_second" in body
    header = ["action", "invocations", "GB-seconds", "cold starts", "errors"]
    if priced:
        header.append("cost")
    rows = [[str(a["name"]), *_figures(a, priced)] for a in body.get("actions", [])]
    rows.append(["total", *_figures(body.get("total", {}), priced)])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    out = [line(header), *(line(r) for r in rows)]
    return "\n".join(out) + "\n"


def _figures(row: dict[str, Any], priced: bool) -> list[str]:
    cells = [
        str(row.get("invocations", 0)),
        f"{row.get('gb_seconds', 0.0):.6f}",
        str(row.get("cold_starts", 0)),
        str(row.get("errors", 0)),
    ]
    if priced:
        cells.append(f"{row.get('cost', 0.0):.8f}")
    return cells


@click.command("usage", cls=WskCommand, help="show what the namespace's actions ran, in GB-seconds")
@click.option("--since", default=None, help="from `SINCE`: milliseconds since 1970, or 24h, 7d …")
@click.option("--upto", default=None, help="up to `UPTO`: milliseconds since 1970, or 1h …")
@global_options()
@click.argument("args", nargs=-1)
def namespace_usage(args: tuple[str, ...], since: str | None, upto: str | None) -> None:
    check_args(args, 0, 0, "No arguments are required.")
    session = current()
    now = int(time.time() * 1000)
    query = [
        (k, str(v))
        for k, v in (("since", parse_time(since, now)), ("upto", parse_time(upto, now)))
        if v is not None
    ]
    try:
        body = session.client.request(
            "GET", session.client.namespaced("usage", session.namespace), query=query
        ).body
    except WskError as err:
        raise wrap(f"Unable to obtain the usage of namespace 'default': {err}", err) from None
    if not isinstance(body, dict):
        raise WskError("The server's answer holds no usage.")
    click.echo(
        f"{bold('usage')} of namespace {body.get('namespace')} "
        f"from {_when(body.get('since'), 'the first record')} "
        f"to {_when(body.get('upto'), 'now')}"
    )
    click.echo(usage_table(body), nl=False)
