"""`make run` ends with `manage.py admin_hint`: how to create an admin, while there is none."""

from io import StringIO

import pytest
from django.core.management import call_command

from users.management.commands.admin_hint import NO_ADMIN_HINT


def admin_hint() -> str:
    out = StringIO()
    call_command("admin_hint", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_hint_is_printed_on_an_empty_database():
    assert admin_hint() == f"{NO_ADMIN_HINT}\n"
    assert "make admin" in NO_ADMIN_HINT
    assert "manage.py createsuperuser" in NO_ADMIN_HINT


def test_the_hint_is_printed_while_no_active_superuser_exists(make_user):
    make_user(is_staff=True)  # staff, not an admin
    make_user(is_superuser=True, is_staff=True, is_active=False)

    assert admin_hint() == f"{NO_ADMIN_HINT}\n"


def test_nothing_is_printed_once_an_admin_exists(admin_user):
    assert admin_hint() == ""
