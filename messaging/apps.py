from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    # The admin's sidebar section and breadcrumb: "Chat, Messages", not "Messages, Messages".
    verbose_name = "Chat"

    def ready(self) -> None:
        # Messages flow one way: the service announces a committed message, the realtime
        # transport pushes it to open sockets. Importing push never builds the Socket.IO server.
        from messaging.realtime import push
        from messaging.signals import message_committed

        message_committed.connect(push.on_message_committed, dispatch_uid="realtime-push")
        # A user's activity set by a write elsewhere (library's now playing) shows on sockets.
        from users.signals import activity_changed

        activity_changed.connect(push.on_activity_changed, dispatch_uid="realtime-activity")
