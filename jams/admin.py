"""Jams for moderators: who hosts, who is in, what is queued; close a room. Rooms are made
and played by listeners, never written by hand."""

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from core.admin import ShownInline
from jams import services
from jams.models import Jam, JamItem, JamMember


class MemberInline(ShownInline):
    model = JamMember
    fields = ["user", "role", "joined_at", "removed_at"]
    readonly_fields = fields


class ItemInline(ShownInline):
    model = JamItem
    fields = ["position", "song", "added_by", "added_at"]
    readonly_fields = fields


@admin.register(Jam)
class JamAdmin(ModelAdmin):
    list_display = ["code", "host", "display_members", "display_open", "created_at"]
    list_select_related = ["host"]
    search_fields = ["code", "host__email", "host__full_name"]
    fields = ["code", "host", "guests_can_control", "guests_can_add", "created_at", "closed_at"]
    readonly_fields = fields
    inlines = [MemberInline, ItemInline]
    actions = ["close_jams"]
    empty_results_text = "Listeners open Jams from the app; they appear here while they last."

    def get_queryset(self, request: HttpRequest) -> QuerySet[Jam]:
        return (
            super()
            .get_queryset(request)
            .annotate(present=Count("members", filter=Q(members__removed_at__isnull=True)))
        )

    @display(description="Listeners", ordering="present")
    def display_members(self, jam: Jam) -> int:
        return jam.present

    @display(description="Open", boolean=True, ordering="closed_at")
    def display_open(self, jam: Jam) -> bool:
        return jam.closed_at is None

    @action(description="Close the selected Jams")
    def close_jams(self, request: HttpRequest, queryset: QuerySet[Jam]) -> None:
        closed = sum(
            services.jam_close_by_staff(jam_id=jam_id)
            for jam_id in queryset.filter(closed_at__isnull=True).values_list("pk", flat=True)
        )
        self.message_user(request, f"{closed} Jam(s) closed.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
