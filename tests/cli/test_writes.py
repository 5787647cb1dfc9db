"""What the commands write never replaces what the user did not name for replacement: a file
that appeared during the run, a device, the link (not its file) of --in-place, a folder named
with a trailing slash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.helpers import read_json, run, snapshot


def _appears_meanwhile(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    real_fsync = os.fsync

    def fsync(handle: int) -> None:
        real_fsync(handle)
        if not target.exists():
            target.write_bytes(b"theirs\n")

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("option", ["-o", "--history", "default"])
def test_train_keeps_a_file_that_appeared_during_the_run(
    runner: CliRunner, xor: Path, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    target = {
        "-o": xor.with_name("out.json"),
        "--history": xor.with_name("loss.csv"),
        "default": xor.with_name("xor.trained.json"),
    }[option]
    _appears_meanwhile(monkeypatch, target)
    args = [] if option == "default" else [option, target]
    result = run(runner, "train", xor, "-q", "--epochs", "2", *args)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot write {target}: a file appeared there while dagnet was working; it was "
        "left as it is (add --force to replace it)\n"
    )
    assert target.read_bytes() == b"theirs\n"
    assert not [p for p in xor.parent.iterdir() if p.name.endswith(".tmp")]


def test_train_with_force_replaces_it(
    runner: CliRunner, xor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = xor.with_name("out.json")
    _appears_meanwhile(monkeypatch, target)
    result = run(runner, "train", xor, "-q", "--epochs", "2", "-o", target, "--force")
    assert result.exit_code == 0, result.stderr
    assert read_json(target)["trained"]["epochs"] == 2


@pytest.mark.parametrize("command", ["train", "predict", "draw"])
def test_a_device_is_refused_even_with_force(runner: CliRunner, xor: Path, command: str) -> None:
    if command == "predict":
        assert run(runner, "train", xor, "-q", "--epochs", "2").exit_code == 0
        xor = xor.with_name("xor.trained.json")
    before = snapshot(xor.parent)
    fifo = xor.with_name("pipe.dot")
    os.mkfifo(fifo)
    target = "/dev/null" if command != "draw" else fifo
    result = run(runner, command, xor, "-o", target, "--force")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot write {target}: it is a ")
    assert "not a regular file" in result.stderr
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    assert snapshot(xor.parent) == before


def test_in_place_on_a_symbolic_link_updates_the_file_it_points_to(
    runner: CliRunner, xor: Path
) -> None:
    link_folder = xor.parent / "links"
    link_folder.mkdir()
    link = link_folder / "xor.json"
    link.symlink_to(xor)
    result = run(runner, "train", link, "-q", "--epochs", "2", "--in-place")
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and Path(os.readlink(link)) == xor
    assert read_json(xor)["trained"]["epochs"] == 2
    assert sorted(p.name for p in link_folder.iterdir()) == ["xor.json"]


@pytest.mark.parametrize("option", ["-o", "--history", "--plot"])
def test_a_trailing_slash_names_a_folder(runner: CliRunner, xor: Path, option: str) -> None:
    name = {"-o": "newdir/", "--history": "newdir.csv/", "--plot": "newdir.png/"}[option]
    before = snapshot(xor.parent)
    result = run(runner, "train", xor, "-q", option, f"{xor.parent}/{name}")
    assert result.exit_code == 2
    assert "ends in a slash, so it names a folder; give a file name" in result.stderr
    assert snapshot(xor.parent) == before
    assert not any(p.is_dir() for p in xor.parent.iterdir())


def test_predict_and_draw_refuse_a_trailing_slash(runner: CliRunner, xor: Path) -> None:
    for args in (["predict", xor, "-o", f"{xor.parent}/out/"], ["draw", xor, "-o", "a.dot/"]):
        result = run(runner, *args)
        assert result.exit_code == 2
        assert "ends in a slash" in result.stderr


def test_train_refuses_a_default_output_that_is_a_fifo_before_training(
    runner: CliRunner, xor: Path
) -> None:
    fifo = xor.with_name("xor.trained.json")
    os.mkfifo(fifo)
    result = run(runner, "train", xor, "-q")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot write {fifo}: it is a FIFO, not a regular")
    assert not fifo.is_file()
