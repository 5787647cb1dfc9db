"""What all commands share, after the command line contract in README.md: --version,
``python -m dagnet``, --help of every command, usage errors (exit code 2), Ctrl-C (exit
code 130).

Every command runs through Click's ``CliRunner`` (stdout and stderr kept apart) in a fresh
``tmp_path``; the example graphs are copied there first, so no test writes into the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import dagnet
from dagnet.cli import main
from tests.cli.helpers import run, snapshot
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(["validate"], "Missing argument", id="no-file"),
        pytest.param(
            ["validate", "--frobnicate", "graph.json"], "No such option", id="unknown-option"
        ),
        pytest.param(["frobnicate"], "No such command", id="unknown-command"),
    ],
)
def test_usage_errors_exit_2(runner: CliRunner, args: list[str], fragment: str) -> None:
    result = run(runner, *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert result.stdout == ""


def test_version(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout == f"dagnet, version {dagnet.__version__}\n"


def test_python_dash_m_dagnet(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "dagnet", "--help"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for command in ("validate", "train", "predict", "schema"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ([], ["--version", "--help", "validate", "train", "predict", "schema"]),
        (["validate"], ["FILES", "--json", "--data", "JSON Lines", "--help"]),
        (
            ["train"],
            [
                "--data",
                "--epochs",
                "--batch-size",
                "--learning-rate",
                "--seed",
                "--shuffle",
                "--no-shuffle",
                "-o, --output",
                "--force",
                "--in-place",
                "-q, --quiet",
                "--json",
                "--save-on-failure",
                "a million times the first epoch's mean",
            ],
        ),
        (["predict"], ["--data", "-o, --output", "--force"]),
        (["schema"], ["--help"]),
    ],
    ids=["main", "validate", "train", "predict", "schema"],
)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(runner: CliRunner, command: list[str], options: list[str], flag: str) -> None:
    result = run(runner, *command, flag)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ")
    for option in options:
        assert option in result.stdout


def test_ctrl_c_stops_with_exit_code_130_and_writes_nothing(
    runner: CliRunner, xor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("dagnet.cli.train.fit", interrupted)
    before = snapshot(xor.parent)
    result = runner.invoke(main, ["train", str(xor)])
    assert result.exit_code == 130
    assert result.stderr == "interrupted; nothing was written\n"
    assert snapshot(xor.parent) == before
