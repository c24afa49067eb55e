"""Scratch directories: made private, removed whatever the candidate left in them.

`remove_tree` deletes a tree of any depth without recursion and without ever
following a symlink: it walks down one directory fd at a time (O_NOFOLLOW,
relative to the parent's fd, so path length does not matter) and climbs back
with "..", finding the emptied child by inode. It runs after every process
of the sandbox is dead, so nothing changes the tree under it; directories a
candidate made unreadable are opened up first.
"""

from __future__ import annotations

import os
import stat

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_dir(name: str, dir_fd: int | None) -> int:
    try:
        return os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    except PermissionError:
        os.chmod(name, 0o700, dir_fd=dir_fd, follow_symlinks=False)
        return os.open(name, DIR_FLAGS, dir_fd=dir_fd)


def _first_subdir(fd: int) -> str | None:
    """Unlink every non-directory in the directory `fd`; return one subdirectory's name, if any."""
    try:
        entries = list(os.scandir(fd))
    except PermissionError:
        os.fchmod(fd, 0o700)
        entries = list(os.scandir(fd))
    sub = None
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            sub = sub or entry.name
        else:
            try:
                os.unlink(entry.name, dir_fd=fd)
            except FileNotFoundError:
                pass
            except PermissionError:
                os.fchmod(fd, 0o700)
                os.unlink(entry.name, dir_fd=fd)
    return sub


def remove_tree(path: str | os.PathLike) -> None:
    """Remove `path` and everything below it; a missing path is fine; never follows symlinks."""
    path = os.fspath(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    fd = _open_dir(path, None)
    depth = 0
    try:
        while True:
            sub = _first_subdir(fd)
            if sub is not None:
                child = _open_dir(sub, fd)
                os.close(fd)
                fd, depth = child, depth + 1
                continue
            if depth == 0:
                break
            ino = os.fstat(fd).st_ino
            parent = os.open("..", DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd, depth = parent, depth - 1
            for entry in os.scandir(fd):
                if entry.inode() == ino and entry.is_dir(follow_symlinks=False):
                    os.rmdir(entry.name, dir_fd=fd)
                    break
    finally:
        os.close(fd)
    os.rmdir(path)


def tree_bytes(path: str | os.PathLike, limit: int | None = None) -> int:
    """Bytes held by regular files below `path` (stops counting past `limit`); symlinks not followed."""
    total = 0
    stack = [os.fspath(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if len(stack) < 100_000:
                        stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
            if limit is not None and total > limit:
                return total
    return total
