"""What messaging announces, for whoever listens (the realtime transport, subscribed in
`MessagingConfig.ready`): the services never reach the transport themselves."""

from django.dispatch import Signal

# Sent after the transaction that stored a message commits, never before: a rolled-back
# message must reach no one. Arguments: `message` (the stored Message).
message_committed = Signal()
