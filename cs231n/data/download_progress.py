"""The progress display of a download: one updating line on a terminal, a line every 10% otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class DownloadProgress:
    """One updating line on a terminal; a line every 10% (or every 30 s) otherwise."""

    def __init__(self, total: int | None, stream: TextIO | None, enabled: bool = True) -> None:
        """
        Inputs:
        - total: the expected number of bytes, or None when unknown.
        - stream: where to write (default stdout); enabled: False shows nothing.
        """
        self.total = total
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.last_line = self.start
        self.last_decile = -1
        self.start_bytes: int | None = None
        self.line_open = False

    def _text(self, done: int) -> str:
        """The progress line for `done` bytes: percentage (when the total is known), MB and rate."""
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = (done - (self.start_bytes or 0)) / elapsed
        if self.total:
            head = f"{100 * done / self.total:5.1f}% {done / 1e6:7.1f} / {self.total / 1e6:.1f} MB"
        else:
            head = f"{done / 1e6:7.1f} MB"
        return f"  {head}  {rate / 1e6:6.2f} MB/s"

    def update(self, done: int) -> None:
        """Show that `done` bytes have arrived (rate-limited when the stream is not a terminal)."""
        if not self.enabled:
            return
        if self.start_bytes is None:
            self.start_bytes = done
        if self.tty:
            self.stream.write("\r" + self._text(done))
            self.stream.flush()
            self.line_open = True
            return
        now = time.monotonic()
        decile = int(10 * done / self.total) if self.total else -1
        if decile > self.last_decile or now - self.last_line > 30:
            self.last_decile, self.last_line = decile, now
            print(self._text(done), file=self.stream, flush=True)

    def finish(self) -> None:
        """End the updating line, if one is open, so that the next message starts on its own line."""
        if self.line_open:  # end the updating line once
            self.stream.write("\n")
            self.stream.flush()
            self.line_open = False

    def say(self, message: str) -> None:
        """Print a message on its own line (unless the display is disabled)."""
        if self.enabled:
            print(message, file=self.stream, flush=True)
