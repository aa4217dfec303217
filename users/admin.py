from http import HTTPStatus

from axes.admin import AccessAttemptAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja_jwt.token_blacklist.admin import BlacklistedTokenAdmin, OutstandingTokenAdmin
from ninja_jwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from core.admin_format import date_and_time
from core.files.images import verify_image
from core.forms import TextRuleForm, VerifiedUploadsForm
from users import services
from users.forms import LockedAdminLoginForm
from users.models import AppPassword, User

admin.site.unregister(Group)
# Axes' log of every failure stays off (AXES_ENABLE_ACCESS_FAILURE_LOG): one row per guess,
# kept for good, for any email a guesser makes up. The failures that count are AccessAttempt.
admin.site.unregister(AccessFailureLog)
# The sign-in page counts failures and locks with the API's login (users/lockout.py).
admin.site.login_form = LockedAdminLoginForm
# Unfold's page with one banner when sign-in is refused (templates/admin/sign_in.html).
admin.site.login_template = "admin/sign_in.html"


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's own sign-in view, answering 429 with Retry-After while sign-in is locked.

    The form already refuses (with the sentence on the page); this only sets the status, so
    scripts and monitors see the refusal for what it is. `config.urls` mounts it at the admin's
    login path.
    """
    response = admin.site.login(request)
    form = (getattr(response, "context_data", None) or {}).get("form")
    retry_after = getattr(form, "retry_after", None)
    if retry_after is not None:
        response.status_code = HTTPStatus.TOO_MANY_REQUESTS
        response["Retry-After"] = str(retry_after)
    return response


@admin.register(Group)
class GroupAdmin(ModelAdmin):
    search_fields = ["name"]
    filter_horizontal = ["permissions"]


class UserProfileForm(UserChangeForm, VerifiedUploadsForm):
    upload_checks = {"image": verify_image}


class UserAddForm(TextRuleForm, UserCreationForm):
    """The new account's full name follows the API's text rule (core/text.py)."""


class AppPasswordInline(TabularInline):
    """The account's app passwords (the Subsonic apps'): seen and revoked here, never made.

    Made only by their owner through the API (`POST /api/me/app-passwords/`): the secret is
    shown once, to the person it signs in as; an admin who made one would hold a password to
    someone else's account. Never the secret, which the server does not have.
    """

    model = AppPassword
    fields = ["name", "created_at", "last_used_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0  # no "add another" row
    can_delete = True  # "Delete" here revokes: the app's next request is refused
    verbose_name_plural = "app passwords (Subsonic apps)"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin, ModelAdmin):
    form = UserProfileForm
    add_form = UserAddForm
    change_password_form = AdminPasswordChangeForm
    ordering = ["-date_joined"]
    # Labels and dates as the other lists write them ("Active", "Joined 2026-12-03 14:05").
    list_display = ["email", "full_name", "display_role", "display_active", "display_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser", "date_joined"]
    search_fields = ["email", "full_name"]
    actions = ["activate_users", "deactivate_users"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "image", "image_original_name"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]
    readonly_fields = ["image_original_name", "last_login", "date_joined"]
    inlines = [AppPasswordInline]

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list:
        return self.inlines if obj is not None else []  # none yet on the add page

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        services.user_save(user=obj)  # the API's profile update saves the same way

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not AppPassword:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # fills deleted_objects; nothing else can change here
        services.app_passwords_delete(app_passwords=formset.deleted_objects)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.users_delete(users=User.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        services.users_delete(users=queryset)

    @display(description="Role", label={"Admin": "success", "Staff": "info", "Listener": "default"})
    def display_role(self, user: User) -> str:
        if user.is_admin:
            return "Admin"
        return "Staff" if user.is_staff else "Listener"

    @display(description="Active", boolean=True, ordering="is_active")
    def display_active(self, user: User) -> bool:
        return user.is_active

    @display(description="Joined", ordering="date_joined")
    def display_joined(self, user: User) -> str:
        return date_and_time(user.date_joined)

    @action(description="Activate selected users")
    def activate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        changed = services.users_set_active(users=queryset, active=True)
        self.message_user(request, f"Activated {changed} user(s).", messages.SUCCESS)

    @action(description="Deactivate selected users")
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # Never lock the acting admin out of the panel.
        changed = services.users_set_active(
            users=queryset.exclude(pk=request.user.pk), active=False
        )
        self.message_user(request, f"Deactivated {changed} user(s).", messages.SUCCESS)


# The token blacklist's and django-axes' own read-only admins (axes: the failed sign-ins that
# count now, whose deletion unlocks; the admins' sign-ins), in Unfold's styling like every
# other page.
for library_model, library_admin in (
    (OutstandingToken, OutstandingTokenAdmin),
    (BlacklistedToken, BlacklistedTokenAdmin),
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
):
    admin.site.unregister(library_model)
    admin.site.register(
        library_model, type(library_admin.__name__, (library_admin, ModelAdmin), {})
    )
