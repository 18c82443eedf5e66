"""The controller's FastAPI app: built by a factory, nothing at import time."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from pywhisk.controller.api import responses
from pywhisk.controller.api.middleware import TransactionMiddleware
from pywhisk.controller.api.routes import (
    actions,
    activations,
    apimgmt,
    dashboard,
    feeds,
    gateway,
    invoke,
    invokers,
    layers,
    meta,
    metrics,
    namespaces,
    packages,
    rules,
    triggers,
    usage,
    web,
    webhooks,
)
from pywhisk.controller.core.feeds.service import Feeds
from pywhisk.controller.core.services import Services


def _no_telemetry() -> dict[str, Any]:
    """FastAPI ≥ 0.160 checks OpenTelemetry providers on every request (~40 µs, os.environ
    lookups included) unless told not to; older versions have no such option."""
    if "telemetry" in inspect.signature(FastAPI).parameters:
        return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    return {}


def create_app(services: Services, *, manage_services: bool = True) -> FastAPI:
    """`manage_services=False` when the caller (standalone wiring) starts and stops them."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_services:
            await services.start()
        try:
            yield
        finally:
            if manage_services:
                await services.stop()

    app = FastAPI(
        **_no_telemetry(),
        title="pywhisk",
        description="OpenWhisk-compatible REST API",
        lifespan=lifespan,
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/api-docs",
        redoc_url=None,
    )
    app.state.services = services
    # Alarms and database-changes followers: every controller runs them (claims in the store
    # keep N controllers from firing one event N times).
    app.state.feeds = Feeds(services)
    services.background.append(app.state.feeds)
    responses.install(app)
    invoke.install(app)  # the hot paths first: they must match before the routers
    apimgmt.install(app)  # before the web route, which would look for actions of its names
    web.install(app)
    for module in (
        meta,
        metrics,
        invokers,
        namespaces,
        actions,
        packages,
        layers,
        webhooks,
        triggers,
        rules,
        activations,
        usage,
        feeds,
    ):
        app.include_router(module.router)
    dashboard.install(app)
    gateway.install(app)  # last: /api/<tenant>/… is whatever nothing else serves
    app.add_middleware(TransactionMiddleware)
    return app
