"""Draining a child's output pipe in the background, keeping at most a capped prefix."""

from __future__ import annotations

import os
import threading
from typing import IO


class CappedReader(threading.Thread):
    """Drain a pipe to EOF, keeping at most `cap` bytes (the rest is counted and dropped)."""

    def __init__(self, stream: IO[bytes], cap: int):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.chunks: list[bytes] = []
        self.kept = 0
        self.truncated = False

    def run(self) -> None:
        fd = self.stream.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            room = self.cap - self.kept
            if room > 0:
                self.chunks.append(data[:room])
                self.kept += min(room, len(data))
            if len(data) > room:
                self.truncated = True

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")
