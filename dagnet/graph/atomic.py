"""Atomic writing: the new text goes to a temporary file in the same folder, is flushed to disk,
then renamed over the target, so that a reader sees the old file or the new one, never half of
either, and a failed write leaves the old file as it was.

What is never replaced: without ``overwrite`` the last step refuses, atomically, a file that
appeared while the text was being written (``renameat2(RENAME_NOREPLACE)`` on Linux, else a hard
link, else a check just before the rename); a device, FIFO or socket is never replaced by a
regular file; a symbolic link is written through, so the file it points to is updated and the
link stays. SIGTERM while writing removes the temporary file before the process ends, as
Ctrl-C does.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["NotRegularFileError", "atomic_write", "regular_target"]


class NotRegularFileError(OSError):
    """The target exists and is a device, FIFO or socket: writing would replace it."""


def regular_target(path: str | os.PathLike[str]) -> Path:
    """The file a write to ``path`` lands on: ``path`` itself, or, for a symbolic link, the
    file it points to.

    Raises
    ------
    IsADirectoryError
        When ``path`` names a folder, or ends in a slash (a folder that may not exist yet).
    NotRegularFileError
        When ``path`` exists and is a device, FIFO or socket.
    """
    text = os.fspath(path)
    if text.endswith(("/", os.sep)):
        raise IsADirectoryError(errno.EISDIR, "the name ends in a slash, so it is a folder", text)
    target = Path(text)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "it is a folder", text)
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(
            errno.EEXIST, f"it is {_kind(mode)}, not a regular file, and is never replaced", text
        )
    return target


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def atomic_write(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step.

    A new file gets the permissions a plain ``open(path, "w")`` would give it (0o666 less the
    umask, applied by the system as it creates the temporary file); a replaced file keeps its
    own. A symbolic link is followed: the file it points to is replaced, the link is kept.

    Raises
    ------
    FileExistsError
        When ``overwrite`` is False and ``path`` exists, including when it appeared while the
        data was being written: the file there is never replaced.
    NotRegularFileError
        When ``path`` is a device, FIFO or socket (``/dev/null``), whatever ``overwrite`` says.
    IsADirectoryError
        When ``path`` is a folder or ends in a slash.
    OSError
        When the folder cannot be written; the target is left untouched and no temporary file
        remains.
    """
    target = regular_target(path)
    if not overwrite and (os.path.lexists(path) or os.path.lexists(target)):
        raise FileExistsError(errno.EEXIST, "the file exists", os.fspath(path))
    with _removed_on_sigterm() as created:
        handle, temporary = _create_temporary(target, created)
        try:
            try:
                remaining = memoryview(data)
                while remaining:
                    remaining = remaining[os.write(handle, remaining) :]
                os.fsync(handle)  # on disk before the rename makes it the file
            finally:
                os.close(handle)
            if overwrite:
                if target.exists():
                    os.chmod(temporary, target.stat().st_mode & 0o7777)
                regular_target(target)  # a FIFO made meanwhile is still not replaced
                os.replace(temporary, target)
            else:
                _rename_no_replace(temporary, target, os.fspath(path))
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise


def _rename_no_replace(temporary: Path, target: Path, name: str) -> None:
    """Rename ``temporary`` to ``target`` unless something is there: atomically where the
    system can (renameat2, else link then unlink), else by a check just before."""
    if _renameat2_no_replace(temporary, target):
        return
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "the file appeared meanwhile", name) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # No hard links here (FAT, some network shares): the best left is to look first.
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "the file appeared meanwhile", name) from None
        os.rename(temporary, target)
        return
    temporary.unlink()


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _renameat2_no_replace(temporary: Path, target: Path) -> bool:
    """True when renamed by ``renameat2(RENAME_NOREPLACE)``; False when the system lacks it.

    Raises FileExistsError when the target exists."""
    function = _renameat2()
    if function is None:
        return False
    result = function(
        _AT_FDCWD, os.fsencode(temporary), _AT_FDCWD, os.fsencode(target), _RENAME_NOREPLACE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        raise FileExistsError(code, "the file appeared meanwhile", os.fspath(target))
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False  # an old kernel, or a file system without the flag
    raise OSError(code, os.strerror(code), os.fspath(target))


_renameat2_function: list[Any] = []


def _renameat2() -> Any:
    """glibc's renameat2, looked up once; None away from Linux or before glibc 2.28."""
    if not _renameat2_function:
        function = None
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                function = libc.renameat2
                function.argtypes = [
                    ctypes.c_int,
                    ctypes.c_char_p,
                    ctypes.c_int,
                    ctypes.c_char_p,
                    ctypes.c_uint,
                ]
                function.restype = ctypes.c_int
            except (OSError, AttributeError):
                function = None
        _renameat2_function.append(function)
    return _renameat2_function[0]


class _Terminated(BaseException):
    """SIGTERM arrived while writing: unwinds, removing the temporary file, then the signal is
    delivered again with the default action."""


@contextmanager
def _removed_on_sigterm() -> Iterator[list[Path]]:
    """While writing, SIGTERM unwinds (so the temporary file is removed) instead of killing the
    process at once; afterwards it is sent again, and ends the process as it would have.

    Only in the main thread and only when SIGTERM has its default action: otherwise the
    signal is someone else's to handle."""
    created: list[Path] = []
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield created
        return

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield created
    except _Terminated:
        for temporary in created:
            temporary.unlink(missing_ok=True)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise  # only reached if the signal is blocked
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _create_temporary(target: Path, created: list[Path]) -> tuple[int, Path]:
    """A new file beside ``target``, opened for writing and listed in ``created``, with SIGTERM
    held back between the two (so that its handler always finds the file to remove). Created
    with mode 0o666, so the system applies the umask itself: reading the umask means setting it,
    which races with threads."""
    folder = target.parent
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temporary = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            with _sigterm_held():
                handle = os.open(temporary, flags, 0o666)
                created.append(temporary)
            return handle, temporary
        except FileExistsError:
            continue


@contextmanager
def _sigterm_held() -> Iterator[None]:
    """SIGTERM is delivered after the block, not inside it (where the system supports that)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
