"""A management command's progress line (import_music, process_audio)."""

import time

from django.core.management.base import OutputWrapper

# Without a terminal (a log), a progress line at most this often.
_LOG_PROGRESS_SECONDS = 10.0


class Progress:
    """One line that redraws on a terminal ("\\r"), or a line now and then in a log."""

    def __init__(self, total: int, stream: OutputWrapper, *, noun: str) -> None:
        self.total, self.done, self.stream, self.noun = total, 0, stream, noun
        stream.style_func = None  # plain text, not stderr's error colour
        self.interactive = stream.isatty()
        self.started = self.last_line = time.monotonic()

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.interactive:
            if self.done == self.total or now - self.last_line >= 0.1:
                self.stream.write(f"\r{self._line(now)}", ending="")
                self.stream.flush()
                self.last_line = now
        elif now - self.last_line >= _LOG_PROGRESS_SECONDS:
            self.stream.write(self._line(now))
            self.last_line = now

    def clear(self) -> None:
        """Make room for a report line on a terminal."""
        if self.interactive:
            self.stream.write("\r\033[K", ending="")

    def finish(self) -> None:
        """End the line on a terminal; in a log, write the last count."""
        if self.interactive:
            self.stream.write("")
        else:
            self.stream.write(self._line(time.monotonic()))

    def _line(self, now: float) -> str:
        total = max(self.total, self.done)
        width = 30
        filled = width * self.done // total if total else width
        rate = self.done / max(now - self.started, 1e-6)
        bar = "#" * filled + "." * (width - filled)
        return f"[{bar}] {self.done}/{total} {self.noun} ({rate:.1f}/s)"
