"""Every server-rendered page: the one layout (web/templates/layout.html: head, stylesheet, the page's ES
module, the account bar of a logged-in page) around a page's `<main>` from web/templates/, with escaped
values, and the one set of page headers (no caching, a same-origin Content-Security-Policy)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from string import Template

from starlette.responses import HTMLResponse

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Same-origin scripts, styles, API calls and the capture WebSocket only; the camera preview and the
# review canvas use blob:/data: URLs; no framing, forms post only here.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
        "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
}


@dataclass(frozen=True)
class Page:
    """One page: its `<main>` template, its title, its ES module under /static/js/ (if any), and whether
    it is for a logged-in account (then it carries the account bar with Log out)."""

    main: str
    title: str
    script: str | None = None
    logged_in: bool = True


def error_block(message: str | None) -> str:
    """An announced error paragraph (role=alert), or nothing."""
    if not message:
        return ""
    return f'<p class="error" role="alert">{html.escape(message)}</p>'


def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def render_page(
    page: Page, status_code: int = 200, *, headers: dict[str, str] | None = None, **values: str
) -> HTMLResponse:
    """`page` in the layout, its `$key`s replaced by escaped values (`error` is already an `error_block`)."""
    safe = {key: value if key == "error" else html.escape(value, quote=True) for key, value in values.items()}
    script = f'  <script type="module" src="/static/js/{page.script}"></script>\n' if page.script else ""
    body = _template("layout.html").substitute(
        title=html.escape(page.title),
        script=script,
        account_bar=_template("account_bar.html").template if page.logged_in else "",
        main=_template(page.main).substitute(safe),
    )
    return HTMLResponse(body, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})
