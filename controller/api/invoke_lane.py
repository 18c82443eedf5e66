"""The invoke route (`POST /api/v1/namespaces/{ns}/actions/[{pkg}/]{name}`) served ahead of
the framework's middleware and routing: the server hands the application to `InvokeLane`,
which answers those requests itself and passes everything else on.

Why. On the way to the invoke handler a request crossed seven ASGI layers (FastAPI's and
Starlette's: server errors, telemetry, body limits, ours, exception handlers, the exit stack,
the router, the route's exception wrapper), each an awaited call and most of them a wrapper
around `send` that every response message went through again. The invoke route needs none
of what they add: it reads its body with its own limit, its only refusals are `ApiError`s,
and our `TransactionMiddleware` still assigns the transaction id, adds the headers and turns
an unexpected exception into OpenWhisk's 500, as on every other route.

The lane matches what Starlette's routes `{namespace}/actions/{name}` and
`{namespace}/actions/{package}/{name}` match (segments without `/`, POST only) and answers as
the routed handler would: the same handler (`routes/invoke.py`), the same error shape
(`responses.error_response`). Every other request, an OPTIONS or a GET of the same path
included, takes the application's way. Tests that drive the application in-process (no
server) take the routed way, the end-to-end tests this one.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from pywhisk.controller.api.middleware import TransactionMiddleware
from pywhisk.controller.api.responses import error_response
from pywhisk.controller.api.routes.invoke import invoke_endpoint
from pywhisk.controller.core.errors import ApiError

_PATH = re.compile(
    r"/api/v1/namespaces/(?P<namespace>[^/]+)/actions/(?:(?P<package>[^/]+)/)?(?P<name>[^/]+)"
)


class InvokeLane:
    """`app` with its invoke route answered before the app's own stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lane = TransactionMiddleware(self._invoke)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            match = _PATH.fullmatch(scope["path"])
            if match is not None:
                params = match.groupdict()
                if params["package"] is None:
                    del params["package"]
                scope["app"] = self.app  # what Starlette sets: the handler reads app.state
                scope["path_params"] = params
                await self._lane(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _invoke(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await invoke_endpoint(request)
        except ApiError as exc:
            response = error_response(request, exc.status, exc.message, exc.headers)
        await response(scope, receive, send)
