"""The one error every processing function raises, with a sentence a person can read."""


class ProcessingFailed(Exception):
    """The file could not be processed; `reason` says why (a job records it as it is)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
