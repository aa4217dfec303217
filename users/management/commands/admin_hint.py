from django.core.management.base import BaseCommand

from users.models import User

NO_ADMIN_HINT = (
    "No admin yet: make admin (or .venv/bin/python manage.py createsuperuser), then sign in "
    "at /admin/."
)


class Command(BaseCommand):
    help = "Say how to create an admin when no active superuser exists (used by make run)."

    def handle(self, *args, **options) -> None:
        if not User.objects.filter(is_superuser=True, is_active=True).exists():
            self.stdout.write(NO_ADMIN_HINT)
