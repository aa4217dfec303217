"""`manage.py jobs_worker`: a job worker when jobs have one (PostgreSQL), nothing on SQLite.

On PostgreSQL this is `manage.py procrastinate worker` (which production runs directly, as
many as wanted, on any host that reaches the database). On SQLite jobs run in the server
process (core/jobs.py), so it says so and ends at once: `make run` starts it either way."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.jobs import PROCRASTINATE


class Command(BaseCommand):
    help = "Run a background job worker (PostgreSQL); on SQLite jobs run in the server."

    def handle(self, *args, **options) -> None:
        if settings.JOBS_BACKEND != PROCRASTINATE:
            self.stdout.write(
                "Jobs run in the server process on SQLite: no worker to start "
                "(set DATABASE_URL to PostgreSQL for the job queue and its workers)."
            )
            return
        call_command("procrastinate", "worker")
