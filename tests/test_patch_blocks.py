"""EVOLVE-BLOCK utilities and the normalised code hash."""

from __future__ import annotations

import pytest

from syslab.agents.patch import (
    PatchError,
    code_hash,
    evolve_blocks,
    find_evolve_blocks,
    normalise_code,
    replace_evolve_blocks,
)

PROGRAM = """import math   \r
# fixed header
X = 1
# EVOLVE-BLOCK-START
def f(x):
    return x + 1
# EVOLVE-BLOCK-END
Y = 2  # fixed middle
    # EVOLVE-BLOCK-START (indented marker)
G = 0.5
# EVOLVE-BLOCK-END
tail = "no newline at end"
"""[:-1]


def test_finds_each_block_span_and_text() -> None:
    assert find_evolve_blocks(PROGRAM) == [(4, 6), (9, 10)]
    assert evolve_blocks(PROGRAM) == ["def f(x):\n    return x + 1\n", "G = 0.5\n"]


def test_replace_keeps_every_byte_outside_the_blocks() -> None:
    new = replace_evolve_blocks(PROGRAM, ["def f(x):\n    return 2 * x", "G = 0.75\nH = 3\n"])
    assert evolve_blocks(new) == ["def f(x):\n    return 2 * x\n", "G = 0.75\nH = 3\n"]
    old_lines, new_lines = PROGRAM.splitlines(keepends=True), new.splitlines(keepends=True)
    assert new_lines[:4] == old_lines[:4]  # header, '\r\n' and trailing spaces included
    assert new_lines[6:9] == old_lines[6:9]
    assert new_lines[-2:] == old_lines[-2:]  # END marker and the unterminated last line
    assert new.endswith('"no newline at end"')
    assert replace_evolve_blocks(new, evolve_blocks(PROGRAM)) == PROGRAM


def test_empty_replacement_and_identity() -> None:
    assert replace_evolve_blocks(PROGRAM, evolve_blocks(PROGRAM)) == PROGRAM
    emptied = replace_evolve_blocks(PROGRAM, ["", "G = 1\n"])
    assert evolve_blocks(emptied) == ["", "G = 1\n"]


def test_missing_or_broken_markers() -> None:
    assert find_evolve_blocks("x = 1\n") == []
    with pytest.raises(PatchError, match="no EVOLVE-BLOCK"):
        replace_evolve_blocks("x = 1\n", ["y = 2\n"])
    with pytest.raises(PatchError, match="never closed"):
        find_evolve_blocks("# EVOLVE-BLOCK-START\nx = 1\n")
    with pytest.raises(PatchError, match="without a matching"):
        find_evolve_blocks("x = 1\n# EVOLVE-BLOCK-END\n")
    with pytest.raises(PatchError, match="inside a block"):
        find_evolve_blocks("# EVOLVE-BLOCK-START\n# EVOLVE-BLOCK-START\n# EVOLVE-BLOCK-END\n")
    with pytest.raises(PatchError, match="2 evolve block"):
        replace_evolve_blocks(PROGRAM, ["x = 1\n"])


def test_marker_text_in_code_is_not_a_marker() -> None:
    code = 's = "EVOLVE-BLOCK-START"\n# EVOLVE-BLOCK-START\nx = 1\n# EVOLVE-BLOCK-END\n'
    assert find_evolve_blocks(code) == [(2, 3)]


def test_code_hash_ignores_comments_blank_lines_and_trailing_space() -> None:
    a = "def f(x):\n    return x + 1\n"
    b = "# a comment\ndef f(x):   \n\n    # explain\n    return x + 1  # inline\n\n\n"
    assert normalise_code(a) == normalise_code(b)
    assert code_hash(a) == code_hash(b)
    assert code_hash(a) != code_hash("def f(x):\n    return x + 2\n")
    assert code_hash(a) != code_hash("def f(x):\n  return x + 1\n")  # indentation is code


def test_code_hash_keeps_string_contents() -> None:
    a = 's = """line\n\n# not a comment  \n"""\nt = "#x"\n'
    b = 's = """line\n# not a comment\n"""\nt = "#x"\n'
    assert "# not a comment  " in normalise_code(a)
    assert code_hash(a) != code_hash(b)
    assert code_hash('t = "#x"\n') != code_hash('t = "#y"\n')


def test_normalise_survives_untokenizable_code() -> None:
    assert normalise_code("def f(:\n   \n  x = '\n") == "def f(:\n  x = '\n"
