"""The candidate channel's messages: a request token, one tag byte, then a codec value.

Requests (trusted side -> candidate):  token C fid args | token K fid (args, kwargs) | token M (op, ...)
Replies  (candidate -> trusted side):  token O value | token E (kind, message, traceback)

The token is 8 random bytes the trusted side draws per request; a reply counts only if it carries
the token of the request it answers, so a candidate cannot write replies ahead of the requests
(the trusted clock would time nothing). Calls are the hot path (a policy asked once per decision),
so they carry a bound function id instead of a name and skip a level of tuple.
"""

from __future__ import annotations

import struct
from typing import Any

from syslab.evaluators.codec import DecodeError, _encode, decode, encode

TOKEN = 8
CALL, CALL_KW, OP, OK, ERR = b"C", b"K", b"M", b"O", b"E"
_HEAD = struct.Struct("<cI")
_head_pack, _fid_unpack = _HEAD.pack, struct.Struct("<I").unpack_from


def call(token: bytes, fid: int, args: tuple, kwargs: dict | None = None) -> bytes:
    out = [token, _head_pack(CALL_KW if kwargs else CALL, fid)]
    _encode((args, kwargs) if kwargs else args, out, 0, True)
    return b"".join(out)


def op(token: bytes, *fields: Any) -> bytes:
    return token + OP + encode(fields)


def ok(token: bytes, value: Any) -> bytes:
    out = [token, OK]
    _encode(value, out, 0, False)
    return b"".join(out)


def err(token: bytes, kind: str, message: str, traceback: str = "") -> bytes:
    return token + ERR + encode((kind, message, traceback))


def read_request(data: bytes) -> tuple[bytes, tuple]:
    """(token, (fid, args, kwargs)) for a call, (token, (op, ...)) otherwise (trusted bytes)."""
    token, tag = data[:TOKEN], data[TOKEN : TOKEN + 1]
    if tag == CALL:
        args = decode(data, allow_nonfinite=True, records=True, start=TOKEN + 5, bounded=False)
        return token, (_fid_unpack(data, TOKEN + 1)[0], args, None)
    if tag == CALL_KW:
        args, kwargs = decode(data, allow_nonfinite=True, records=True, start=TOKEN + 5, bounded=False)
        return token, (_fid_unpack(data, TOKEN + 1)[0], args, kwargs)
    if tag == OP:
        return token, decode(data, allow_nonfinite=True, records=True, start=TOKEN + 1, bounded=False)
    raise DecodeError(f"unknown request tag {tag!r}")


def read_reply(data: bytes, token: bytes, allow_nonfinite: bool) -> tuple[bool, Any]:
    """(True, value) or (False, (kind, message, traceback)); DecodeError on anything else, including
    a reply that does not carry `token` (hostile bytes)."""
    if data[:TOKEN] != token:
        raise DecodeError("a reply that does not answer this request (written ahead of it, or out of turn)")
    tag = data[TOKEN : TOKEN + 1]
    if tag == OK:
        return True, decode(data, allow_nonfinite=allow_nonfinite, start=TOKEN + 1)
    if tag == ERR:
        body = decode(data, allow_nonfinite=True, start=TOKEN + 1)
        if type(body) is tuple and len(body) == 3 and all(type(x) is str for x in body):
            return False, body
    raise DecodeError("malformed reply")
