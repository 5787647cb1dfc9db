"""atomic_write never replaces what it was not asked to: a file that appears meanwhile, a
device, a symbolic link; and SIGTERM while writing leaves no temporary file."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dagnet.graph import atomic
from dagnet.graph.atomic import NotRegularFileError, atomic_write
from tests.conftest import ROOT


def _appears_meanwhile(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """Another process writes ``target`` while atomic_write is flushing its temporary file."""
    real_fsync = os.fsync

    def fsync(handle: int) -> None:
        real_fsync(handle)
        target.write_bytes(b"theirs\n")

    monkeypatch.setattr(os, "fsync", fsync)


NO_RENAMEAT2 = {
    "renameat2": lambda mp: None,
    "link": lambda mp: mp.setattr(atomic, "_renameat2", lambda: None),
    "check": lambda mp: (
        mp.setattr(atomic, "_renameat2", lambda: None),
        mp.setattr(os, "link", _no_links),
    ),
}


def _no_links(*args: Any) -> None:
    raise OSError(errno.EPERM, "Operation not permitted")


@pytest.mark.parametrize("way", NO_RENAMEAT2)
def test_without_overwrite_a_file_that_appeared_meanwhile_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    NO_RENAMEAT2[way](monkeypatch)
    target = tmp_path / "out.json"
    _appears_meanwhile(monkeypatch, target)
    with pytest.raises(FileExistsError):
        atomic_write(target, b"ours\n", overwrite=False)
    assert target.read_bytes() == b"theirs\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize("way", NO_RENAMEAT2)
def test_without_overwrite_a_new_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    NO_RENAMEAT2[way](monkeypatch)
    atomic_write(tmp_path / "new", b"ours\n", overwrite=False)
    assert [(p.name, p.read_bytes()) for p in tmp_path.iterdir()] == [("new", b"ours\n")]


def test_with_overwrite_the_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "out").write_bytes(b"old")
    atomic_write(tmp_path / "out", b"new")
    assert (tmp_path / "out").read_bytes() == b"new"


def test_a_device_is_never_replaced() -> None:
    before = os.stat("/dev/null")
    with pytest.raises(NotRegularFileError, match="a device"):
        atomic_write("/dev/null", b"x")
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)


def test_a_fifo_and_a_socket_are_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError, match="a FIFO"):
        atomic_write(fifo, b"x")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(os.fspath(tmp_path / "sock"))
        with pytest.raises(NotRegularFileError, match="a socket"):
            atomic_write(tmp_path / "sock", b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "sock"]


def test_a_symbolic_link_is_written_through_and_kept(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "graph.json"
    real.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write(link, b"new")
    assert link.is_symlink() and os.readlink(link) == os.fspath(real)
    assert real.read_bytes() == b"new"


def test_a_name_ending_in_a_slash_is_a_folder_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        atomic_write(f"{tmp_path}/newdir/", b"x")
    assert list(tmp_path.iterdir()) == []


_SIGTERM_WHILE_WRITING = """
import os, signal, sys
from dagnet.graph.atomic import atomic_write
os.fsync = lambda handle: os.kill(os.getpid(), signal.SIGTERM)
atomic_write(sys.argv[1], b"x" * 100)
"""


def test_sigterm_while_writing_leaves_no_temporary_file(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.fspath(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _SIGTERM_WHILE_WRITING, os.fspath(tmp_path / "out")],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_without_overwrite_a_dangling_link_counts_as_existing(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):
        atomic_write(link, b"x", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link"]
