"""Background jobs in the admin (core/jobs.py): every failed run with its reason, and on
PostgreSQL the queue's jobs themselves, read-only, with a "Run again" action for failed ones."""

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from core.admin_format import date_and_time
from core.jobs import jobs_run_again
from core.models import JobFailure

STATUS_LABELS = {
    "todo": "warning",
    "doing": "info",
    "succeeded": "success",
    "failed": "danger",
    "cancelled": "default",
    "aborted": "default",
}
ON_POSTGRESQL = "procrastinate.contrib.django" in settings.INSTALLED_APPS


class ReadOnlyAdmin(ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ShownInline(TabularInline):
    """Rows shown on their parent's page, never added or deleted there (their own services
    or pages make and remove them); the subclass lists its fields, all read only."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(JobFailure)
class JobFailureAdmin(ReadOnlyAdmin):
    list_display = [
        "display_failed_at",
        "task_name",
        "display_job",
        "attempt",
        "display_outcome",
        "display_error",
    ]
    list_filter = ["final", "task_name"]
    search_fields = ["task_name", "error"]
    fields = [
        "task_name",
        "display_job",
        "attempt",
        "display_outcome",
        "arguments",
        "error",
        "display_details",
        "display_failed_at",
    ]
    readonly_fields = fields
    empty_results_text = "No job has failed: every run so far succeeded, or none ran yet."

    @display(description="Failed at", ordering="failed_at")
    def display_failed_at(self, failure: JobFailure) -> str:
        return date_and_time(failure.failed_at)

    @display(description="Job", ordering="job_id")
    def display_job(self, failure: JobFailure) -> str:
        if failure.job_id is None:
            return "in-process"  # SQLite: jobs run in the server, there is no queue
        if not ON_POSTGRESQL:
            return str(failure.job_id)
        url = reverse("admin:procrastinate_procrastinatejob_change", args=[failure.job_id])
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, failure.job_id)

    @display(description="Outcome", label={"Given up": "danger", "Retried": "warning"})
    def display_outcome(self, failure: JobFailure) -> str:
        return "Given up" if failure.final else "Retried"

    @display(description="Error")
    def display_error(self, failure: JobFailure) -> str:
        return Truncator(failure.error).chars(120)

    @display(description="Traceback")
    def display_details(self, failure: JobFailure) -> str:
        return format_html('<pre style="white-space:pre-wrap">{}</pre>', failure.details or "-")


if ON_POSTGRESQL:
    from procrastinate.contrib.django.models import ProcrastinateEvent, ProcrastinateJob

    class JobEventInline(TabularInline):
        model = ProcrastinateEvent
        fields = ["type", "display_at"]
        readonly_fields = fields
        ordering = ["at", "id"]
        extra = 0
        hide_title = True
        can_delete = False
        verbose_name_plural = "Events"

        def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
            return False

        @display(description="At")
        def display_at(self, event: ProcrastinateEvent) -> str:
            return date_and_time(event.at)

    # procrastinate's own admin, replaced by one in Unfold's styling like every other page.
    if admin.site.is_registered(ProcrastinateJob):
        admin.site.unregister(ProcrastinateJob)

    @admin.register(ProcrastinateJob)
    class JobAdmin(ReadOnlyAdmin):
        list_display = [
            "id",
            "task_name",
            "display_status",
            "attempts",
            "queue_name",
            "display_scheduled_at",
            "display_last_error",
        ]
        list_filter = ["status", "task_name", "queue_name"]
        search_fields = ["task_name"]
        fields = [
            "id",
            "task_name",
            "display_status",
            "attempts",
            "args",
            "queue_name",
            "priority",
            "lock",
            "queueing_lock",
            "display_scheduled_at",
            "worker",
            "display_failures",
        ]
        readonly_fields = fields
        inlines = [JobEventInline]
        actions = ["run_again"]
        empty_results_text = (
            "No jobs in the queue: the apps enqueue them, workers run them "
            "(manage.py procrastinate worker)."
        )

        def get_queryset(self, request: HttpRequest) -> QuerySet[ProcrastinateJob]:
            last_error = JobFailure.objects.filter(job_id=OuterRef("pk")).order_by(
                "-attempt", "-id"
            )
            return (
                super()
                .get_queryset(request)
                .annotate(last_error=Subquery(last_error.values("error")[:1]))
            )

        def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
            return False  # the queue's rows are procrastinate's (read-only models)

        @display(description="Status", ordering="status", label=STATUS_LABELS)
        def display_status(self, job: ProcrastinateJob) -> str:
            return job.status

        @display(description="Scheduled for", ordering="scheduled_at")
        def display_scheduled_at(self, job: ProcrastinateJob) -> str:
            return date_and_time(job.scheduled_at)

        @display(description="Last error")
        def display_last_error(self, job: ProcrastinateJob) -> str:
            return Truncator(job.last_error or "").chars(100) or "-"

        @display(description="Failed runs")
        def display_failures(self, job: ProcrastinateJob) -> str:
            failures = JobFailure.objects.filter(job_id=job.pk).order_by("attempt", "id")
            if not failures:
                return "-"
            return format_html(
                "<ul>{}</ul>",
                format_html_join(
                    "",
                    "<li>run {} ({}): {}</li>",
                    ((f.attempt, "given up" if f.final else "retried", f.error) for f in failures),
                ),
            )

        @action(description="Run the selected failed jobs again")
        def run_again(self, request: HttpRequest, queryset: QuerySet[ProcrastinateJob]) -> None:
            count = jobs_run_again(list(queryset.values_list("pk", flat=True)))
            self.message_user(
                request, f"{count} failed job(s) queued to run again.", messages.SUCCESS
            )
