"""Message framing over a stream socket: a 4-byte length, then the payload.

Used on both ends of the candidate channel (trusted evaluator <-> candidate
process) and on the host's control channel to the trusted evaluator. The fd
is blocking; a reader gives up on a message larger than `max_bytes` (the
other side may be hostile) and on end of file. Only the standard library.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import time

HEADER = struct.Struct("<I")
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_READ = 1 << 16


class ChannelClosed(EOFError):
    """The other end closed the channel (or died)."""


class ChannelTimeout(TimeoutError):
    """No complete message within the deadline."""


class MessageTooLarge(ValueError):
    """The other end announced a message over the channel's size cap."""


class Channel:
    """Length-prefixed messages over a blocking, connected stream socket fd, or a pair of pipes
    (read from `fd`, write to `wfd`: a same-core pipe hand-over is cheaper than a socket's)."""

    def __init__(self, fd: int, max_bytes: int = DEFAULT_MAX_BYTES, wfd: int | None = None):
        self.fd = fd
        self.wfd = fd if wfd is None else wfd
        self.max_bytes = max_bytes
        self._buf = b""

    @classmethod
    def from_spec(cls, spec: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Channel:
        """ "n" (one socket fd) or "r,w" (a read and a write pipe fd), as passed in the environment."""
        fds = [int(x) for x in spec.split(",")]
        return cls(fds[0], max_bytes, fds[1] if len(fds) > 1 else None)

    @classmethod
    def accept(cls, listen_fd: int, timeout_s: float, max_bytes: int = DEFAULT_MAX_BYTES) -> Channel:
        """Accept exactly one connection on a listening socket, then close the listener."""
        listener = socket.socket(fileno=listen_fd)
        try:
            listener.settimeout(timeout_s)
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                raise ChannelTimeout(f"the candidate did not connect within {timeout_s:g} s") from None
            conn.setblocking(True)
            return cls(conn.detach(), max_bytes)
        finally:
            listener.close()

    def send(self, payload: bytes) -> None:
        data = HEADER.pack(len(payload)) + payload if len(payload) < _READ else None
        try:
            if data is not None:
                n = os.write(self.wfd, data)
                if n == len(data):
                    return
                data = memoryview(data)[n:]
            else:
                os.write(self.wfd, HEADER.pack(len(payload)))
                data = memoryview(payload)
            while data:
                n = os.write(self.wfd, data)
                data = data[n:]
        except (BrokenPipeError, ConnectionResetError):
            raise ChannelClosed("the other end closed the channel") from None

    def recv(self, timeout_s: float | None = None) -> bytes:
        """The next message's payload; ChannelClosed at end of file, ChannelTimeout past the deadline."""
        buf = self._buf
        if not buf and timeout_s is None:  # the usual case: one whole message in one read
            try:
                buf = os.read(self.fd, _READ)
            except ConnectionResetError:
                buf = b""
            if not buf:
                raise ChannelClosed("the other end closed the channel")
            if len(buf) >= 4 and HEADER.unpack_from(buf)[0] == len(buf) - 4:
                return buf[4:]
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while len(buf) < 4:
            buf += self._read(deadline)
        (n,) = HEADER.unpack_from(buf)
        if n > self.max_bytes:
            raise MessageTooLarge(f"message of {n} bytes announced (limit {self.max_bytes})")
        end = 4 + n
        if len(buf) < end:
            parts = [buf]
            have = len(buf)
            while have < end:
                chunk = self._read(deadline, max(_READ, min(end - have, 1 << 24)))
                parts.append(chunk)
                have += len(chunk)
            buf = b"".join(parts)
        self._buf = buf[end:]
        return buf[4:end]

    def _read(self, deadline: float | None, size: int = _READ) -> bytes:
        if deadline is not None:
            left = deadline - time.monotonic()
            poller = select.poll()
            poller.register(self.fd, select.POLLIN | select.POLLHUP)
            if left <= 0 or not poller.poll(left * 1000):
                raise ChannelTimeout("no reply within the deadline")
        try:
            chunk = os.read(self.fd, size)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise ChannelClosed("the other end closed the channel")
        return chunk

    def close(self) -> None:
        for fd in {self.fd, self.wfd}:
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.fd = self.wfd = -1
