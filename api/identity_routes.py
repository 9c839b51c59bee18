"""The identity context's controllers, for ``api.app`` to mount."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from api.identity import AuthController, JwksController
from api.identity_admin import ClientsController, Open311KeysController, StaffGrantsController
from api.identity_me import MeController

V1: list[ControllerRouterHandler] = [AuthController, MeController, StaffGrantsController, ClientsController,
                                     Open311KeysController]
ROOT: list[ControllerRouterHandler] = [JwksController]
