"""networkx interop: graphs move in and out without loss."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest

import dagnet
from dagnet.graph.reading import load_graph
from dagnet.interop.networkx import UnusedAttributeWarning
from tests.conftest import EXAMPLES, GRAPHS


@pytest.mark.parametrize("name", EXAMPLES)
def test_round_trip_through_networkx_is_lossless(name: str) -> None:
    graph = load_graph(GRAPHS / f"{name}.json")
    back = dagnet.from_networkx(dagnet.to_networkx(graph))
    # networkx lists edges grouped by source; everything else keeps its order.
    by_ends = lambda edge: (edge.source, edge.target)  # noqa: E731
    assert sorted(back.edges, key=by_ends) == sorted(graph.edges, key=by_ends)
    assert back.model_copy(update={"edges": graph.edges}) == graph


def test_a_network_goes_out_with_its_current_parameters() -> None:
    net = dagnet.Network(load_graph(GRAPHS / "xor.json"))
    digraph = dagnet.to_networkx(net)
    weights = [digraph.edges[s, t]["weight"] for s, t in net.edges]
    assert weights == net.weights.tolist()
    assert digraph.nodes["h1"] == {"role": "hidden", "activation": "tanh", "bias": 0.0}


def test_roles_are_inferred_and_foreign_attributes_left_behind() -> None:
    digraph = nx.DiGraph()
    digraph.add_edge("x", "h", weight=np.float32(0.5), innovation=3)
    digraph.add_edge("h", "y", weight=np.float64(-1.0))
    digraph.add_edge("x", "y")
    digraph.nodes["h"].update(activation="relu", bias=np.float64(0.25), pos=(1, 2), response=2.0)
    with pytest.warns(UnusedAttributeWarning) as caught:
        graph = dagnet.from_networkx(digraph, name="neat")
    message = str(caught[0].message)
    assert "node attribute 'pos' (1×)" in message
    assert "node attribute 'response' (1×) (multiply it into the node's in-edge weights)" in message
    assert "edge attribute 'innovation' (1×)" in message
    assert graph.name == "neat"
    assert [(u.id, u.role, u.activation, u.bias) for u in graph.units] == [
        ("x", "input", None, None),
        ("h", "hidden", "relu", 0.25),
        ("y", "output", None, None),
    ]
    assert [e.weight for e in graph.edges] == [0.5, None, -1.0]


def test_an_invalid_networkx_graph_is_refused_with_every_problem() -> None:
    digraph = nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a"), ("b", "y")])
    digraph.nodes["a"]["activation"] = "sigmoidd"
    digraph.nodes["x"]["role"] = "input"
    digraph.nodes["y"]["role"] = "output"
    with pytest.raises(dagnet.GraphFileError) as caught:
        dagnet.from_networkx(digraph)
    messages = [p.message for p in caught.value.errors]
    assert any("did you mean 'sigmoid'" in m for m in messages)
    assert any("cycle a -> b -> a" in m for m in messages)


def test_nodes_that_are_not_strings_are_refused_with_a_fix() -> None:
    with pytest.raises(dagnet.GraphFileError, match="relabel"):
        dagnet.from_networkx(nx.DiGraph([(1, 2)]))


@pytest.mark.parametrize("other", [nx.Graph([("x", "y")]), nx.MultiDiGraph([("x", "y")]), [1]])
def test_what_is_not_a_digraph_is_refused_with_dagnets_error(other) -> None:
    with pytest.raises(dagnet.ArgumentError, match=r"takes a networkx\.DiGraph"):
        dagnet.from_networkx(other)


def test_known_attributes_only_give_no_warning() -> None:
    digraph = nx.DiGraph([("x", "y")])
    digraph.nodes["y"]["bias"] = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dagnet.from_networkx(digraph)


def test_an_unconnected_node_is_never_made_an_input() -> None:
    digraph = nx.DiGraph([("x", "y")])
    digraph.add_node("z")  # an output nothing feeds yet, or an input: which is not known
    with pytest.raises(dagnet.GraphFileError, match="node 'z' has no edges and no role"):
        dagnet.from_networkx(digraph)
    digraph.nodes["z"]["role"] = "output"
    roles = {u.id: u.role for u in dagnet.from_networkx(digraph).units}
    assert roles == {"x": "input", "y": "output", "z": "output"}
