"""Red team on the channel itself (classes B and I): hand-made frames, replies sent before they are
asked for, and replies that are small on the wire but large once decoded.

The candidate owns its process, so it can bypass its encoder and write any bytes into its end of
the channel. The trusted side must refuse every malformed frame with one clear failure, must not
take an answer written before the request as the answer to it, and must not let one reply blow up
its own (unsandboxed) memory.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from syslab.evaluators import codec

from .hostile_support import (
    FAMILIES,
    RecordingProcessSandbox,
    build,
    honest_result,
    outcome_error,
    run_hostile,
)

SANDBOX = RecordingProcessSandbox()


def _u32(n: int) -> bytes:
    return struct.pack("<I", n)


def _q(*n: int) -> bytes:
    return struct.pack(f"<{len(n)}q", *n)


def _array(dtype: bytes, shape: tuple[int, ...], data: bytes) -> bytes:
    return b"a" + bytes([len(dtype)]) + dtype + bytes([len(shape)]) + _q(*shape) + _q(len(data)) + data


# name -> (frame, allowed failure kinds). A frame starting with O/E is sent with a length prefix.
FRAMES = {
    "unknown_tag": (b"OZ", {"invalid_output"}),
    "record_from_candidate": (b"Or" + _u32(1) + b"s" + _u32(1) + b"xN", {"invalid_output"}),
    "object_dtype_array": (b"O" + _array(b"|O8", (1,), b"\0" * 8), {"invalid_output"}),
    "negative_shape_product": (b"O" + _array(b"<f8", (-1, -8), b"\0" * 64), {"invalid_output"}),
    "float16_inf_array": (b"O" + _array(b"<f2", (1,), struct.pack("<e", math.inf)), {"invalid_output"}),
    "count_bomb": (b"Ol" + _u32(0xFFFFFFFF), {"invalid_output"}),
    # A list of arrays whose lengths add up to its data, one negative: views over others' bytes.
    "array_list_negative_length": (
        b"OA" + bytes([3]) + b"<f8" + _u32(2) + _q(-1, 2) + _q(8) + b"\0" * 8,
        {"invalid_output"},
    ),
    "depth_bomb": (b"O" + b"l" + _u32(1) + (b"l" + _u32(1)) * 100_000 + b"N", {"invalid_output"}),
    "bigint_5000_bytes": (b"OI" + _u32(5000) + b"\x7f" * 5000, {"invalid_output"}),
    "trailing_bytes": (b"Oi" + _q(1) + b"junk", {"invalid_output"}),
    "invalid_utf8": (b"Os" + _u32(2) + b"\xff\xfe", {"invalid_output"}),
    "nan": (b"Of" + struct.pack("<d", math.nan), {"invalid_output"}),
    "dict_with_list_key": (b"Od" + _u32(1) + b"l" + _u32(0) + b"N", {"invalid_output"}),
    "error_not_strings": (b"E" + codec.encode((1, 2, 3)), {"invalid_output"}),
    "error_claims_evaluator_fault": (
        b"E" + codec.encode(("evaluator_error", "the scorer broke", "")),
        {"runtime"},
    ),
    "header_4gb": (_u32(0xFFFFFFFF), {"invalid_output"}),
    "truncated": (_u32(100) + b"O" + b"N" * 9, {"runtime", "invalid_output"}),
}


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


@contextlib.contextmanager
def trusted_peak() -> Iterator[list[float]]:
    """Polls the peak resident memory (VmHWM, MB) of our trusted evaluator processes meanwhile."""
    peak, done, me = [0.0], threading.Event(), str(os.getpid())

    def poll() -> None:
        while not done.wait(0.02):
            for name in os.listdir("/proc"):
                if not name.isdigit() or _read(f"/proc/{name}/stat").rsplit(")", 1)[-1].split()[1:2] != [me]:
                    continue
                if "syslab.evaluators.trusted" not in _read(f"/proc/{name}/cmdline").replace("\0", " "):
                    continue
                for line in _read(f"/proc/{name}/status").splitlines():
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]) / 1024)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_malformed_frame_is_refused(name: str, temp_root: Path) -> None:
    frame, allowed = FRAMES[name]
    family = FAMILIES["decision"]
    code = build(family, "i_wire_frame", FRAME=repr(frame), WHY=name)
    out = run_hostile(family.task(), code, SANDBOX, temp_root)
    error = outcome_error(out, honest_result(family, SANDBOX), family, allowed)
    assert error is None, error
    assert out.problems == [], out.problems
    assert out.wall_s < 10, f"took {out.wall_s:.1f} s"


def test_reply_written_before_the_request_is_not_the_answer(temp_root: Path) -> None:
    """kernel_mini times repeated calls on the trusted clock; replies written ahead must not count."""
    family = FAMILIES["kernel"]
    honest = honest_result(family, SANDBOX)
    out = run_hostile(family.task(), build(family, "b_pipeline", AHEAD=100), SANDBOX, temp_root)
    error = outcome_error(out, honest, family, {"honest", "invalid_output"})
    assert error is None, (
        f"replies written ahead of their requests were timed: {error} "
        f"(request tokens predictable from the ones seen, or none at all)"
    )
    assert out.problems == [], out.problems


@pytest.fixture(scope="module")
def honest_trusted_peak_mb() -> float:
    family = FAMILIES["decision"]
    with trusted_peak() as peak:
        run_hostile(family.task(), build(family), SANDBOX, None)
    return peak[0]


@pytest.mark.parametrize("kind", ["empty_dicts", "cjk_strings", "dict_entries", "short_bytes", "floats"])
def test_decoding_one_reply_does_not_blow_up_the_trusted_process(
    kind: str, temp_root: Path, honest_trusted_peak_mb: float
) -> None:
    """A reply just under the task's cap (decision_mini: 4 MB) of items that are small on the wire.
    The trusted process (unsandboxed, no memory limit of its own) may spend a few times the cap on
    it: the raw message, a copy, decoded numbers (a float costs 3.6x its 9 bytes); not an object of
    tens of bytes per 5-10 bytes of message. Bound: 8x the cap over the honest candidate's peak."""
    family = FAMILIES["decision"]
    task = family.task()
    cap = task.spec.sandbox.max_message_mb << 20
    with trusted_peak() as peak:
        out = run_hostile(task, build(family, "i_amplify", KIND=kind, BYTES=cap - 64), SANDBOX, temp_root)
    error = outcome_error(out, None, family, {"invalid_output"})
    assert error is None, error
    assert out.problems == [], out.problems
    grown = peak[0] - honest_trusted_peak_mb
    assert grown <= 8 * (cap >> 20), (
        f"one {cap >> 20} MB reply of {kind} grew the trusted process by {grown:.0f} MB "
        f"(peak {peak[0]:.0f} MB, honest {honest_trusted_peak_mb:.0f} MB)"
    )
