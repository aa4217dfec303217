"""The users pages of the admin."""

from django.test import Client
from django.urls import reverse


def test_deactivating_users_spares_the_acting_admin(staff_client: Client, admin_user, make_user):
    listener = make_user()

    staff_client.post(
        reverse("admin:users_user_changelist"),
        {"action": "deactivate_users", "_selected_action": [listener.pk, admin_user.pk]},
    )

    listener.refresh_from_db()
    admin_user.refresh_from_db()
    assert listener.is_active is False
    assert admin_user.is_active is True
