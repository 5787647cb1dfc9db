"""dagnet draw: DOT text and matplotlib pictures, laid out by level, written atomically."""

from __future__ import annotations

import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import dagnet
from dagnet.cli import main
from dagnet.showing.draw import NEGATIVE, POSITIVE, UNTRAINED, layout, to_dot
from tests.conftest import GRAPHS, small_graph

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(runner: CliRunner, *args: str | os.PathLike[str]) -> Result:
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _parse_dot(text: str) -> tuple[dict[str, str], dict[tuple[str, str], dict[str, str]], list]:
    """Nodes with their labels, edges with their attributes, and the rank groups of DOT text."""
    nodes = dict(re.findall(r'^  "([^"]+)" \[label="([^"]*)"', text, re.M))
    edges = {
        (source, target): dict(re.findall(r'(\w+)=("[^"]*"|[\w.]+)', attributes))
        for source, target, attributes in re.findall(
            r'^  "(\S+)" -> "(\S+)" \[(.*)\];$', text, re.M
        )
    }
    ranks = [
        re.findall(r'"([^"]+)"', group) for group in re.findall(r"\{ rank=same; (.*) \}", text)
    ]
    return nodes, edges, ranks


def test_dot_labels_ranks_and_styles_an_untrained_graph() -> None:
    text = to_dot(dagnet.load_graph(GRAPHS / "xor.json"))
    assert text.startswith('digraph "xor" {\n  rankdir=LR;')
    assert text.rstrip().endswith("}")
    nodes, edges, ranks = _parse_dot(text)
    assert nodes == {"x1": "x1\\ninput", "x2": "x2\\ninput", "h1": "h1\\ntanh",
                     "h2": "h2\\ntanh", "y": "y\\nidentity"}  # fmt: skip
    assert ranks == [["x1", "x2"], ["h1"], ["h2"], ["y"]]
    assert len(edges) == 9
    assert all(e["color"] == f'"{UNTRAINED}"' and e["style"] == "dashed" for e in edges.values())


def test_dot_colours_by_sign_and_widens_by_size() -> None:
    # small_graph: w_{x→h} = 0.5, w_{h→y} = −0.3, w_{x→y} = 0.2.
    _, edges, _ = _parse_dot(to_dot(dagnet.Graph.model_validate(small_graph())))
    assert edges["x", "h"]["color"] == f'"{POSITIVE}"'
    assert edges["h", "y"]["color"] == f'"{NEGATIVE}"'
    widths = {edge: float(attributes["penwidth"]) for edge, attributes in edges.items()}
    assert widths == {("x", "h"): 4.0, ("h", "y"): 2.6, ("x", "y"): 1.9}
    assert edges["h", "y"]["label"] == '"-0.3"'


def test_layout_puts_inputs_left_and_outputs_right() -> None:
    document = small_graph()
    document["units"].append({"id": "y2", "role": "output"})
    document["edges"].append({"source": "x", "target": "y2"})
    place = layout(dagnet.Graph.model_validate(document))
    assert place["x"][0] == 0.0
    # y2 is one edge from x, but as an output that feeds nothing it ends the picture.
    assert place["y"][0] == place["y2"][0] == 2.0
    assert {place["y"][1], place["y2"][1]} == {0.5, -0.5}


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


def test_the_committed_picture_is_an_svg_the_readme_shows() -> None:
    picture = GRAPHS / "multi_output.svg"
    assert ET.fromstring(picture.read_bytes()).tag.endswith("svg")
    assert "(graphs/multi_output.svg)" in (GRAPHS.parent / "README.md").read_text()
