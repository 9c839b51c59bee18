"""The console's first page: who is logged in, their units and roles, and the way to each queue."""

from __future__ import annotations

from litestar import Controller, Response, get

from api.console.common import Req, my_units
from api.console.render import render
from api.console.session import ConsoleUser
from api.platform.deps import READ_ONLY, UnitOfWork


class HomeController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="console.home", opt=READ_ONLY)
    async def home(self, request: Req, staff: ConsoleUser, uow: UnitOfWork) -> Response[str]:
        return render(request, "home.html", units=await my_units(uow, staff))
