"""The codec's list-of-arrays value (T_ARRAYS): one run of bytes for a batch of 1-D arrays.

Round trips keep values, types and independence; hostile bytes are refused with a DecodeError
before anything large is allocated."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from syslab.evaluators import codec


def _arrays(dtype: bytes, lengths: tuple[int, ...], data: bytes, count: int | None = None) -> bytes:
    n = len(lengths) if count is None else count
    head = b"A" + bytes([len(dtype)]) + dtype + struct.pack("<I", n)
    return head + struct.pack(f"<{len(lengths)}q", *lengths) + struct.pack("<q", len(data)) + data


def test_a_list_of_1d_arrays_crosses_as_one_value_and_comes_back_as_it_went() -> None:
    sent = [np.arange(3.0), np.array([], dtype=np.float64), np.linspace(0, 1, 7)[::2]]
    wire = codec.encode(sent)
    assert wire[:1] == b"A"  # one header, not one per array
    got = codec.decode(wire)
    assert type(got) is list and len(got) == 3
    for a, b in zip(got, sent, strict=True):
        assert type(a) is np.ndarray and a.dtype == b.dtype and np.array_equal(a, b)
    got[0][0] = 99.0  # writable, and no array sees another's write
    assert got[2][0] == 0.0 and got[1].size == 0 and sent[0][0] == 0.0


@pytest.mark.parametrize(
    "value",
    [
        [np.arange(3.0), [1.0, 2.0]],  # not all arrays
        [np.arange(3.0), np.arange(3)],  # two dtypes
        [np.ones((2, 2)), np.ones((2, 2))],  # not 1-D
        [np.arange(3.0).astype(">f8"), np.arange(2.0).astype(">f8")],  # big-endian: converted
        (np.arange(3.0), np.arange(2.0)),  # a tuple stays a tuple
    ],
    ids=["mixed", "two_dtypes", "2d", "big_endian", "tuple"],
)
def test_other_sequences_of_arrays_take_the_generic_path_and_keep_their_values(value: object) -> None:
    wire = codec.encode(value)
    assert wire[:1] != b"A"
    got = codec.decode(wire)
    assert type(got) is type(value) and len(got) == len(value)
    for a, b in zip(got, value, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_non_finite_values_in_an_array_list_are_refused_unless_allowed() -> None:
    wire = codec.encode([np.array([1.0, math.inf]), np.array([2.0])])
    with pytest.raises(codec.DecodeError, match="NaN or infinite"):
        codec.decode(wire)
    assert math.isinf(codec.decode(wire, allow_nonfinite=True)[0][1])


HOSTILE = {
    # Lengths that sum to the data but one is negative: a view that reads another array's bytes.
    "negative_length": _arrays(b"<f8", (-1, 2), b"\0" * 8),
    "lengths_over_data": _arrays(b"<f8", (1000,), b"\0" * 8),
    "data_truncated": _arrays(b"<f8", (2,), b"\0" * 16)[:-4],
    "count_bomb": _arrays(b"<f8", (), b"", count=0xFFFFFFFF),
    "object_dtype": _arrays(b"|O8", (1,), b"\0" * 8),
    "nan": _arrays(b"<f8", (1,), struct.pack("<d", math.nan)),
    # A million empty arrays in 8 MB: ~100 MB of array objects; over the memory budget.
    "many_empty_arrays": _arrays(b"<f8", (0,) * 1_000_000, b""),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_array_lists_are_refused(name: str) -> None:
    with pytest.raises(codec.DecodeError):
        codec.decode(HOSTILE[name])
