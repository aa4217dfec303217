"""An account's app passwords in the admin: listed on the user's page, revoked there, never
made there, their secrets never shown."""

from http import HTTPStatus

from django.test import Client
from django.urls import reverse

from users import services
from users.models import AppPassword, User


def change_page(user: User) -> str:
    return reverse("admin:users_user_change", args=[user.pk])


def test_the_users_page_lists_them_without_secrets(staff_client: Client, make_user):
    listener = make_user(full_name="Ada Listener")
    created = services.app_password_create(user=listener, name="Phone (Symfonium)")

    response = staff_client.get(change_page(listener))

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Phone (Symfonium)" in page
    assert "App passwords (Subsonic apps)" in page
    assert created.secret not in page
    assert created.app_password.sealed_secret not in page
    assert created.app_password.key_hash not in page
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.has_add_permission is False
    assert inline.has_change_permission is False
    assert inline.has_delete_permission is True


def test_deleting_one_in_the_admin_revokes_it(staff_client: Client, make_user):
    listener = make_user(full_name="Ada Listener")
    revoked = services.app_password_create(user=listener, name="Old phone").app_password
    kept = services.app_password_create(user=listener, name="Desktop").app_password
    page = staff_client.get(change_page(listener))
    form = page.context["adminform"].form
    prefix = "app_passwords"
    data = {
        **{name: value for name, value in form.initial.items() if value is not None},
        "email": listener.email,
        "full_name": listener.full_name,
        "is_active": "on",
        "date_joined_0": listener.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": listener.date_joined.strftime("%H:%M:%S"),
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": "2",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "0",
        f"{prefix}-0-id": str(kept.pk),
        f"{prefix}-0-user": str(listener.pk),
        f"{prefix}-1-id": str(revoked.pk),
        f"{prefix}-1-user": str(listener.pk),
        f"{prefix}-1-DELETE": "on",
    }
    data.pop("password", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    data.pop("image", None)

    response = staff_client.post(change_page(listener), data)

    assert response.status_code == HTTPStatus.FOUND, response.context and [
        formset.errors for formset in response.context["inline_admin_formsets"]
    ]
    assert list(AppPassword.objects.all()) == [kept]


def test_the_add_page_has_no_app_passwords(staff_client: Client):
    response = staff_client.get(reverse("admin:users_user_add"))

    assert response.status_code == HTTPStatus.OK
    assert response.context["inline_admin_formsets"] == []
