"""Moderation of direct messages: read, search and delete; never written by hand."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import Truncator
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display

from messaging.models import Message


@admin.register(Message)
class MessageAdmin(ModelAdmin):
    list_display = ["display_excerpt", "sender", "receiver", "created_at"]
    list_select_related = ["sender", "receiver"]
    list_filter = [("created_at", RangeDateTimeFilter)]
    list_filter_submit = True  # the date range applies on submit
    search_fields = [
        "content",
        "sender__email",
        "sender__full_name",
        "receiver__email",
        "receiver__full_name",
    ]
    readonly_fields = ["sender", "receiver", "content", "created_at"]
    date_hierarchy = "created_at"

    @display(description="Message")
    def display_excerpt(self, message: Message) -> str:
        return Truncator(message.content).chars(80)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # moderators read and delete; they never rewrite someone's words
