"""The candidate channel's messages: one tag byte, then a codec value.

Requests (trusted side -> candidate):  C fid args | K fid (args, kwargs) | M (op, ...)
Replies  (candidate -> trusted side):  O value | E (kind, message, traceback)

Calls are the hot path (a policy asked once per decision), so they carry a
bound function id instead of a name and skip a level of tuple.
"""

from __future__ import annotations

import struct
from typing import Any

from syslab.evaluators.codec import DecodeError, _encode, decode, encode

CALL, CALL_KW, OP, OK, ERR = b"C", b"K", b"M", b"O", b"E"
_HEAD = struct.Struct("<cI")
_head_pack, _fid_unpack = _HEAD.pack, struct.Struct("<I").unpack_from


def call(fid: int, args: tuple, kwargs: dict | None = None) -> bytes:
    out = [_head_pack(CALL_KW if kwargs else CALL, fid)]
    _encode((args, kwargs) if kwargs else args, out, 0, True)
    return b"".join(out)


def op(*fields: Any) -> bytes:
    return OP + encode(fields)


def ok(value: Any) -> bytes:
    return OK + encode(value, records=False)


def err(kind: str, message: str, traceback: str = "") -> bytes:
    return ERR + encode((kind, message, traceback))


def read_request(data: bytes) -> tuple:
    """(fid, args, kwargs) for a call, or the op tuple ("bind", name) ... (trusted bytes)."""
    tag = data[:1]
    if tag == CALL:
        return _fid_unpack(data, 1)[0], decode(data, allow_nonfinite=True, records=True, start=5), None
    if tag == CALL_KW:
        args, kwargs = decode(data, allow_nonfinite=True, records=True, start=5)
        return _fid_unpack(data, 1)[0], args, kwargs
    if tag == OP:
        return decode(data, allow_nonfinite=True, records=True, start=1)
    raise DecodeError(f"unknown request tag {tag!r}")


def read_reply(data: bytes, allow_nonfinite: bool) -> tuple[bool, Any]:
    """(True, value) or (False, (kind, message, traceback)); DecodeError on anything else (hostile bytes)."""
    tag = data[:1]
    if tag == OK:
        return True, decode(data, allow_nonfinite=allow_nonfinite, start=1)
    if tag == ERR:
        body = decode(data, allow_nonfinite=True, start=1)
        if type(body) is tuple and len(body) == 3 and all(type(x) is str for x in body):
            return False, body
    raise DecodeError("malformed reply")
