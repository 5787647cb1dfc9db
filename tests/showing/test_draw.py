"""DOT text and matplotlib pictures, laid out by level."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import dagnet
from dagnet.showing.draw import NEGATIVE, POSITIVE, UNTRAINED, layout, to_dot
from tests.conftest import GRAPHS, small_graph


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


def test_the_committed_picture_is_an_svg_the_readme_shows() -> None:
    picture = GRAPHS / "multi_output.svg"
    assert ET.fromstring(picture.read_bytes()).tag.endswith("svg")
    assert "(graphs/multi_output.svg)" in (GRAPHS.parent / "README.md").read_text()


def _generated() -> dict[str, dagnet.Graph]:
    from dagnet.bench.shapes import deep, random_dag
    from tests.showing.networks import local_net

    return {
        "local": dagnet.Graph.model_validate(local_net()),
        "deep": dagnet.Graph.model_validate(deep(3000)),  # 1,004 units in 250 levels
        "random": dagnet.Graph.model_validate(random_dag(20000, seed=2)),
    }


def test_large_pictures_keep_their_sides_within_3_to_1_and_nothing_clipped() -> None:
    import struct

    from dagnet.showing.draw import MAX_ASPECT, figure, picture

    for name, graph in _generated().items():
        drawn, scene = figure(graph)
        assert scene.units == len(graph.units) and scene.edges == len(graph.edges), name
        assert 1 / MAX_ASPECT <= scene.width / scene.height <= MAX_ASPECT, name
        png = picture(graph, "png")
        width, height = struct.unpack(">II", png[16:24])
        assert max(width, height) <= 1600 and 1 / MAX_ASPECT <= width / height <= MAX_ASPECT
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        renderer = FigureCanvasAgg(drawn).get_renderer()
        frame = drawn.bbox
        axes = drawn.axes[0]
        for artist in [*axes.collections, *axes.texts, *axes.patches, *drawn.texts]:
            box = artist.get_window_extent(renderer)
            if box.width == 0 and box.height == 0:
                continue
            assert frame.x0 - 0.5 <= box.x0 and box.x1 <= frame.x1 + 0.5, (name, artist)
            assert frame.y0 - 0.5 <= box.y0 and box.y1 <= frame.y1 + 0.5, (name, artist)
        texts = [t for t in drawn.axes[0].texts]
        assert scene.font_size >= 5 and texts
        if scene.label_every > 1:
            assert "labels on 1 unit in" in drawn.texts[-1].get_text()


def test_a_picture_can_show_only_strong_edges_or_a_neighbourhood() -> None:
    from dagnet.showing.draw import figure, selection

    graph = _generated()["local"]
    units, edges = selection(graph, around="h5")
    assert "h5" in units and all(
        "h5" in (graph.edges.sources[e], graph.edges.targets[e]) for e in edges
    )
    assert len(edges) == 22 + 10
    _, scene = figure(graph, around="d0", radius=2)
    assert scene.units == 117  # two edges from an output reach every unit here
    weighted = graph.model_copy(
        update={"edges": dagnet.graph.model.Edges(
            graph.edges.sources, graph.edges.targets,
            [float(i % 10) / 10 for i in range(len(graph.edges))])}
    )  # fmt: skip
    _, strong = figure(weighted, min_weight=0.85)
    assert strong.edges == sum(i % 10 == 9 for i in range(len(graph.edges)))


def test_the_readme_shows_a_picture_of_a_thousand_units() -> None:
    import struct

    png = (GRAPHS / "deep_1000.png").read_bytes()
    assert "(graphs/deep_1000.png)" in (GRAPHS.parent / "README.md").read_text()
    width, height = struct.unpack(">II", png[16:24])
    assert png[:4] == b"\x89PNG" and max(width, height) <= 1600
    assert 1 / 3 <= width / height <= 3 and len(png) < 600_000
