from django.contrib import admin
from unfold.admin import ModelAdmin

from scrobbling.models import ScrobbleLink


@admin.register(ScrobbleLink)
class ScrobbleLinkAdmin(ModelAdmin):
    """Read only, and never the token: links are made and removed by their listener."""

    list_display = ["user", "service", "username", "display_linked", "last_error", "updated_at"]
    list_filter = ["service"]
    search_fields = ["user__email", "username"]
    list_select_related = ["user"]
    fields = ["user", "service", "username", "display_linked", "last_error", "updated_at"]
    readonly_fields = fields

    @admin.display(description="linked", boolean=True)
    def display_linked(self, link: ScrobbleLink) -> bool:
        return link.is_linked

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
