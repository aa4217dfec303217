"""The refusal a Subsonic answer carries: a code of the specification and a sentence."""

from subsonic.spec import ERROR_MESSAGES, ErrorCode


class SubsonicError(Exception):
    """Answered as `status="failed"` with `<error code=".." message=".."/>` (HTTP 200)."""

    def __init__(
        self, code: ErrorCode, message: str | None = None, *, help_url: str | None = None
    ) -> None:
        self.code = code
        self.message = message or ERROR_MESSAGES[code]
        self.help_url = help_url
        super().__init__(self.message)

    def body(self) -> dict[str, object]:
        return {
            "error": {"code": int(self.code), "message": self.message, "helpUrl": self.help_url}
        }


def missing_parameter(name: str) -> SubsonicError:
    return SubsonicError(ErrorCode.MISSING_PARAMETER, f"Required parameter is missing: {name}.")
