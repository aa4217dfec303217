from http import HTTPStatus

from django.db import DatabaseError, connection
from ninja import Schema, Status
from ninja_extra import api_controller, route

from core.schemas import ErrorOut

DATABASE_UNREACHABLE = "The database is unreachable."


class HealthOut(Schema):
    status: str
    database: str


@api_controller("/health", tags=["health"])
class HealthController:
    @route.get(
        "/",
        operation_id="health_check",
        response={HTTPStatus.OK: HealthOut, HTTPStatus.SERVICE_UNAVAILABLE: ErrorOut},
        summary="Liveness and database check",
    )
    def health(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return Status(HTTPStatus.SERVICE_UNAVAILABLE, {"detail": DATABASE_UNREACHABLE})
        return {"status": "ok", "database": "ok"}
