from http import HTTPStatus
from typing import Literal

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse
from ninja import Schema, Status
from ninja_extra import api_controller, route

from core.cache import redis_answers
from core.controller_base import Controller
from core.errors import RETRY_AFTER_SECONDS
from core.schemas import ErrorOut

DATABASE_UNREACHABLE = "The database is unreachable."


class HealthOut(Schema):
    # "degraded": the API answers, but Redis is configured and down (rate limits and cache are
    # per process meanwhile, real-time delivery between processes is interrupted).
    status: Literal["ok", "degraded"]
    database: Literal["ok"]
    # "off": REDIS_URL is not set (one process, everything in its memory).
    redis: Literal["ok", "down", "off"]


def _redis_state() -> Literal["ok", "down", "off"]:
    if not settings.REDIS_URL:
        return "off"
    return (
        "ok"
        if redis_answers(settings.REDIS_URL, timeout=settings.REDIS_TIMEOUT_SECONDS)
        else "down"
    )


@api_controller("/health", tags=["health"])
class HealthController(Controller):
    @route.get(
        "/",
        operation_id="health_check",
        response={HTTPStatus.OK: HealthOut, HTTPStatus.SERVICE_UNAVAILABLE: ErrorOut},
        summary="Liveness, database and Redis check",
        description=(
            "200 while the database answers: `status` is `degraded` when Redis is configured "
            "but down (`redis`: `ok`, `down`, or `off` without `REDIS_URL`). 503 with "
            "`Retry-After` when the database is unreachable."
        ),
        openapi_extra={
            "responses": {
                HTTPStatus.SERVICE_UNAVAILABLE: {
                    "headers": {
                        "Retry-After": {
                            "description": "Seconds to wait before trying again.",
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    }
                }
            }
        },
    )
    def health(self, response: HttpResponse):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return Status(HTTPStatus.SERVICE_UNAVAILABLE, {"detail": DATABASE_UNREACHABLE})
        redis = _redis_state()
        return {"status": "degraded" if redis == "down" else "ok", "database": "ok", "redis": redis}
