"""The demo pages (`/demo/session`, `/demo/gesture`, `/demo/sessions`) and their static assets.

Plain HTML files from web/templates/ and vanilla ES modules + CSS from web/static/, served by the same
app (same origin as the API and the capture WebSocket). Not linked from any menu.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from web.openapi import Operation

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = WEB_DIR / "templates"
STATIC = WEB_DIR / "static"
PAGES = {"session": "demo_session.html", "gesture": "demo_gesture.html", "sessions": "demo_sessions.html"}
# The pages load only same-origin scripts and talk only to this origin (HTTP and WebSocket).
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
        "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


def _page(name: str) -> Route:
    async def endpoint(request: Request) -> FileResponse:
        return FileResponse(TEMPLATES / PAGES[name], media_type="text/html", headers=_HEADERS)

    return Route(f"/demo/{name}", endpoint, methods=["GET"], name=f"demo_{name}")


routes: list[BaseRoute] = [_page(name) for name in PAGES]
routes.append(Mount("/static", app=StaticFiles(directory=STATIC), name="static"))

operations: list[Operation] = []
