"""Moderation of direct messages: read, search and delete; never written by hand."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display

from messaging.models import Message
from users.models import User


def _person(user: User) -> str:
    """A user's name, linked to their page, with the email beside it."""
    return format_html(
        '<a class="text-primary-600" href="{}">{}</a> <span class="text-xs">{}</span>',
        reverse("admin:users_user_change", args=[user.pk]),
        user.get_full_name(),
        user.email,
    )


@admin.register(Message)
class MessageAdmin(ModelAdmin):
    list_display = ["display_excerpt", "display_sender", "display_receiver", "created_at"]
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
    fields = ["display_sender", "display_receiver", "content", "created_at"]
    readonly_fields = fields
    date_hierarchy = "created_at"
    # The empty list's text (templates/unfold/helpers/empty_results.html): there is no add
    # button here, messages come from the listeners.
    empty_results_text = (
        "Listeners send messages to each other from the app; they appear here to be read "
        "and, when needed, deleted."
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        # A message's title names both people (Message.__str__), on every page that shows it.
        return super().get_queryset(request).select_related("sender", "receiver")

    @display(description="Message")
    def display_excerpt(self, message: Message) -> str:
        return Truncator(message.content).chars(80)

    @display(description="Sender", ordering="sender__full_name")
    def display_sender(self, message: Message) -> str:
        return _person(message.sender)

    @display(description="Receiver", ordering="receiver__full_name")
    def display_receiver(self, message: Message) -> str:
        return _person(message.receiver)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # moderators read and delete; they never rewrite someone's words
