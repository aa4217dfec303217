from http import HTTPStatus

from django.test import Client

from core.controllers import DATABASE_UNREACHABLE
from core.errors import RETRY_AFTER_SECONDS
from tests.helpers import run_project_python


def test_health_reports_the_database_and_redis_off_without_redis(client: Client, db):
    response = client.get("/api/health/")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "database": "ok", "redis": "off"}


def test_health_reports_redis_when_it_answers(client: Client, db, settings, test_redis):
    settings.REDIS_URL = test_redis.url

    response = client.get("/api/health/")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_health_is_degraded_not_down_when_redis_is_unreachable(client: Client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there

    response = client.get("/api/health/")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "degraded", "database": "ok", "redis": "down"}


def test_health_answers_503_when_the_database_is_unreachable():
    # A real server process whose database address has nothing listening.
    result = run_project_python(
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/api/health/', HTTP_HOST='localhost');"
        "print(r.status_code, r.headers['Retry-After'], json.dumps(r.json()))",
        DATABASE_URL="postgres://postgres@127.0.0.1:9/unreachable",
        DATABASE_POOL_TIMEOUT="1",
    )

    assert result.stdout.strip().splitlines()[-1] == (
        f'503 {RETRY_AFTER_SECONDS} {{"detail": "{DATABASE_UNREACHABLE}"}}'
    ), result.stderr


def test_openapi_documents_every_status_and_bearer_auth(client: Client):
    schema = client.get("/api/openapi.json").json()

    assert schema["components"]["securitySchemes"]["BearerJWT"] == {
        "type": "http",
        "scheme": "bearer",
    }
    operations = {
        (method.upper(), path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    me = operations[("GET", "/api/auth/user/")]
    # Any operation may answer 503 while the database is away (config.api).
    assert set(me["responses"]) == {"200", "401", "503"}
    assert me["security"] == [{"BearerJWT": []}]
    login = operations[("POST", "/api/auth/login/")]
    assert set(login["responses"]) == {"200", "401", "413", "422", "429", "503"}
    users = operations[("GET", "/api/users/")]
    assert set(users["responses"]) == {"200", "401", "422", "503"}
    # Any body may be refused as too large before a route runs (core.request_size).
    assert all(
        "413" in operation["responses"]
        for operation in operations.values()
        if "requestBody" in operation
    )
    patch_me = operations[("PATCH", "/api/auth/user/")]
    assert set(patch_me["requestBody"]["content"]) == {"multipart/form-data", "application/json"}


def test_swagger_ui_loads_its_assets_from_this_server(client: Client):
    page = client.get("/api/docs").content.decode()

    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn." not in page
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == HTTPStatus.OK
