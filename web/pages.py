"""Server-rendered pages of the accounts UI: an HTML file from web/templates/ with escaped values."""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from starlette.responses import HTMLResponse

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Same policy as the demo pages: same-origin scripts and styles only, no framing.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
}


def error_block(message: str | None) -> str:
    """An announced error paragraph (role=alert), or nothing."""
    if not message:
        return ""
    return f'<p class="error" role="alert">{html.escape(message)}</p>'


def render_page(
    name: str, status_code: int = 200, *, headers: dict[str, str] | None = None, **values: str
) -> HTMLResponse:
    """The template `name` with `$key` replaced by escaped values (`error` is already an `error_block`)."""
    safe = {key: value if key == "error" else html.escape(value, quote=True) for key, value in values.items()}
    body = Template((TEMPLATES / name).read_text()).substitute(safe)
    return HTMLResponse(body, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})
