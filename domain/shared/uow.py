"""Unit of work port: one database transaction per use case.

The request-scoped unit of work commits when the handler succeeds and rolls back on any error,
so a use case never leaves anything half-written. Each bounded context declares the
repositories it needs on its own ``Protocol`` that extends this one.
"""

from __future__ import annotations

from typing import Protocol


class UnitOfWork(Protocol):
    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
