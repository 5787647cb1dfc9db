"""dagnet draw on the command line: formats, --force, atomic writes."""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dagnet.cli import main
from tests.conftest import small_graph

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(runner: CliRunner, *args: str | os.PathLike[str]) -> Result:
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def trained(tmp_path: Path, write_json: Callable[..., Path]) -> Path:
    return write_json(small_graph(name="small"), "small.json")


def test_svg_and_png_are_valid_pictures(runner: CliRunner, trained: Path) -> None:
    svg, png = trained.with_name("small.svg"), trained.with_name("small.png")
    assert run(runner, "draw", trained, "-o", svg).exit_code == 0
    root = ET.fromstring(svg.read_bytes())
    assert root.tag.endswith("svg")
    assert run(runner, "draw", trained, "-o", png).exit_code == 0
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert [p.name for p in trained.parent.iterdir() if p.name.startswith(".")] == []


def test_the_same_graph_gives_the_same_svg(runner: CliRunner, trained: Path) -> None:
    first, second = trained.with_name("a.svg"), trained.with_name("b.svg")
    run(runner, "draw", trained, "-o", first)
    run(runner, "draw", trained, "-o", second)
    assert first.read_bytes() == second.read_bytes()


def test_an_existing_output_needs_force(runner: CliRunner, trained: Path) -> None:
    out = trained.with_name("small.dot")
    out.write_text("mine")
    refused = run(runner, "draw", trained, "-o", out)
    assert refused.exit_code == 1
    assert "exists; add --force" in refused.stderr
    assert out.read_text() == "mine"
    assert run(runner, "draw", trained, "-o", out, "--force").exit_code == 0
    assert out.read_text().startswith('digraph "small"')


def test_an_unknown_suffix_is_a_usage_error(runner: CliRunner, trained: Path) -> None:
    result = run(runner, "draw", trained, "-o", trained.with_name("small.pdf"))
    assert result.exit_code == 2
    assert ".dot, .svg, .png" in result.stderr
    assert run(runner, "draw", trained, "-o", trained).exit_code == 2  # .json: not a picture


def test_without_matplotlib_it_says_how_to_install_it(
    runner: CliRunner, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    out = trained.with_name("small.png")
    result = run(runner, "draw", trained, "-o", out)
    assert result.exit_code == 1
    assert "pip install 'dagnet[plot]'" in result.stderr
    assert not out.exists()
    assert run(runner, "draw", trained, "-o", trained.with_name("small.dot")).exit_code == 0


def test_a_neighbourhood_or_strong_edges_only(runner: CliRunner, trained: Path) -> None:
    out = trained.parent / "near.svg"
    result = runner.invoke(main, ["draw", str(trained), "-o", str(out), "--around", "h"])
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"<?xml")
    strong = runner.invoke(
        main, ["draw", str(trained), "-o", str(trained.parent / "s.png"), "--min-weight", "0"]
    )
    assert strong.exit_code == 0, strong.stderr
    unknown = runner.invoke(
        main, ["draw", str(trained), "-o", str(trained.parent / "u.png"), "--around", "nope"]
    )
    assert unknown.exit_code == 1
    assert "there is no unit 'nope' to draw around" in unknown.stderr
    dot = runner.invoke(
        main, ["draw", str(trained), "-o", str(trained.parent / "u.dot"), "--around", "j"]
    )
    assert dot.exit_code == 1 and "for .svg and .png pictures" in dot.stderr
