"""The Starlette application: routes, error handlers, OpenAPI document."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.bootstrap import Services
from a3cp.config import Settings
from web.errors import EXCEPTION_HANDLERS
from web.openapi import build_openapi
from web.routes import (
    camera_feed_worker,
    capture_ws,
    contract,
    demo,
    extractor,
    session_manager,
    sessions_read,
)
from web.sweeper import sweeper_lifespan

ROUTE_MODULES = [session_manager, sessions_read, camera_feed_worker, capture_ws, contract, demo]


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app for `settings` (default: from the environment)."""
    settings = settings or Settings.from_env()
    services = Services.build(settings)
    # docs/deployment.md: the extractor role serves only its internal capture endpoint.
    modules = [extractor] if settings.role == "extractor" else ROUTE_MODULES
    document = build_openapi([op for module in modules for op in module.operations])

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [route for module in modules for route in module.routes]
    routes += [Route("/openapi.json", openapi), Route("/healthz", health)]
    lifespan = None if settings.role == "extractor" else sweeper_lifespan(services)  # sessions: ingest's job
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.services = services
    return app
