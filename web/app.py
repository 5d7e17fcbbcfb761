"""The Starlette application: routes, error handlers, OpenAPI document.

Every route needs an account (web/auth.py, web/access.py) except /healthz, /openapi.json, /contract.json,
/login, POST /auth/login, the setup link and the static assets; /openapi.json declares the cookie and
bearer schemes and requires them on every operation but the login.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.services.verify import remove_crash_leftovers
from web.auth import HstsMiddleware, declare_security
from web.errors import EXCEPTION_HANDLERS
from web.openapi import build_openapi
from web.request_limits import RequestLimits
from web.routes import (
    admin,
    auth,
    camera_feed_worker,
    capture_ws,
    consent,
    contract,
    curation,
    demo,
    exports,
    extractor,
    recognition,
    session_manager,
    sessions_read,
)
from web.sweeper import sweeper_lifespan

logger = logging.getLogger("a3cp.web")
DATA_ROUTE_MODULES = [session_manager, sessions_read, camera_feed_worker, capture_ws, contract, demo]
ACCOUNT_ROUTE_MODULES = [auth, admin]  # login, setup link, admin page and API, audit (docs/security.md)
PRIVACY_ROUTE_MODULES = [consent, curation]  # consent, curation, landmarks (docs/privacy.md)
EXPORT_ROUTE_MODULES = [exports]  # dataset export (docs/export.md)
RECOGNITION_ROUTE_MODULES = [recognition]  # vocabulary and recognize (docs/recognition.md)
ROUTE_MODULES = (
    DATA_ROUTE_MODULES
    + ACCOUNT_ROUTE_MODULES
    + PRIVACY_ROUTE_MODULES
    + EXPORT_ROUTE_MODULES
    + RECOGNITION_ROUTE_MODULES
)


def openapi_document(modules: list[Any]) -> dict[str, Any]:
    """The OpenAPI description of `modules`' operations, each protected (the login excepted)."""
    operations = [op for module in modules for op in module.operations]
    return declare_security(build_openapi(operations), operations)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app for `settings` (default: from the environment)."""
    settings = settings or Settings.from_env()
    services = Services.build(settings)
    if settings.role != "ingest":  # the roles that write feature files clean up after a crash
        for path in remove_crash_leftovers(settings):
            logger.warning("removed a stray temp file of an interrupted write: %s", path)
    # docs/deployment.md: the extractor role serves only its internal capture endpoint.
    if settings.role == "extractor":  # internal, behind the authenticating ingest (docs/deployment.md)
        modules: list[Any] = [extractor]
        document = build_openapi(extractor.operations)
    else:
        modules = ROUTE_MODULES
        document = openapi_document(modules)

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [route for module in modules for route in module.routes]
    routes += [Route("/openapi.json", openapi), Route("/healthz", health)]
    lifespan = None if settings.role == "extractor" else sweeper_lifespan(services)  # sessions: ingest's job
    app = Starlette(
        routes=routes,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
        middleware=[Middleware(HstsMiddleware), Middleware(RequestLimits, limits=settings.http_limits)],
    )
    app.state.services = services
    return app
