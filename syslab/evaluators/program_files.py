"""Files that travel with a candidate program into its sandboxed process (split mode).

A program is usually one file of code. Some are not: a leaderboard solution
finds its resources through `Path(__file__).parents[k]` (so it must sit at
the same depth of a copy of the layout it was written for) or imports helper
modules it ships beside it (`solver.py`, `utils.py`). `ProgramFiles` says
where the program file goes, which other files go with it and which of
their directories are importable.

The host writes it as one manifest file (`MANIFEST`) at the top of the
candidate's scratch dir (the sandbox copies only top-level files into its
private scratch); the candidate runtime (`candidate_runtime.unpack_files`) unpacks it there before the adapter
and the program load. Everything in it is the candidate's own: the trusted
side never reads it, and what the candidate does to it changes only what
the candidate computes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from syslab.evaluators.candidate_runtime import MANIFEST, relative_path


class ProgramFiles(BaseModel):
    """Where the program lands in the candidate's scratch dir, and what lands with it."""

    program: str = "program.py"  # the program file's path, relative to the scratch dir
    files: dict[str, bytes] = Field(default_factory=dict)  # relative path -> content
    import_dirs: list[str] = Field(default_factory=list)  # relative dirs put first on sys.path

    @field_validator("program")
    @classmethod
    def _program_relative(cls, v: str) -> str:
        return relative_path(v)

    @field_validator("import_dirs")
    @classmethod
    def _dirs_relative(cls, v: list[str]) -> list[str]:
        return [relative_path(d) for d in v]

    @field_validator("files")
    @classmethod
    def _files_relative(cls, v: dict[str, bytes]) -> dict[str, bytes]:
        return {relative_path(k): data for k, data in v.items()}

    def size(self) -> int:
        return sum(len(data) for data in self.files.values())

    def write_manifest(self, scratch: Path) -> Path:
        """The one file the host writes for these files: `scratch/MANIFEST`."""
        doc = {
            "program": self.program,
            "import_dirs": self.import_dirs,
            "files": {k: base64.b64encode(v).decode("ascii") for k, v in self.files.items()},
        }
        path = scratch / MANIFEST
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path
