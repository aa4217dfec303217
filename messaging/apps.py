from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    # The admin's sidebar section and breadcrumb: "Chat, Messages", not "Messages, Messages".
    verbose_name = "Chat"
