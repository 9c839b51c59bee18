"""Correct ``Allow`` on Litestar's automatic OPTIONS answers.

When two controllers serve the same path (say ``GET /me`` and ``PATCH /me``), Litestar builds the
route again for the second one but keeps the OPTIONS handler made for the first route, whose
``Allow`` lists only the first route's methods. Each route's automatic OPTIONS handler is rebound
here to answer with that route's full method list.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, MediaType, Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT


def fix_options_allow(app: Litestar) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            continue
        handler, _ = route.route_handler_map["OPTIONS"]
        if handler.include_in_schema or handler.handler_name != "options_handler":
            continue  # an OPTIONS handler the app declared itself
        allow = ", ".join(sorted(route.methods))

        def answer(scope: Any, allow: str = allow) -> Response[None]:
            return Response(content=None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow},
                            media_type=MediaType.TEXT)

        async def answer_async(scope: Any, answer: Any = answer) -> Response[None]:
            return answer(scope)  # type: ignore[no-any-return]

        # Litestar calls the handler the way it was declared (sync or async); keep that kind.
        handler._fn = answer if handler.has_sync_callable else answer_async  # type: ignore[assignment]
