"""What a bounded context contributes to the service: one ``Context`` record per context package.

The app factory mounts the controllers, the composition root builds the services, the worker runs
the jobs, ``/me/export`` asks every exporter, ``thudo seed`` every seeder and the CLI adds the
commands — all by looping over ``api.platform.registry.CONTEXTS``. Adding a context means one new
package per layer and one line in that list.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
from litestar.types import ControllerRouterHandler

from api.platform.settings import Settings, Spec
from domain.identity.principal import Principal
from domain.payments.ports import PaidObjectHandler

if TYPE_CHECKING:
    from adapters.postgres.uow import PgUnitOfWork
    from api.platform.container import Container

# Per-process services of a context (clients, caches, key material): built once by the composition
# root and reached by their type with ``container.get(ServicesType)``.
ServicesBuilder = Callable[[Settings, "asyncpg.Pool[Any]"], object]
# The data subject's copy of what this context holds about them (``GET /api/v1/me/export``), read in
# the request's transaction so the export is one consistent snapshot.
Exporter = Callable[["Container", "PgUnitOfWork", Principal], Awaitable[Any]]
# Reference data the context cannot work without (catalogues, fare tables): idempotent upserts, loaded by
# ``thudo seed`` and into every test database.
Reference = Callable[["asyncpg.Connection[Any]"], Awaitable[None]]
# Idempotent demo data (``thudo seed``, the embedded default); runs inside one transaction.
Seeder = Callable[["asyncpg.Connection[Any]", Settings], Awaitable[None]]
# Local stand-ins of outside systems, mounted only when STANDINS is on (never in production).
StandIns = Callable[[Settings], Sequence[ControllerRouterHandler]]
# Work done once per start before the server forks its workers (keys every worker must share).
Prepare = Callable[[Settings], None]
# What a context does when a payment for one of its purposes (``"transit.pass"``, ``"judicial.fee"``)
# succeeds, is refunded or lapses: built on the payments transaction's connection, so the owning
# context's change commits together with the payment's (``domain.payments.ports.PaidObjectHandler``).
PaymentHandlerFactory = Callable[[Any], PaidObjectHandler]
# A background job: True when it did work and should run again at once, False when idle.
JobFn = Callable[["Container"], Awaitable[bool]]


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFn
    idle_s: float = 1.0
    concurrency: int = 1  # parallel loops of this job (each claims its own batches)
    # A PostgreSQL NOTIFY channel that wakes the job at once when new work is committed (LISTEN/NOTIFY);
    # ``idle_s`` stays the fallback poll (rows that become due later, a lost listener connection).
    wake_channel: str | None = None
    # Housekeeping that must not run once per worker process (purges, escalation, reconciliation):
    # ``idle_s`` becomes a period that the first worker to claim it (``worker_periods``) runs alone.
    once_per_period: bool = False


@dataclass(frozen=True)
class Command:
    """A ``thudo <name>`` operator command."""

    name: str
    help: str
    run: Callable[[Settings, argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


@dataclass(frozen=True)
class Context:
    name: str
    api_v1: Sequence[ControllerRouterHandler] = ()  # mounted under /api/v1
    root: Sequence[ControllerRouterHandler] = ()  # fixed paths (/.well-known, /open311/v2, /fhir/r4 ...)
    services: ServicesBuilder | None = None
    jobs: Sequence[Job] = ()
    exporter: Exporter | None = None
    reference: Reference | None = None
    seed: Seeder | None = None
    standins: StandIns | None = None
    prepare: Prepare | None = None
    commands: Sequence[Command] = field(default_factory=tuple)
    payment_handlers: Mapping[str, PaymentHandlerFactory] = field(default_factory=dict)  # by payment purpose
    # The context's own environment variables (name -> Spec), read with ``settings.of(name, type)``; README's
    # configuration table lists them like the platform's.
    settings: Mapping[str, Spec] = field(default_factory=dict)
