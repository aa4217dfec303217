from http import HTTPStatus

from ninja import Query, Status
from ninja_extra import api_controller, route
from ninja_extra.pagination import paginate

from core.auth import bearer_jwt
from core.bodies import body_openapi, parse_body
from core.controller_base import Controller
from core.error_responses import (
    BY_ID,
    CONFLICT,
    FORBIDDEN,
    INVALID,
    THROTTLED,
    TOO_LARGE,
    UNAUTHORIZED,
)
from core.pagination import Page
from core.schemas import PathId, page_of
from users import selectors, services
from users.schemas import (
    AdminCheckOut,
    AppPasswordCreatedOut,
    AppPasswordIn,
    AppPasswordOut,
    AuthOut,
    LoginIn,
    RefreshIn,
    RegistrationIn,
    TokenPair,
    UserFilters,
    UserMe,
    UserPatch,
    UserPublic,
)
from users.throttling import RegistrationThrottle

PROFILE_FILES = ("image_file",)


def _auth_out(user, tokens: services.Tokens) -> dict:
    return {"access": tokens.access, "refresh": tokens.refresh, "user": user}


@api_controller("/auth", tags=["auth"])
class AuthController(Controller):
    @route.post(
        "/registration/",
        operation_id="auth_register",
        response={
            HTTPStatus.CREATED: AuthOut,
            **CONFLICT,
            **INVALID,
            **THROTTLED,
        },
        summary="Create a listener account and sign in",
        throttle=RegistrationThrottle(),
    )
    def register(self, payload: RegistrationIn):
        user = services.user_register(**payload.dict())
        return Status(HTTPStatus.CREATED, _auth_out(user, services.tokens_for(user)))

    @route.post(
        "/login/",
        operation_id="auth_login",
        response={
            HTTPStatus.OK: AuthOut,
            **UNAUTHORIZED,
            **THROTTLED,
            **INVALID,
        },
        summary="Sign in with email and password",
    )
    def login(self, payload: LoginIn):
        user = services.user_authenticate(
            request=self.context.request, email=payload.email, password=payload.password
        )
        return _auth_out(user, services.tokens_for(user))

    @route.post(
        "/token/refresh/",
        operation_id="auth_refresh",
        response={HTTPStatus.OK: TokenPair, **UNAUTHORIZED, **INVALID},
        summary="Trade a refresh token for a new pair (the old one is blacklisted)",
    )
    def refresh(self, payload: RefreshIn):
        return services.token_refresh(refresh=payload.refresh)

    @route.post(
        "/logout/",
        operation_id="auth_logout",
        auth=bearer_jwt,
        response={
            HTTPStatus.NO_CONTENT: None,
            **UNAUTHORIZED,
            **FORBIDDEN,
            **INVALID,
        },
        summary="Blacklist the caller's own refresh token",
    )
    def logout(self, payload: RefreshIn):
        services.user_logout(user=self.context.request.user, refresh=payload.refresh)
        return Status(HTTPStatus.NO_CONTENT, None)

    @route.get(
        "/user/",
        operation_id="auth_user_get",
        auth=bearer_jwt,
        response={HTTPStatus.OK: UserMe, **UNAUTHORIZED},
        summary="The signed-in user",
    )
    def me(self):
        return self.context.request.user

    @route.patch(
        "/user/",
        operation_id="auth_user_update",
        auth=bearer_jwt,
        response={
            HTTPStatus.OK: UserMe,
            **UNAUTHORIZED,
            **TOO_LARGE,
            **INVALID,
        },
        openapi_extra=body_openapi(UserPatch, files=PROFILE_FILES),
        summary="Change your name or picture (JSON or multipart)",
    )
    def update_me(self):
        request = self.context.request
        payload = parse_body(request, UserPatch, files=PROFILE_FILES)
        return services.user_update(
            user=request.user,
            **payload.dict(exclude_unset=True),
            image=request.FILES.get("image_file"),
        )


@api_controller("/admin", tags=["auth"], auth=bearer_jwt)
class AdminCheckController(Controller):
    @route.get(
        "/check/",
        operation_id="admin_check",
        response={HTTPStatus.OK: AdminCheckOut, **UNAUTHORIZED},
        summary="Whether the caller is an admin",
    )
    def check(self):
        return {"is_admin": self.context.request.user.is_admin}


@api_controller("/users", tags=["users"])
class UsersController(Controller):
    @route.get(
        "/",
        operation_id="users_list",
        auth=bearer_jwt,
        response={
            HTTPStatus.OK: page_of(UserPublic),
            **UNAUTHORIZED,
            **INVALID,
        },
        summary="Other listeners, by name",
    )
    @paginate(Page)
    def list_users(self, filters: Query[UserFilters]):
        return selectors.users_visible_to(viewer=self.context.request.user, search=filters.search)

    @route.get(
        "/{int:user_id}/",
        operation_id="users_get",
        response={HTTPStatus.OK: UserPublic, **BY_ID},
        summary="One listener's public profile",
    )
    def get_user(self, user_id: PathId):
        return selectors.user_get_public(user_id=user_id)


@api_controller("/me/app-passwords", tags=["auth"], auth=bearer_jwt)
class AppPasswordsController(Controller):
    """The caller's passwords for the apps that speak Subsonic (`/rest/`)."""

    @route.get(
        "/",
        operation_id="app_passwords_list",
        response={HTTPStatus.OK: list[AppPasswordOut], **UNAUTHORIZED},
        summary="Your app passwords, newest first (never their secrets)",
    )
    def list_app_passwords(self):
        return selectors.app_passwords_of(user=self.context.request.user)

    @route.post(
        "/",
        operation_id="app_passwords_create",
        response={
            HTTPStatus.CREATED: AppPasswordCreatedOut,
            **UNAUTHORIZED,
            **CONFLICT,
            **INVALID,
        },
        summary="Make an app password; its secret is in this answer only",
        description=(
            "At most 20 for each account: one more is a 409. The `secret` is shown here once; "
            "the server keeps only a hash and a sealed copy of it."
        ),
    )
    def create_app_password(self, payload: AppPasswordIn):
        created = services.app_password_create(user=self.context.request.user, name=payload.name)
        app_password = created.app_password
        return Status(
            HTTPStatus.CREATED,
            {
                "id": app_password.pk,
                "name": app_password.name,
                "created_at": app_password.created_at,
                "last_used_at": app_password.last_used_at,
                "secret": created.secret,
            },
        )

    @route.delete(
        "/{int:app_password_id}/",
        operation_id="app_passwords_delete",
        response={HTTPStatus.NO_CONTENT: None, **UNAUTHORIZED, **BY_ID},
        summary="Revoke one of your app passwords: it stops working at once",
        description="Someone else's app password is a 404, as if it did not exist.",
    )
    def delete_app_password(self, app_password_id: PathId):
        services.app_password_delete(
            user=self.context.request.user, app_password_id=app_password_id
        )
        return Status(HTTPStatus.NO_CONTENT, None)
