"""Content-addressed evidence: raw outputs stored once under their sha256 (`evidence/ab/cdef...`)."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from pathlib import Path

from syslab.errors import SyslabError

_SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobStore:
    """A directory of immutable blobs named by the sha256 of their bytes.

    Writes go to a temporary file in the target folder and are renamed into place, so a reader
    (or a run killed mid-write) never sees a partial blob under its final name; an existing blob
    is never rewritten (dedup).
    """

    def __init__(self, root: Path, readonly: bool = False):
        self.root = Path(root)
        self.readonly = readonly
        self._tmp_counter = itertools.count()

    def path(self, sha: str) -> Path:
        if not _SHA256.fullmatch(sha):
            # Also guards against path traversal through a crafted name.
            raise SyslabError(f"{self.root}: not a sha256 blob name: {sha!r}")
        return self.root / sha[:2] / sha[2:]

    def has(self, sha: str) -> bool:
        return self.path(sha).exists()

    def put(self, data: bytes | str) -> str:
        if isinstance(data, str):
            data = data.encode("utf-8")
        sha = hashlib.sha256(data).hexdigest()
        final = self.root / sha[:2] / sha[2:]
        if final.exists():
            return sha
        if self.readonly:
            raise SyslabError(f"{self.root}: store opened read-only, cannot write evidence")
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".tmp-{os.getpid()}-{next(self._tmp_counter)}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, final)
        return sha

    def remove_temp_files(self) -> None:
        """Drop partial writes a killed writer left behind (never visible under a blob's name)."""
        for p in self.root.glob("*/.tmp-*"):
            p.unlink(missing_ok=True)

    def get(self, sha: str) -> bytes:
        p = self.path(sha)
        try:
            return p.read_bytes()
        except FileNotFoundError:
            raise SyslabError(f"{self.root}: no evidence blob {sha}") from None
