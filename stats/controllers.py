from http import HTTPStatus

from ninja_extra import api_controller, route

from core.auth import bearer_jwt
from core.controller_base import Controller
from core.error_responses import ADMIN_ONLY
from core.permissions import IsAdmin
from stats import selectors
from stats.schemas import Stats


@api_controller("/stats", tags=["stats"], auth=bearer_jwt, permissions=[IsAdmin])
class StatsController(Controller):
    @route.get(
        "/",
        operation_id="stats_get",
        response={HTTPStatus.OK: Stats, **ADMIN_ONLY},
        summary="Platform totals (admins)",
    )
    def stats(self):
        return selectors.platform_totals()
