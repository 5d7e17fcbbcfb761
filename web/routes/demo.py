"""The demo pages (`/demo/session`, `/demo/gesture`, `/demo/sessions`, `/demo/review`, `/demo/try`) and
their static assets.

Plain HTML files from web/templates/ and vanilla ES modules + CSS from web/static/, served by the same
app (same origin as the API and the capture WebSocket). Not linked from any menu. A page needs a login
(otherwise it redirects to /login and back); its scripts then read the account and its granted users from
`GET /auth/me` and call the API with the login cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from a3cp.schemas import AuditAction, RecordCheckResult
from a3cp.services.verify import check_feature_event, load_feature_event
from web.access import data_request
from web.auth import authenticate, login_redirect
from web.openapi import Operation
from web.routes.sessions_read import READ_ERRORS, record_id_param

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = WEB_DIR / "templates"
STATIC = WEB_DIR / "static"
PAGES = {
    "session": "demo_session.html",
    "gesture": "demo_gesture.html",
    "sessions": "demo_sessions.html",
    "review": "demo_review.html",  # ?record_id=...: playback and curation of one capture
    "try": "demo_try.html",  # the recognizer (docs/recognition.md)
}
# The pages load only same-origin scripts and talk only to this origin (HTTP and WebSocket).
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
        "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


def _page(name: str) -> Route:
    async def endpoint(request: Request) -> Response:
        if await authenticate(request) is None:
            return login_redirect(request)
        return FileResponse(TEMPLATES / PAGES[name], media_type="text/html", headers=_HEADERS)

    return Route(f"/demo/{name}", endpoint, methods=["GET"], name=f"demo_{name}")


def _verify_record(services: object, record_id: str, visible: Callable[[str], bool]) -> RecordCheckResult:
    location = services.reads.record(record_id, visible)  # type: ignore[attr-defined]
    settings = services.settings  # type: ignore[attr-defined]
    event = load_feature_event(settings, location.log_path, location.log_offset)
    if event is None:
        return RecordCheckResult(record_id=record_id, ok=False, problems=["not a feature event"])
    check = check_feature_event(settings, event)
    return RecordCheckResult(record_id=record_id, ok=check.ok, problems=list(check.problems))


async def verify_record(request: Request) -> JSONResponse:
    """The verified / failed badge of /demo/sessions: the library verify check on a granted user's
    feature event (any other record is 404, as in the read API); audited."""
    async with data_request(request, AuditAction.VERIFY) as access:
        access.object_id = record_id = record_id_param(request)
        services = request.app.state.services
        body = await run_in_threadpool(_verify_record, services, record_id, access.visible)
    return JSONResponse(body.model_dump(mode="json"))


routes: list[BaseRoute] = [_page(name) for name in PAGES]
routes.append(Route("/records/{record_id}/verify", verify_record, methods=["GET"]))
routes.append(Mount("/static", app=StaticFiles(directory=STATIC), name="static"))

operations = [
    Operation(
        "/records/{record_id}/verify",
        "GET",
        "Verify a granted user's feature event against its file (hash, shape, dims)",
        {200: RecordCheckResult},
        path_params=("record_id",),
        error_statuses=READ_ERRORS,
    )
]
