"""Code history of a run: a bare git repository where every candidate is a commit of `program.py`.

Objects are built in-process (`program_commit`: the blob, tree and commit bytes and their sha1s,
so a node knows its commit before anything touches disk) and written without git's index or a
`git commit` subprocess: a batch at a time as one version-2 pack + index (`write_pack`), or as
loose objects when only a few wait. Per-candidate cost of the alternatives, measured on this
project's 2-core build machine under load (`benchmarks/perf/store_overhead.py --compare-git`):
one pack per 64 commits 0.12 ms; loose objects written directly 2.4 ms (three file
creations: the disk is the cost); gitdb's `LooseObjectDB.store` 2.5 ms; a long-lived `git
fast-import` with a checkpoint per commit (needed for it to be durable) 45-200 ms; gitpython
index add + commit 26-40 ms. gitdb also writes packs (`PackEntity.write_pack`, valid for `git
verify-pack`), but 1.55x slower per commit than `write_pack` here on the same batches (0.267 vs
0.172 ms, 2026-11-29, same benchmark), so this module keeps its own ~40-line writer. Reads go through gitdb for packed objects, so the repository also
stays readable after a user runs `git gc`.

Refs (what `git log` sees):
- `HEAD` -> `refs/heads/main`, a loose ref moved to the best candidate so far (before any valid
  result: the first committed node), so plain `git log` shows the best lineage.
- `refs/nodes/<id>` for every node with code, so `git log --all` lists every candidate, dead ends
  included. They live in `packed-refs`, appended one line per node: git accepts an unsorted
  packed-refs file without the `sorted` trait, so the append costs O(1) instead of rewriting the
  file. A line is one small O_APPEND write, so a SIGKILL does not tear it; a writable open still
  rewrites the file from the database (`rewrite_node_refs`) to drop any stale or torn line.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import os
import struct
import subprocess
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from syslab.errors import SyslabError

PROGRAM = "program.py"
AUTHOR = b"syslab <syslab@localhost>"
NODE_REF_PREFIX = "refs/nodes/"
REPACK_EVERY = 32  # packs written since the last background consolidation
PACK_THRESHOLD = 12  # objects; fewer are written loose (a slow run flushes a node at a time)
_PACK_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3}


class CodeRepo:
    def __init__(self, path: Path, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self.objects = self.path / "objects"
        if not (self.objects.is_dir() and (self.path / "HEAD").exists()):
            raise SyslabError(f"{self.path}: not a git repository")
        self._tmp_counter = itertools.count()
        self._made_dirs: set[str] = set()
        self._gitdb = None  # opened lazily: only needed for objects that are not loose
        self._packs_since_repack = 0
        self._repack: subprocess.Popen | None = None

    @classmethod
    def init(cls, path: Path) -> CodeRepo:
        import git  # gitpython; only needed once, to lay out a canonical bare repository

        git.Repo.init(str(path), bare=True, mkdir=True)
        (Path(path) / "HEAD").write_text("ref: refs/heads/main\n")
        return cls(path)

    # -- writing -----------------------------------------------------------------------------

    def write_object(self, kind: bytes, data: bytes) -> str:
        """Store one loose object (idempotent) and return its sha1 hex."""
        header = b"%s %d\0" % (kind, len(data))
        sha = hashlib.sha1(header + data).hexdigest()
        folder = self.objects / sha[:2]
        final = folder / sha[2:]
        if final.exists():
            return sha
        if self.readonly:
            raise SyslabError(f"{self.path}: opened read-only")
        if sha[:2] not in self._made_dirs:
            folder.mkdir(exist_ok=True)
            self._made_dirs.add(sha[:2])
        tmp = self.objects / f"tmp_obj_{os.getpid()}_{next(self._tmp_counter)}"
        with open(tmp, "wb") as f:
            f.write(zlib.compress(header + data, 1))
        os.replace(tmp, final)
        return sha

    def write_objects(self, objects: list[tuple[str, bytes, bytes]]) -> None:
        """Store (sha, kind, data) objects: loose for a handful, else one pack (.pack + .idx)."""
        if len(objects) < PACK_THRESHOLD:
            for _sha, kind, data in objects:
                self.write_object(kind, data)
        else:
            self.write_pack(objects)

    def write_pack(self, objects: list[tuple[str, bytes, bytes]]) -> None:
        """Write one version-2 pack of whole (undeltified) objects and its version-2 index.

        Two files per batch instead of one per object: creating files dominates the cost of
        loose objects on a busy disk. The .idx is renamed into place last, which is the moment
        git starts to see the pack."""
        if self.readonly:
            raise SyslabError(f"{self.path}: opened read-only")
        unique = {sha: (kind, data) for sha, kind, data in objects}
        body = bytearray(b"PACK" + struct.pack(">II", 2, len(unique)))
        entries: list[tuple[bytes, int, int]] = []  # (binsha, crc32, offset)
        for sha, (kind, data) in unique.items():
            offset = len(body)
            size = len(data)
            header = bytearray([(_PACK_TYPES[kind] << 4) | (size & 0x0F)])
            size >>= 4
            while size:
                header[-1] |= 0x80
                header.append(size & 0x7F)
                size >>= 7
            entry = bytes(header) + zlib.compress(data, 1)
            body += entry
            entries.append((bytes.fromhex(sha), zlib.crc32(entry), offset))
        pack_sum = hashlib.sha1(body).digest()
        body += pack_sum
        entries.sort()
        idx = bytearray(b"\377tOc" + struct.pack(">I", 2))
        fanout, i = [], 0
        for first in range(256):
            while i < len(entries) and entries[i][0][0] <= first:
                i += 1
            fanout.append(i)
        idx += struct.pack(">256I", *fanout)
        idx += b"".join(e[0] for e in entries)
        idx += struct.pack(f">{len(entries)}I", *(e[1] for e in entries))
        idx += struct.pack(f">{len(entries)}I", *(e[2] for e in entries))  # packs stay < 2 GiB
        idx += pack_sum
        idx += hashlib.sha1(idx).digest()
        folder = self.objects / "pack"
        folder.mkdir(exist_ok=True)
        name = f"pack-{pack_sum.hex()}"
        for ext, blob in ((".pack", body), (".idx", idx)):
            tmp = folder / f"tmp_{name}{ext}"
            with open(tmp, "wb") as f:
                f.write(blob)
            os.replace(tmp, folder / f"{name}{ext}")
        self._packs_since_repack += 1
        if self._packs_since_repack >= REPACK_EVERY:
            self._start_repack()

    def _start_repack(self) -> None:
        """Consolidate small packs in the background (`git repack --geometric=2`: amortised,
        rolls small packs into bigger ones), so that object lookups, which probe every pack, stay
        fast on a long run. One at a time; git leaves packs written meanwhile alone."""
        if self._repack is not None and self._repack.poll() is None:
            return
        self._packs_since_repack = 0
        self._repack = subprocess.Popen(
            [
                "git",
                "-c",
                "repack.writeBitmaps=false",
                "-C",
                str(self.path),
                "repack",
                "-d",
                "-q",
                "--geometric=2",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def close(self) -> None:
        """Wait for a background repack (it would finish on its own, but a caller that deletes
        the run directory next should not race it)."""
        if self._repack is not None:
            self._repack.wait()
            self._repack = None

    def append_node_refs(self, refs: list[tuple[int, str]]) -> None:
        """Make nodes reachable from `git log --all` (one O_APPEND write for all lines)."""
        if not refs:
            return
        text = "".join(f"{sha} {NODE_REF_PREFIX}{node_id}\n" for node_id, sha in refs)
        fd = os.open(self.path / "packed-refs", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def rewrite_node_refs(self, node_commits: dict[int, str]) -> None:
        """Rewrite packed-refs from the database: keep other refs, one line per node, no torn line."""
        packed = self.path / "packed-refs"
        keep: list[str] = []
        if packed.exists():
            for line in packed.read_text(errors="replace").split("\n"):
                parts = line.split(" ")
                if len(parts) == 2 and len(parts[0]) == 40 and not parts[1].startswith(NODE_REF_PREFIX):
                    keep.append(line + "\n")
        lines = keep + [f"{sha} {NODE_REF_PREFIX}{i}\n" for i, sha in sorted(node_commits.items())]
        text = "".join(lines)
        if packed.exists() and packed.read_text(errors="replace") == text:
            return
        lock = self.path / "packed-refs.lock"
        lock.write_text(text)
        os.replace(lock, packed)

    def remove_temp_files(self) -> None:
        """Drop temp files a killed writer left behind (only the names this module uses)."""
        for p in [*self.objects.glob("tmp_obj_*"), *(self.objects / "pack").glob("tmp_pack-*")]:
            p.unlink(missing_ok=True)

    def set_main(self, commit: str) -> None:
        """Point refs/heads/main (and so HEAD) at `commit`, atomically."""
        ref = self.path / "refs" / "heads" / "main"
        ref.parent.mkdir(parents=True, exist_ok=True)
        tmp = ref.parent / "main.lock"
        tmp.write_text(commit + "\n")
        os.replace(tmp, ref)

    def main(self) -> str | None:
        ref = self.path / "refs" / "heads" / "main"
        try:
            return ref.read_text().strip() or None
        except FileNotFoundError:
            return None

    # -- reading -----------------------------------------------------------------------------

    def read_object(self, sha: str) -> tuple[bytes, bytes]:
        """Return (type, data) of an object, loose or packed."""
        loose = self.objects / sha[:2] / sha[2:]
        try:
            raw = zlib.decompress(loose.read_bytes())
        except FileNotFoundError:
            return self._read_packed(sha)
        header, _, data = raw.partition(b"\0")
        return header.split(b" ", 1)[0], data

    def _read_packed(self, sha: str) -> tuple[bytes, bytes]:
        from gitdb import GitDB
        from gitdb.exc import BadObject

        if self._gitdb is None:
            self._gitdb = GitDB(str(self.objects))
        try:
            info = self._gitdb.stream(bytes.fromhex(sha))
        except Exception:
            # A repack or `git gc` may have moved it into a new pack, or removed a pack we had open.
            self._gitdb = GitDB(str(self.objects))
            try:
                info = self._gitdb.stream(bytes.fromhex(sha))
            except BadObject:
                raise SyslabError(f"{self.path}: missing git object {sha}") from None
        return info.type, info.read()

    def read_program(
        self, commit: str, read: Callable[[str], tuple[bytes, bytes]] | None = None
    ) -> str | None:
        """program.py as of `commit` (None if that commit has no program.py). `read` overrides
        the object lookup (the store passes one that also sees objects not yet flushed)."""
        read = read or self.read_object
        _, data = read(commit)
        tree = data.split(b"\n", 1)[0].split(b" ", 1)[1].decode()
        _, entries = read(tree)
        pos = 0
        while pos < len(entries):
            nul = entries.index(b"\0", pos)
            _mode, name = entries[pos:nul].split(b" ", 1)
            binsha = entries[nul + 1 : nul + 21]
            pos = nul + 21
            if name.decode() == PROGRAM:
                return read(binsha.hex())[1].decode("utf-8")
        return None


def object_sha(kind: bytes, data: bytes) -> str:
    return hashlib.sha1(b"%s %d\0" % (kind, len(data)) + data).hexdigest()


def program_commit(
    code: str, parent: str | None, message: str, timestamp: float | None = None
) -> list[tuple[str, bytes, bytes]]:
    """The blob, tree and commit objects (sha, kind, data) of one version of program.py; the
    commit is last. Pure: the shas are known before anything is written."""
    blob_data = code.encode("utf-8")
    blob = object_sha(b"blob", blob_data)
    tree_data = b"100644 " + PROGRAM.encode() + b"\0" + bytes.fromhex(blob)
    tree = object_sha(b"tree", tree_data)
    when = int(timestamp if timestamp else time.time())
    stamp = AUTHOR + b" %d +0000" % when
    lines = [b"tree " + tree.encode()]
    if parent:
        lines.append(b"parent " + parent.encode())
    lines += [b"author " + stamp, b"committer " + stamp, b"", message.encode("utf-8")]
    commit_data = b"\n".join(lines) + b"\n"
    return [
        (blob, b"blob", blob_data),
        (tree, b"tree", tree_data),
        (object_sha(b"commit", commit_data), b"commit", commit_data),
    ]


def program_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    """Unified diff of two versions of program.py, marking a last line without a newline as git does."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=old_label,
        tofile=new_label,
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
