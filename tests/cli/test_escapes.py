"""Nothing hostile reaches the terminal: names, descriptions, ids, columns and file names from
the user's files are printed with control characters escaped, in every command, and
look-alike characters are named, with a did-you-mean naming their ASCII twin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.helpers import run
from tests.conftest import small_graph

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202e"
"""Set the window title, clear the screen, a C1 CSI, a right-to-left override."""

RAW = ("\x1b", "\x07", "\u009b", "\u202e")


def _clean(text: str) -> None:
    for c in RAW:
        assert c not in text, f"raw {c!r} in {text!r}"


def _hostile_graph(folder: Path, **overrides: object) -> Path:
    document = small_graph(name=HOSTILE, description=HOSTILE, **overrides)
    document["data"] = {"columns": {"x": [0.0, 1.0], "y": [1.0, 0.0]}}
    path = folder / "graph.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["info"],
        ["info", "--json"],
        ["explain"],
        ["explain", "--example", "1"],
        ["validate"],
        ["validate", "--json"],
        ["gradcheck"],
        ["predict"],
    ],
)
def test_a_hostile_name_is_escaped(runner: CliRunner, tmp_path: Path, args: list[str]) -> None:
    graph = _hostile_graph(tmp_path)
    result = run(runner, args[0], graph, *args[1:])
    _clean(result.stdout + result.stderr)
    if args == ["info"]:
        assert result.stdout.startswith("\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e (")
    if args[-1] == "--json":
        for line in result.stdout.splitlines() if args[0] == "validate" else [result.stdout]:
            json.loads(line)  # still JSON


def test_train_and_draw_escape_the_name(runner: CliRunner, tmp_path: Path) -> None:
    graph = _hostile_graph(tmp_path)
    result = run(runner, "train", graph, "--epochs", "2")
    _clean(result.stdout + result.stderr)
    dot = tmp_path / "graph.dot"
    result = run(runner, "draw", tmp_path / "graph.trained.json", "-o", dot)
    assert result.exit_code == 0, result.stderr
    _clean(dot.read_text(encoding="utf-8"))


def test_hostile_ids_keys_and_columns_are_escaped(runner: CliRunner, tmp_path: Path) -> None:
    document = small_graph()
    document["units"][1]["id"] = "h\x1b[2J"
    document["edges"][0]["target"] = "h\x1b[2J"
    document["units"][0]["activaton\x07"] = 1
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    for args in (["validate", path], ["validate", "--json", path], ["info", path]):
        result = run(runner, *args)
        assert result.exit_code == 1
        _clean(result.stdout + result.stderr)
        if "--json" not in args:
            assert "h\\x1b[2J" in result.stdout + result.stderr
    data = tmp_path / "data.csv"
    data.write_text("x,\x1b[2Jy\n0,1\n", encoding="utf-8")
    result = run(runner, "train", _hostile_graph(tmp_path), "--data", data)
    assert result.exit_code == 1
    _clean(result.stderr)
    assert "column '\\x1b[2Jy' names no unit" in result.stderr


def test_a_hostile_file_name_is_escaped(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "evil\x1b[2J.json"
    path.write_text("{", encoding="utf-8")
    result = run(runner, "validate", path)
    assert result.exit_code == 1
    _clean(result.stdout + result.stderr)
    assert "evil\\x1b[2J.json" in result.stdout
    result = run(runner, "train", tmp_path / "missing\x07.json")
    _clean(result.stderr)


CYRILLIC_X = "\u0445"
MARK = f"'{CYRILLIC_X}' (U+0445 CYRILLIC SMALL LETTER HA, not the ASCII 'x')"


def test_a_look_alike_in_an_edge_is_named_and_its_twin_suggested(
    runner: CliRunner, tmp_path: Path
) -> None:
    document = small_graph()
    document["edges"][0]["source"] = CYRILLIC_X
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run(runner, "validate", path)
    assert result.exit_code == 1
    assert f"/edges/0/source: {MARK} is not a valid unit id (did you mean 'x'?)" in result.stdout


def test_a_look_alike_in_an_id_a_key_and_a_column(runner: CliRunner, tmp_path: Path) -> None:
    document = small_graph()
    document["units"][0]["id"] = f"{CYRILLIC_X}1"
    document["units"][1][f"bi{chr(0x0430)}s"] = 0.1
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run(runner, "validate", path)
    assert f"'{CYRILLIC_X}1' (U+0445 CYRILLIC SMALL LETTER HA, not the ASCII 'x')" in (
        result.stdout
    )
    assert "(did you mean 'x1'?)" in result.stdout
    assert "U+0430 CYRILLIC SMALL LETTER A, not the ASCII 'a') (did you mean 'bias'?)" in (
        result.stdout
    )
    data = tmp_path / "data.csv"
    data.write_text(f"{CYRILLIC_X},y\n0,1\n", encoding="utf-8")
    result = run(runner, "train", _hostile_graph(tmp_path), "--data", data)
    assert f"column {MARK} names no unit (did you mean 'x'?)" in result.stderr
