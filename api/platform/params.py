"""Query parameters shared by every context's lists."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar.params import QueryParameter

from domain.shared.paging import MAX_LIMIT

# Page size of a cursor-paged list (``?cursor=…&limit=…``).
Limit: TypeAlias = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)]
