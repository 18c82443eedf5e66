"""The platform's own logs: plain text or JSON lines, each line about an activation carrying
its transaction and activation ids, as OpenWhisk's `[#tid_…]` lines do.

The ids live in context variables, set where a request or an activation is handled (the
controller's transaction middleware and invoke path, the invoker's `handle`); a Filter copies
them onto every record, so a line logged anywhere below — the store, a container — carries
them without being passed them. asyncio copies the context into every task it starts, so
background work an activation spawns (its log collection, its record write) keeps them too;
a task that outlives the activation that happens to start it (a batch writer, a claim
batcher, an image pull others wait on too) is started in `without_ids()`, or every line it
ever logs would name that one activation. Code that handles an activation outside such a
context (the controller's forced answers, hand-overs, recovery at start) enters
`activation_context` itself.

Formatting happens on the logging thread's caller, but the write does not: records go
through a queue to a listener thread, so a slow stderr never stalls the event loop. Lines
per activation are DEBUG (`PYWHISK_LOG_LEVEL=debug`): at the default INFO they cost one
level check.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import logging.handlers
import queue
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from pywhisk.common import jsonio

TRANSACTION: ContextVar[str] = ContextVar("pywhisk_transaction", default="")
ACTIVATION: ContextVar[str] = ContextVar("pywhisk_activation", default="")

# Our loggers: every module's (`pywhisk.controller.…`, `pywhisk.invoker.…`) is under `pywhisk`.
OWN_LOGGERS = ("pywhisk",)
FORMATS = ("text", "json")


@contextlib.contextmanager
def activation_context(activation_id: str, transid: str | None = None) -> Iterator[None]:
    """Lines logged inside name this activation (and transaction, when given)."""
    token = ACTIVATION.set(activation_id)
    tid = TRANSACTION.set(transid) if transid is not None else None
    try:
        yield
    finally:
        ACTIVATION.reset(token)
        if tid is not None:
            TRANSACTION.reset(tid)


def without_ids() -> contextvars.Context:
    """The current context without a transaction or activation: for a long-lived task."""
    context = contextvars.copy_context()
    context.run(_clear)
    return context


def _clear() -> None:
    TRANSACTION.set("")
    ACTIVATION.set("")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.transid = TRANSACTION.get()
        record.activation_id = ACTIVATION.get()
        return True


class TextFormatter(logging.Formatter):
    """`2026-12-06T05:40:01.123Z INFO [#tid_abc] [#aid_def] invoker.service: message`."""

    def format(self, record: logging.LogRecord) -> str:
        tags = ""
        if tid := getattr(record, "transid", ""):
            tags += f"[#tid_{tid}] "
        if aid := getattr(record, "activation_id", ""):
            tags += f"[#aid_{aid}] "
        line = f"{_timestamp(record)} {record.levelname} {tags}{record.name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if tid := getattr(record, "transid", ""):
            out["transid"] = tid
        if aid := getattr(record, "activation_id", ""):
            out["activationId"] = aid
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return jsonio.dumps(out).decode()


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


def configure(fmt: str = "text", level: str = "info") -> logging.handlers.QueueListener:
    """Route every logger's records to stderr through a writer thread; the caller stops the
    returned listener at exit (which writes what is still queued)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r} (known: {', '.join(FORMATS)})")
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    handler = logging.handlers.QueueHandler(records)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(message)s"))
    listener = logging.handlers.QueueListener(records, stderr)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)  # libraries (aiokafka, httpx …): warnings only
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(numeric)
    listener.start()
    return listener
