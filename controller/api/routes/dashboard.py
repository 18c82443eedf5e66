"""`/dashboard/`: a small page (vanilla JS, inline SVG charts, ~10 kB, no CDN) over the
normal REST API: the user signs in with a namespace's key, which the page keeps in
sessionStorage and sends as Basic auth, so it needs no auth scheme of its own.

The assets are read from the package once, when the app is built, and served from memory:
no file is opened per request, and only these names are served, so no path reaches the
file system. The Content-Security-Policy allows scripts and requests to this origin only:
an activation's logs or result that holds markup stays text even if the page had a bug.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response

from pywhisk.controller.core.errors import ApiError

_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def install(app: FastAPI) -> None:
    folder = resources.files("pywhisk.controller.api") / "dashboard"
    assets = {name: (folder / name).read_bytes() for name in _TYPES}

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard_root() -> Response:
        return RedirectResponse("/dashboard/", status_code=308)

    @app.get("/dashboard/{name}", include_in_schema=False)
    async def dashboard_asset(name: str) -> Response:
        if name not in assets:
            raise ApiError(404)
        return Response(assets[name], media_type=_TYPES[name], headers=_HEADERS)

    @app.get("/dashboard/", include_in_schema=False)
    async def dashboard_index() -> Response:
        return Response(assets["index.html"], media_type=_TYPES["index.html"], headers=_HEADERS)
