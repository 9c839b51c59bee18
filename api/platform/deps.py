"""Request-scoped dependencies: the unit of work and the container."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, NamedTuple, TypeAlias

from litestar import Litestar, Request
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency

from adapters.postgres.uow import PgUnitOfWork
from api.platform.container import Container
from api.platform.reads import caller_of, count_read

# Handler parameters name their dependency explicitly (Litestar 3 drops inferred dependencies):
# ``uow: UnitOfWork`` is the request's unit of work, ``container: AppContainer`` the composition root.
UnitOfWork: TypeAlias = NamedDependency[PgUnitOfWork]
AppContainer: TypeAlias = NamedDependency[Container]

class BeginCheck(NamedTuple):
    """A check sent with the request's BEGIN (``PgUnitOfWork(begin_check=…)``) and what to do, before the
    handler runs, when it finds no row (refuse, or settle the request otherwise). The caller's session
    check (api.identity.auth)."""

    sql: str
    on_no_row: Callable[[], Awaitable[None]]


# Request state keys: the BeginCheck, if any; set once the unit of work is being opened (a check that
# arrives later cannot ride with BEGIN, so api.identity.auth then checks on its own).
BEGIN_CHECK = "begin_check"
UOW_OPENED = "uow_opened"
# Request state key: the caller's session id whose live check the handler's own query carries
# (api.identity.auth, ``SESSION_IN_QUERY``); the handler removes it once its query settled it.
DEFERRED_SESSION = "deferred_session"

# Handler opt that marks a pure read: ``@get(..., opt=READ_ONLY)``.
READ_ONLY_OPT = "read_only"
READ_ONLY: dict[str, Any] = {READ_ONLY_OPT: True}
# With ``READ_ONLY``: a pure read that stays on the primary even with a read replica, because what it answers
# outlives the request on what it read (a pass credential, signed on the pass's status and the phone's
# binding, works offline for 72 h: a lagging replica could still show a pass revoked a moment ago).
PRIMARY_OPT = "reads_primary"
READ_ONLY_PRIMARY: dict[str, Any] = {READ_ONLY_OPT: True, PRIMARY_OPT: True}


def per_handler(cache: dict[int, tuple[object, Any]], handler: Any, compute: Callable[[Any], Any]) -> Any:
    """``compute(handler)``, once per route handler: what a request decides from its handler's signature and
    opts (fixed once the app is built) is decided on its first request. Keyed by identity; the handler is kept
    in the value so that its id cannot be reused by another app's handler (tests build many apps)."""
    hit = cache.get(id(handler))
    if hit is not None and hit[0] is handler:
        return hit[1]
    value = compute(handler)
    cache[id(handler)] = (handler, value)
    return value


# Handler opt that marks a read that writes only sometimes (``@get(..., opt=TX_ON_WRITE)``): its unit of work
# begins a transaction only before its first writing statement (adapters.postgres.uow.TransactionOnWrite), so
# a request that writes nothing makes no BEGIN/COMMIT round trips; the caller's session check (``BeginCheck``)
# is then the unit of work's first statement, on its connection. The FHIR reads: only a reader other than the
# patient writes (the access log).
TX_ON_WRITE_OPT = "tx_on_write"
TX_ON_WRITE: dict[str, Any] = {TX_ON_WRITE_OPT: True}


def is_read_only(handler: Any) -> bool:
    return bool(handler.opt.get(READ_ONLY_OPT))


def reads_primary(handler: Any) -> bool:
    """A read-only handler pinned to the primary (``READ_ONLY_PRIMARY``)."""
    return bool(handler.opt.get(PRIMARY_OPT))


def is_tx_on_write(handler: Any) -> bool:
    return bool(handler.opt.get(TX_ON_WRITE_OPT)) and not is_read_only(handler)


def _opens_transaction(handler: Any) -> bool:
    return "uow" in handler.parsed_fn_signature.parameters and not is_read_only(handler)


_OPENS: dict[int, tuple[object, Any]] = {}


def opens_transaction(handler: Any) -> bool:
    """Whether the handler takes a unit of work that begins a transaction (not a marked pure read), or may
    (``TX_ON_WRITE``): the caller's session check rides with its first round trip."""
    return per_handler(_OPENS, handler, _opens_transaction)  # type: ignore[no-any-return]


def _require_settled(state: dict[str, Any]) -> None:
    """Never answer for a session nobody checked: a handler given a deferred session check must settle it."""
    if state.get(DEFERRED_SESSION) is not None:
        raise RuntimeError("the handler did not settle the caller's deferred session check")


async def provide_uow(request: Request[Any, Any, Any]) -> AsyncGenerator[PgUnitOfWork, None]:
    """One transaction per request: committed when the handler returns, rolled back on any error.

    Litestar runs this cleanup before the response is sent, so a failed COMMIT becomes an error
    response, never a 2xx for data that was not stored. Handlers marked ``opt=READ_ONLY`` get a
    unit of work without BEGIN/COMMIT whose connection refuses writes: explicit per handler, not
    per HTTP method, because some GETs write (the e-ID callback, file downloads that log access). Handlers
    marked ``opt=TX_ON_WRITE`` get a unit of work that begins its transaction only before its first write.

    With a read replica (``DATABASE_READ_URL``), read-only units of work go where the router says (the
    replica unless the caller's last write is not replayed there yet, or it is down or lagging), and
    every committed write is recorded for its caller before the response leaves. Read-only handlers marked
    ``READ_ONLY_PRIMARY`` read the primary whatever the router says.
    """
    read_only = is_read_only(request.route_handler)
    on_write = is_tx_on_write(request.route_handler)
    container = request.app.state.container
    router = container.reads
    state = request.scope.setdefault("state", {})
    state[UOW_OPENED] = True
    check: BeginCheck | None = state.get(BEGIN_CHECK)
    begin_check = None if check is None else check.sql
    if router is None:
        async with PgUnitOfWork(container.pool, read_only=read_only, begin_check=begin_check,
                                on_write=on_write) as uow:
            if not uow.confirmed and check is not None:
                await check.on_no_row()
            yield uow
            _require_settled(state)
            await uow.commit()
    elif read_only and reads_primary(request.route_handler):
        async with PgUnitOfWork(container.pool, read_only=True) as uow:
            try:
                yield uow
                _require_settled(state)
            finally:
                count_read("primary", "pinned")
    elif read_only:
        replica, reason = await router.route(caller_of(request))
        async with PgUnitOfWork(container.pool, read_only=True, replica=replica, router=router) as uow:
            try:
                yield uow
            finally:
                count_read(uow.served_by, reason)
    else:
        async with PgUnitOfWork(container.pool, begin_check=begin_check, on_write=on_write) as uow:
            if not uow.confirmed and check is not None:
                await check.on_no_row()
            yield uow
            await uow.commit()
            caller = caller_of(request)  # after the handler: a login names the account it created
            wrote = uow.wrote  # a TX_ON_WRITE request that wrote nothing leaves no mark
            position = None if caller is None or not wrote else await router.write_position(uow.conn)
        # The pooled connection is back before the mark is stored (a Redis round trip).
        if wrote:
            await router.record_write(caller, position)


class ContainerProvider:
    """The ``container`` dependency: the app's one container, set by the lifespan once it is built.

    A provider without parameters, so Litestar does not parse a signature model on every request.
    """

    def __init__(self) -> None:
        self.container: Container | None = None

    def __call__(self) -> Container:
        if self.container is None:
            raise RuntimeError("the container is built by the app's lifespan; no request before start-up")
        return self.container


# Resolved last within one dependency level: the unit of work, then the caller. The caller was authenticated
# by the before_request hook (api.identity.auth.authenticate_declared; a 401/403 never opens a unit of
# work); its dependency reads that result after the unit of work, whose BEGIN may have settled it.
_LAST = ("uow", "principal", "client_principal")


def _order(dependency: Any) -> tuple[int, str]:
    key = dependency.key
    return (1 + _LAST.index(key) if key in _LAST else 0, key)


def resolve_dependencies_in_order(app: Litestar) -> None:
    """Resolve each handler's dependencies one after another: ``uow`` and then the caller last.

    Litestar resolves independent dependencies of one level concurrently in an anyio task group.
    For our dependencies (a cached principal, the container, the unit of work) that buys nothing
    and costs a task group and three tasks per request; worse, ``uow`` could hold a pooled
    connection with an open transaction while ``principal`` waited for another one. Sequential
    order keeps the sub-dependency order Litestar computed (each batch only after the previous).

    Each handler's model also becomes a ``_SequentialKwargsModel``, which calls a provider that takes
    nothing or only ``request`` directly (see ``_plan``) instead of through ``resolve_dependency``.
    Touches Litestar's private ``dependency_batches`` and ``KwargsModel`` (pinned in uv.lock; tested in
    tests/unit/test_read_only_uow.py so that an upgrade that changes them fails loudly).
    """
    for route in app.routes:
        for _, model in getattr(route, "route_handler_map", {}).values():
            model.dependency_batches = [{dep} for batch in model.dependency_batches
                                        for dep in sorted(batch, key=_order)]
            if type(model) is KwargsModel:
                model.__class__ = _SequentialKwargsModel
                _PLANS[id(model)] = (model, [_plan(next(iter(batch))) for batch in model.dependency_batches])


# How to call a dependency (per handler model, computed once at start-up):
_CALL, _AWAIT, _SYNC_GEN, _ASYNC_GEN, _LITESTAR = range(5)
_PLANS: dict[int, tuple[KwargsModel, list[tuple[str, int, bool, Any, Any]]]] = {}


def _plan(dep: Any) -> tuple[str, int, bool, Any, Any]:
    """(key, how, passes the request, callable, the dependency container).

    A provider without parameters or with ``request`` alone (``provide_uow``, ``provide_principal``, the
    container) is called directly: what Litestar would do for it per request — build a dict of its kwargs
    and convert it through the provider's signature model (a ``Request`` checked to be a ``Request``) — gives
    the same value. Cached providers and any other parameter go through Litestar's ``resolve_dependency``."""
    provide = dep.provide
    fields = set(provide.signature_model._fields)
    if provide.use_cache or not fields <= {"request"}:
        return dep.key, _LITESTAR, False, None, dep
    if provide.has_sync_generator_dependency:
        how = _SYNC_GEN
    elif provide.has_async_generator_dependency:
        how = _ASYNC_GEN
    else:
        how = _CALL if provide.has_sync_callable else _AWAIT
    return dep.key, how, bool(fields), provide.dependency, dep


class _SequentialKwargsModel(KwargsModel):
    """Litestar's model, resolving dependencies by the plan ``resolve_dependencies_in_order`` made."""

    __slots__ = ()

    async def resolve_dependencies(self, connection: ASGIConnection[Any, Any, Any, Any],
                                   kwargs: dict[str, Any]) -> DependencyCleanupGroup:
        group = DependencyCleanupGroup()
        plan = _PLANS.get(id(self))
        if plan is None or plan[0] is not self:  # not planned (never expected): Litestar's own order
            for batch in self.dependency_batches:
                for dep in batch:
                    await resolve_dependency(dep, connection, kwargs, group)
            return group
        await resolve_planned(plan[1], connection, kwargs, group)
        return group


async def resolve_planned(plan: list[tuple[str, int, bool, Any, Any]], connection: ASGIConnection[Any, Any, Any, Any],
                          kwargs: dict[str, Any], group: DependencyCleanupGroup) -> None:
    """Resolve one handler's dependencies into ``kwargs`` by its plan (``_plan``), generators added to ``group``
    for their cleanup: for Litestar's model above and for the lean lane (api.platform.lean)."""
    for key, how, with_request, fn, dep in plan:
        if how == _LITESTAR:
            await resolve_dependency(dep, connection, kwargs, group)
            continue
        value = fn(request=connection) if with_request else fn()
        if how == _AWAIT:
            value = await value
        elif how == _ASYNC_GEN:
            group.add(value)
            value = await value.__anext__()
        elif how == _SYNC_GEN:
            group.add(value)
            value = next(value)
        kwargs[key] = value


def plan_of(model: KwargsModel) -> list[tuple[str, int, bool, Any, Any]] | None:
    """The dependency plan ``resolve_dependencies_in_order`` made for a handler's model (None if none)."""
    plan = _PLANS.get(id(model))
    return plan[1] if plan is not None and plan[0] is model else None


def resolved_by_litestar(step: tuple[str, int, bool, Any, Any]) -> bool:
    """Whether a plan's step goes through Litestar's ``resolve_dependency`` (cached or with parameters)."""
    return step[1] == _LITESTAR
