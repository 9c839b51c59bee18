"""Errors on console pages: HTML instead of problem+json, a login redirect instead of 401.

The status and the message come from the platform's one table (``api.platform.problems``), so a
use case's refusal reads the same in the console as in the API.
"""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response

from api.console.render import render
from api.console.session import LoginRequired, cleared, login_url
from api.platform import i18n
from api.platform.problems import handle_exception
from domain.errors import NotFound

STATIC_PATH = "/console/static/"


def console_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, LoginRequired):
        target = login_url(request, exc.reason)
        # htmx follows HX-Redirect with a full page load instead of swapping a login page into a table.
        headers = {"HX-Redirect": target} if request.headers.get("hx-request") else {"Location": target}
        response: Response[Any] = Response(
            "",
            status_code=401 if "HX-Redirect" in headers else 303,
            headers={**headers, "Cache-Control": "no-store"},
            media_type=MediaType.TEXT,
        )
        if exc.reason:
            response.set_cookie(cleared())
        return response
    if request.url.path.startswith(STATIC_PATH) and OSError in (type(exc).__mro__ + type(exc.__cause__).__mro__):
        # A file name the file system refuses (too long, …; Litestar wraps the OSError in a 500) names no
        # static file: 404, not an outage.
        exc = NotFound("console.static_not_found")
    problem = handle_exception(request, exc)
    detail = getattr(problem.content, "detail", "")
    errors = [e.message for e in getattr(problem.content, "errors", [])]
    # After a refused form, "back" is the page the form was on (its action is that page's path + /<step>).
    back = request.url.path.rsplit("/", 1)[0] if request.method == "POST" else ""
    page = render(
        request,
        "error.html",
        status=problem.status_code or 500,
        message=detail,
        errors=errors,
        status_code=problem.status_code,
        back=back,
    )
    retry_after = problem.headers.get("Retry-After")
    if retry_after is not None:
        page.headers["Retry-After"] = retry_after
    return page


i18n.register({"console.static_not_found": {"vi": "Không có tệp này", "en": "There is no such file"}})
