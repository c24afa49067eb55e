"""The candidate channel's wire format: plain data only, decoded into fresh builtin objects.

What crosses between the trusted evaluator and the candidate process:
None, bool, int, float, complex, str, bytes, lists, tuples, dicts of those,
numpy arrays (dtype + shape + raw bytes, numeric dtypes only; a list of 1-D
arrays of one dtype goes as one run of bytes and comes back as views of one
fresh copy) and, from the
trusted side to the candidate only, records (`types.SimpleNamespace`: a copy
of some observable state, read by attribute). Nothing is pickled, no code
object or class crosses, and a decoded value is built here from the bytes, so
it has exactly the builtin type of its tag whatever the sender's objects were.

`decode` is the trusted side's gate and assumes hostile bytes: every length is
checked against what is left before anything is allocated, nesting is bounded,
the memory the decoded objects take is bounded by 5x the message's length (plus
2 MiB: bulk data goes in arrays, which cost what they weigh),
non-finite floats are refused unless allowed, array dtypes come from a fixed
list, and trailing bytes are an error. It never raises anything but
`DecodeError`.

Only the standard library at import time: the candidate runtime imports this
before the candidate's program, and numpy is loaded on the first array.
"""

from __future__ import annotations

import enum
import math
import struct
import sys
import types
from typing import Any

MAX_DEPTH = 64
# What the decoded objects may cost in memory, per byte of message (plus a fixed slack): a list of
# floats costs ~3.6x its wire size, of ints ~4x; a message of empty dicts or one-character strings
# would cost 10-13x and is refused. Bulk data belongs in arrays, which cost what they weigh.
MEMORY_PER_BYTE = 5
MEMORY_SLACK = 2 << 20
_TOO_BIG = "message decodes into too many small objects for its size: send bulk data as numpy arrays"
# numpy's dtype.str of the numeric dtypes that may cross (little-endian, or byte-sized).
ARRAY_DTYPES = frozenset(
    ["|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16"]
)
# One-byte tags.
T_NONE, T_TRUE, T_FALSE, T_INT, T_BIGINT, T_FLOAT, T_COMPLEX = b"N", b"T", b"F", b"i", b"I", b"f", b"c"
T_STR, T_BYTES, T_LIST, T_TUPLE, T_DICT, T_ARRAY, T_RECORD = b"s", b"b", b"l", b"t", b"d", b"a", b"r"
T_ARRAYS = b"A"  # a list of 1-D arrays of one dtype: their lengths, then all their bytes in one run

_Q = struct.Struct("<q")
_D = struct.Struct("<d")
_DD = struct.Struct("<dd")
_L = struct.Struct("<I")
_q_pack, _d_pack, _L_pack = _Q.pack, _D.pack, _L.pack
_tag_d, _tag_q, _tag_L = struct.Struct("<cd").pack, struct.Struct("<cq").pack, struct.Struct("<cI").pack
_q_unpack, _d_unpack, _L_unpack, _dd_unpack = _Q.unpack_from, _D.unpack_from, _L.unpack_from, _DD.unpack_from
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1


class EncodeError(TypeError):
    """A value that is not plain data (the message names its type and where it sits)."""


class DecodeError(ValueError):
    """Bytes that are not a well-formed message within the limits (one line, says what and where)."""


def encode(value: Any, *, records: bool = True) -> bytes:
    """Encode plain data. `records=False` (the candidate side) refuses SimpleNamespace."""
    out: list[bytes] = []
    _encode(value, out, 0, records)
    return b"".join(out)


def _encode(v: Any, out: list[bytes], depth: int, records: bool) -> None:  # noqa: C901 - one dispatch
    t = type(v)
    if t is float:
        out.append(_tag_d(T_FLOAT, v))
    elif t is int:
        if _INT_MIN <= v <= _INT_MAX:
            out.append(_tag_q(T_INT, v))
        else:
            raw = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
            out.append(_tag_L(T_BIGINT, len(raw)) + raw)
    elif t is str:
        raw = v.encode("utf-8", "surrogatepass")
        out.append(_tag_L(T_STR, len(raw)))
        out.append(raw)
    elif v is None:
        out.append(T_NONE)
    elif v is True:
        out.append(T_TRUE)
    elif v is False:
        out.append(T_FALSE)
    elif t is list and len(v) > 1 and type(v[0]) is _ndarray_type() and _encode_arrays(v, out):
        pass
    elif t is list or t is tuple:
        if depth >= MAX_DEPTH:
            raise EncodeError(f"nested deeper than {MAX_DEPTH} levels")
        out.append(_tag_L(T_LIST if t is list else T_TUPLE, len(v)))
        for item in v:
            _encode(item, out, depth + 1, records)
    elif t is dict:
        if depth >= MAX_DEPTH:
            raise EncodeError(f"nested deeper than {MAX_DEPTH} levels")
        out.append(T_DICT + _L_pack(len(v)))
        for key, item in v.items():
            _encode(key, out, depth + 1, records)
            _encode(item, out, depth + 1, records)
    elif t is bytes or t is bytearray or t is memoryview:
        raw = bytes(v)
        out.append(b"b" + _L_pack(len(raw)))
        out.append(raw)
    elif t is complex:
        out.append(b"c" + _DD.pack(v.real, v.imag))
    elif t is _ndarray_type():
        _encode_array(v, out)
    elif t.__module__ == "numpy" and hasattr(v, "item") and hasattr(v, "dtype"):  # numpy scalar
        _encode(v.item(), out, depth, records)
    elif t is types.SimpleNamespace:
        if not records:
            raise EncodeError("records (SimpleNamespace) only go to the candidate")
        _encode_record(v, out, depth, records)
    elif isinstance(v, enum.Enum):
        _encode(v.value, out, depth, records)
    elif isinstance(v, bool):
        out.append(T_TRUE if v else T_FALSE)
    elif isinstance(v, int):
        _encode(int.__index__(v), out, depth, records)
    elif isinstance(v, float):
        _encode(float.__float__(v), out, depth, records)
    elif isinstance(v, str):
        _encode(str.__str__(v), out, depth, records)
    elif isinstance(v, (list, tuple)):
        _encode(list(v) if isinstance(v, list) else tuple(v), out, depth, records)
    elif isinstance(v, dict):
        _encode(dict(v), out, depth, records)
    else:
        raise EncodeError(f"cannot send a {t.__module__}.{t.__qualname__}: only plain data crosses")


_ARRAY_HEADS: dict[Any, bytes] = {}


def _ndarray_type() -> type | None:
    np = sys.modules.get("numpy")
    return getattr(np, "ndarray", None)


def _encode_array(a: Any, out: list[bytes]) -> None:
    head = _ARRAY_HEADS.get(a.dtype)
    if head is None:
        native = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if native.str not in ARRAY_DTYPES:
            raise EncodeError(f"cannot send a numpy array of dtype {a.dtype} (numeric dtypes only)")
        if native != a.dtype:
            return _encode_array(a.astype(native), out)
        dtb = native.str.encode()
        head = _ARRAY_HEADS[a.dtype] = T_ARRAY + bytes((len(dtb),)) + dtb
    shape = a.shape
    if len(shape) > 32:
        raise EncodeError("arrays of more than 32 dimensions cannot be sent")
    raw = a.tobytes()
    out.append(head + bytes((len(shape),)) + _SHAPES[len(shape)].pack(*shape) + _q_pack(len(raw)))
    out.append(raw)


def _encode_arrays(arrays: list, out: list[bytes]) -> bool:
    """A list of 1-D arrays of one sendable dtype as one T_ARRAYS value (False: not such a list).

    One header for the lot instead of one per array: a batch of calls over arrays (a priority
    function asked about several instances' bins at once) is a few calls to send and read back."""
    kind, dtype = type(arrays[0]), arrays[0].dtype
    if dtype.str not in ARRAY_DTYPES:
        return False  # the generic path converts or refuses it, array by array
    lengths, raws = [], []
    for a in arrays:
        if type(a) is not kind or a.ndim != 1 or a.dtype != dtype:
            return False
        lengths.append(len(a))
        raws.append(a.tobytes())
    dtb = dtype.str.encode()
    out.append(T_ARRAYS + bytes((len(dtb),)) + dtb + _L_pack(len(arrays)))
    out.append(struct.pack(f"<{len(lengths)}q", *lengths))
    out.append(_q_pack(sum(map(len, raws))))
    out.extend(raws)
    return True


def _encode_record(v: types.SimpleNamespace, out: list[bytes], depth: int, records: bool) -> None:
    fields = vars(v)
    out.append(T_RECORD + _L_pack(len(fields)))
    for name, item in fields.items():
        if type(name) is not str or not name.isidentifier():
            raise EncodeError(f"record field {name!r} is not an identifier")
        _encode(name, out, depth + 1, records)
        _encode(item, out, depth + 1, records)


def decode(
    data: bytes, *, allow_nonfinite: bool = False, records: bool = False, start: int = 0, bounded: bool = True
) -> Any:
    """Decode one value that fills `data` from `start` to the end.

    `records=True` (the candidate side) turns records into SimpleNamespace; `bounded=False` (also
    the candidate side: the data comes from the trusted evaluator) lifts the container budget."""
    buf = data if type(data) is bytes else bytes(data)
    budget = [MEMORY_PER_BYTE * len(buf) + MEMORY_SLACK if bounded else 1 << 62]
    try:
        value, pos = _decode_at(buf, start, 0, not allow_nonfinite, records, budget)
    except DecodeError:
        raise
    except (struct.error, IndexError, UnicodeDecodeError, OverflowError, MemoryError, ValueError) as e:
        raise DecodeError(f"malformed message: {type(e).__name__}: {e}") from None
    except RecursionError:
        raise DecodeError("malformed message: nested too deeply") from None
    if pos != len(buf):
        raise DecodeError(f"malformed message: {len(buf) - pos} trailing bytes")
    if budget[0] < 0:
        raise DecodeError(_TOO_BIG)
    return value


def _short(what: str) -> DecodeError:
    return DecodeError(f"malformed message: truncated {what}")


def _decode_at(  # noqa: C901
    buf: bytes, pos: int, depth: int, finite: bool, records: bool, budget: list[int]
) -> tuple[Any, int]:
    """(value, next position). Lengths are checked before slicing or allocating."""
    end = len(buf)
    if pos >= end:
        raise _short("message")
    tag = buf[pos]
    pos += 1
    if tag == 0x66:  # f
        if pos + 8 > end:
            raise _short("float")
        x = _d_unpack(buf, pos)[0]
        if finite and not _isfinite(x):
            raise DecodeError(f"non-finite number {x!r} (not allowed by this task)")
        budget[0] -= 24
        return x, pos + 8
    if tag == 0x69:  # i
        if pos + 8 > end:
            raise _short("int")
        budget[0] -= 32
        return _q_unpack(buf, pos)[0], pos + 8
    if tag == 0x73 or tag == 0x62 or tag == 0x49:  # s b I: a u32 length, then the bytes
        if pos + 4 > end:
            raise _short("length")
        n = _L_unpack(buf, pos)[0]
        pos += 4
        if pos + n > end:
            raise _short("string")
        budget[0] -= 64 + n
        if budget[0] < 0:
            raise DecodeError(_TOO_BIG)
        if tag == 0x73:
            return buf[pos : pos + n].decode("utf-8", "surrogatepass"), pos + n
        if tag == 0x62:
            return buf[pos : pos + n], pos + n
        if n > 4096:
            raise DecodeError("malformed message: integer longer than 4096 bytes")
        return int.from_bytes(buf[pos : pos + n], "little", signed=True), pos + n
    if tag == 0x4E:
        return None, pos
    if tag == 0x54:
        return True, pos
    if tag == 0x46:
        return False, pos
    if tag == 0x6C or tag == 0x74 or tag == 0x64 or tag == 0x72:  # l t d r
        if depth >= MAX_DEPTH:
            raise DecodeError(f"malformed message: nested deeper than {MAX_DEPTH} levels")
        if pos + 4 > end:
            raise _short("length")
        n = _L_unpack(buf, pos)[0]
        pos += 4
        if n > end - pos:  # every item takes at least one byte: no huge allocation from a forged count
            raise DecodeError(f"malformed message: {n} items claimed, {end - pos} bytes left")
        budget[0] -= 64 + (8 if tag == 0x6C or tag == 0x74 else 80) * n  # the container, not its items
        if budget[0] < 0:
            raise DecodeError(_TOO_BIG)
        depth += 1
        if tag == 0x6C or tag == 0x74:
            items = [None] * n
            for i in range(n):
                items[i], pos = _decode_at(buf, pos, depth, finite, records, budget)
            return (items if tag == 0x6C else tuple(items)), pos
        if tag == 0x72 and not records:
            raise DecodeError("malformed message: a record where only plain data is allowed")
        out: dict = {}
        for _ in range(n):
            key, pos = _decode_at(buf, pos, depth, finite, records, budget)
            tk = type(key)
            if tk is list or tk is dict or (tk is tuple and not _hashable(key)):
                raise DecodeError(f"malformed message: dict key of type {tk.__name__}")
            if tag == 0x72 and (tk is not str or not key.isidentifier()):
                raise DecodeError("malformed message: record field name")
            out[key], pos = _decode_at(buf, pos, depth, finite, records, budget)
        return (out if tag == 0x64 else types.SimpleNamespace(**out)), pos
    if tag == 0x61:  # a
        budget[0] -= 112
        return _decode_array(buf, pos, finite)
    if tag == 0x41:  # A
        return _decode_arrays(buf, pos, finite, budget)
    if tag == 0x63:  # c
        if pos + 16 > end:
            raise _short("complex")
        re_, im = _dd_unpack(buf, pos)
        budget[0] -= 32
        if finite and not (_isfinite(re_) and _isfinite(im)):
            raise DecodeError("non-finite complex number (not allowed by this task)")
        return complex(re_, im), pos + 16
    raise DecodeError(f"malformed message: unknown tag {tag:#04x} at byte {pos - 1}")


_isfinite = math.isfinite
_DTYPES: dict[bytes, tuple[Any, int, bool, bool]] = {}  # raw dtype str -> (dtype, itemsize, float?, f8?)
_SHAPES = [struct.Struct(f"<{n}q") for n in range(33)]


def _dtype_info(raw: bytes) -> tuple[Any, int, bool, bool]:
    import numpy as np

    name = raw.decode("ascii", "replace")
    if name not in ARRAY_DTYPES:
        raise DecodeError(f"array dtype {name!r} is not allowed (numeric dtypes only)")
    dtype = np.dtype(name)
    info = (dtype, dtype.itemsize, dtype.kind in "fc", name == "<f8")
    _DTYPES[raw] = info
    return info


def _read_dtype(buf: bytes, pos: int, what: str) -> tuple[tuple[Any, int, bool, bool], int]:
    """An array value's dtype (a length byte, then numpy's dtype.str): its info, and the next position."""
    if pos + 1 > len(buf):
        raise _short(what)
    k = buf[pos]
    raw_dt = buf[pos + 1 : pos + 1 + k]
    return _DTYPES.get(raw_dt) or _dtype_info(raw_dt), pos + 1 + k


def _decode_array(buf: bytes, pos: int, finite: bool) -> tuple[Any, int]:
    end = len(buf)
    (dtype, itemsize, floating, f8), pos = _read_dtype(buf, pos, "array")
    if pos + 1 > end:
        raise _short("array")
    ndim = buf[pos]
    pos += 1
    if ndim > 32:
        raise DecodeError("malformed message: array of more than 32 dimensions")
    if pos + 8 * ndim + 8 > end:
        raise _short("array shape")
    shape = _SHAPES[ndim].unpack_from(buf, pos)
    pos += 8 * ndim
    nbytes = _q_unpack(buf, pos)[0]
    pos += 8
    if ndim == 1:
        count = shape[0]
        negative = count < 0
    else:
        count = math.prod(shape)
        negative = any(n < 0 for n in shape)
    if negative or count * itemsize != nbytes or pos + nbytes > end:
        raise DecodeError(f"malformed message: array shape {shape} does not match {nbytes} bytes")
    np = sys.modules["numpy"]
    data = buf[pos : pos + nbytes]
    arr = np.frombuffer(bytearray(data), dtype=dtype)  # a writable copy
    if ndim != 1:
        arr = arr.reshape(shape)
    if finite and floating:
        if f8 and count <= 32:  # small float arrays: cheaper in Python than two ufunc calls
            ok = all(map(_isfinite, memoryview(data).cast("d")))
        else:
            ok = bool(np.isfinite(arr).all())
        if not ok:
            raise DecodeError("array holds NaN or infinite values (not allowed by this task)")
    return arr, pos + nbytes


def _decode_arrays(buf: bytes, pos: int, finite: bool, budget: list[int]) -> tuple[list, int]:
    """A T_ARRAYS value: a list of 1-D arrays, each a writable view of one fresh copy of the data."""
    end = len(buf)
    (dtype, itemsize, floating, _), pos = _read_dtype(buf, pos, "array list")
    if pos + 4 > end:
        raise _short("array list")
    n = _L_unpack(buf, pos)[0]
    pos += 4
    if 8 * n + 8 > end - pos:  # the lengths are there before anything is allocated for them
        raise DecodeError(f"malformed message: {n} arrays claimed, {end - pos} bytes left")
    budget[0] -= 64 + 120 * n  # the list and each array object (its data is in the message)
    if budget[0] < 0:
        raise DecodeError(_TOO_BIG)
    lengths = struct.unpack_from(f"<{n}q", buf, pos)
    pos += 8 * n
    nbytes = _q_unpack(buf, pos)[0]
    pos += 8
    if (n and min(lengths) < 0) or sum(lengths) * itemsize != nbytes or pos + nbytes > end:
        raise DecodeError(f"malformed message: {n} array lengths do not match {nbytes} bytes")
    np = sys.modules["numpy"]
    flat = np.frombuffer(bytearray(buf[pos : pos + nbytes]), dtype=dtype)  # a writable copy
    if finite and floating and not bool(np.isfinite(flat).all()):
        raise DecodeError("array holds NaN or infinite values (not allowed by this task)")
    arrays, at = [None] * n, 0
    for i, length in enumerate(lengths):
        arrays[i] = flat[at : at + length]
        at += length
    return arrays, pos + nbytes


def _hashable(t: tuple) -> bool:
    return all(type(x) not in (list, dict) and (type(x) is not tuple or _hashable(x)) for x in t)


def describe(value: Any, limit: int = 80) -> str:
    """A short, safe description of a decoded value for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


if sys.byteorder != "little":  # the wire is little-endian; arrays are sent as they lie in memory
    raise ImportError("syslab's candidate channel needs a little-endian host")
