"""Atomic writing: the new text goes to a temporary file in the same folder, is flushed to disk,
then renamed over the target, so that a reader sees the old file or the new one, never half of
either, and a failed write leaves the old file as it was."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step.

    A new file gets the permissions a plain ``open(path, "w")`` would give it (0o666 less the
    umask, applied by the system as it creates the temporary file); a replaced file keeps its
    own.

    Raises
    ------
    FileExistsError
        When ``overwrite`` is False and ``path`` exists.
    OSError
        When the folder cannot be written; the target is left untouched and no temporary file
        remains.
    """
    target = Path(path)
    if not overwrite and target.exists():
        raise FileExistsError(f"{target} exists")
    handle, temporary = _create_temporary(target)
    try:
        try:
            remaining = memoryview(data)
            while remaining:
                remaining = remaining[os.write(handle, remaining) :]
            os.fsync(handle)  # on disk before the rename makes it the file
        finally:
            os.close(handle)
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o7777)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _create_temporary(target: Path) -> tuple[int, Path]:
    """A new file beside ``target``, opened for writing. Created with mode 0o666, so the system
    applies the umask itself: reading the umask means setting it, which races with threads."""
    folder = target.parent
    while True:
        temporary = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
