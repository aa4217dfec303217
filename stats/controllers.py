from http import HTTPStatus

from ninja_extra import api_controller, route

from core.auth import bearer_jwt
from core.permissions import IsAdmin
from core.schemas import ErrorOut
from stats import selectors
from stats.schemas import Stats


@api_controller("/stats", tags=["stats"], auth=bearer_jwt, permissions=[IsAdmin])
class StatsController:
    @route.get(
        "/",
        operation_id="stats_get",
        response={
            HTTPStatus.OK: Stats,
            HTTPStatus.UNAUTHORIZED: ErrorOut,
            HTTPStatus.FORBIDDEN: ErrorOut,
        },
        summary="Platform totals (admins)",
    )
    def stats(self):
        return selectors.platform_totals()
