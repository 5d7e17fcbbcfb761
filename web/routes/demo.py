"""The demo pages (`/demo/session`, `/demo/gesture`, `/demo/sessions`, `/demo/review`, `/demo/try`) and
their static assets.

Pages rendered in the one layout (web/pages.py) and vanilla ES modules + CSS from web/static/, served by
the same app (same origin as the API and the capture WebSocket). Not linked from any menu. A page needs a
login (otherwise it redirects to /login and back); its scripts then read the account and its granted users
from `GET /auth/me` and call the API with the login cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from a3cp.schemas import AuditAction, RecordCheckResult
from a3cp.services.verify import check_feature_event, load_feature_event
from web.access import data_request
from web.auth import authenticate, login_redirect
from web.openapi import Operation
from web.pages import Page, render_page
from web.routes.sessions_read import READ_ERRORS, record_id_param

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGES = {
    "session": Page("demo_session.html", "A3CP demo: start a session", "session_page.js"),
    "gesture": Page("demo_gesture.html", "A3CP demo: capture a gesture", "gesture_page.js"),
    "sessions": Page("demo_sessions.html", "A3CP demo: sessions and captures", "sessions_page.js"),
    # ?record_id=...: playback and curation of one capture
    "review": Page("demo_review.html", "A3CP demo: review a capture", "review_page.js"),
    "try": Page("demo_try.html", "A3CP demo: try the recognizer", "try_page.js"),  # docs/recognition.md
}


def _page(name: str) -> Route:
    async def endpoint(request: Request) -> Response:
        if await authenticate(request) is None:
            return login_redirect(request)
        return render_page(PAGES[name])

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
