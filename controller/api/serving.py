"""The API's HTTP server: uvicorn, configured as every role runs it.

`Server` leaves the signals to its caller: uvicorn re-raises SIGTERM/SIGINT once it has stopped
serving, which would end the process before the invoker drains and the store flushes its
write-behind records; the standalone and controller assemblies shut down in order instead.
The server serves the application behind `InvokeLane` (`invoke_lane.py`): the invoke route
answered ahead of the framework's stack.
"""

import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from pywhisk.common.config import Settings
from pywhisk.controller.api.http_limits import bounded_protocol
from pywhisk.controller.api.invoke_lane import InvokeLane


class Server(uvicorn.Server):
    """uvicorn without its own signal handling (see the module's docstring)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        InvokeLane(app),
        host=settings.host,
        port=settings.port,
        loop="none",  # the caller's loop (uvloop when available)
        # httptools with limits on the request head's size and read time
        http=bounded_protocol(settings.header_max, settings.header_timeout),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=75,
        proxy_headers=False,  # nothing sits in front in standalone; saves a middleware
        server_header=False,
    )
