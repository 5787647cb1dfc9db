"""GraphBuilder: editing keeps every weight, growth leaves the loss unchanged, and problems are
reported as for a file."""

from __future__ import annotations

import numpy as np
import pytest

import dagnet
from dagnet.graph.edit import GraphBuilder
from dagnet.graph.reading import validate_document
from tests.conftest import GRAPHS


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return x, np.array([[0.0], [1.0], [1.0], [0.0]])


def loss(net: dagnet.Network, x: np.ndarray, y: np.ndarray) -> float:
    return float(0.5 * np.mean(np.sum((net.forward(x) - y) ** 2, axis=1)))


def test_building_from_nothing_gives_the_file_graph() -> None:
    b = GraphBuilder(name="tiny").add_input("x").add_unit("h", activation="tanh", bias=0.5)
    b.add_output("y").add_edge("x", "h", 0.25).add_edge("h", "y", -1.0).add_edge("x", "y")
    graph = b.build()
    same = dagnet.Graph.model_validate(b.document())
    assert graph == same
    assert [(u.id, u.role) for u in graph.units] == [
        ("x", "input"),
        ("h", "hidden"),
        ("y", "output"),
    ]
    assert graph.edges.weights == (0.25, -1.0, None)


def test_starting_from_a_graph_keeps_everything() -> None:
    graph = dagnet.load_graph(GRAPHS / "xor.json")
    assert GraphBuilder(graph).build().model_dump() == graph.model_dump()


def test_removing_a_unit_removes_its_edges_and_keeps_the_rest() -> None:
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "multi_output.json"), seed=0)
    before = {(e.source, e.target): e.weight for e in net.to_graph().edges}
    b = GraphBuilder(net).remove_unit("k")
    after = {(e.source, e.target): e.weight for e in b.build().edges}
    assert after == {k: w for k, w in before.items() if "k" not in k}


def test_split_edge_is_neats_add_node_and_keeps_the_function_with_identity() -> None:
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "multi_output.json"), seed=0)
    x = np.linspace(-2, 2, 9)[:, None]
    b = GraphBuilder(net).split_edge("j", "o", "j2", activation="identity")
    assert b.weight("j", "j2") == 1.0 and b.weight("j2", "o") == net.to_graph().edges[3].weight
    assert np.allclose(b.network().forward(x), net.forward(x), rtol=1e-15, atol=1e-15)


def test_cascade_growth_leaves_the_loss_unchanged_and_keeps_every_weight() -> None:
    x, y = xor_data()
    b = GraphBuilder().add_input("x1").add_input("x2").add_output("y", activation="sigmoid")
    b.add_edge("x1", "y", 0.3).add_edge("x2", "y", -0.2)
    net = b.network(seed=0)
    dagnet.fit(net, x, y, epochs=50, learning_rate=1.0, batch_size=4, seed=0)
    for n in range(1, 4):  # grow a unit, keep training: the README's example
        trained = net.to_graph()
        sources = ["x1", "x2", *[f"h{k}" for k in range(1, n)]]  # each new unit sees the last
        grown = GraphBuilder(net).grow(f"h{n}", sources, ["y"], activation="tanh", seed=n)
        bigger = grown.network(seed=0)
        assert loss(bigger, x, y) == pytest.approx(loss(net, x, y), abs=1e-15)
        kept = {(e.source, e.target): e.weight for e in trained.edges}
        now = {(e.source, e.target): e.weight for e in bigger.to_graph().edges}
        assert all(now[k] == w for k, w in kept.items())
        net = bigger
        dagnet.fit(net, x, y, epochs=400, learning_rate=1.0, batch_size=4, seed=0)
    assert loss(net, x, y) < 0.05


def test_problems_are_those_of_a_file_with_their_pointers() -> None:
    b = GraphBuilder().add_input("x").add_output("y").add_unit("h", activation="sigmod")
    b.add_edge("x", "h").add_edge("h", "y").add_edge("y", "h").add_edge("x", "z9")
    with pytest.raises(dagnet.GraphFileError) as caught:
        b.build()
    ours = [(p.code, p.pointer, p.message) for p in caught.value.errors]
    theirs = [(p.code, p.pointer, p.message) for p in validate_document(b.document())[1]
              if p.is_error]  # fmt: skip
    assert ours == theirs
    messages = " | ".join(m for _, _, m in ours)
    assert "unknown activation 'sigmod' (did you mean 'sigmoid'?)" in messages
    assert "cycle" in messages and "unknown unit 'z9'" in messages
    assert any(pointer == "/units/2/activation" for _, pointer, _ in ours)


def test_mistakes_in_a_call_are_errors_at_once() -> None:
    b = GraphBuilder().add_input("x")
    with pytest.raises(ValueError, match="unit 'x' exists already"):
        b.add_input("x")
    with pytest.raises(KeyError, match="no edge x -> y"):
        b.remove_edge("x", "y")
    with pytest.raises(KeyError, match="no unit 'q'"):
        b.remove_unit("q")


def test_set_unit_and_set_weight_change_only_what_they_name() -> None:
    b = GraphBuilder().add_input("x").add_output("y", bias=0.5).add_edge("x", "y", 1.0)
    b.set_unit("y", activation="tanh", bias=None).set_weight("x", "y", -2.0)
    graph = b.build()
    assert (graph.units[1].activation, graph.units[1].bias) == ("tanh", None)
    assert graph.edges.weights == (-2.0,)
    with pytest.raises(TypeError, match="no attribute 'colour'"):
        b.set_unit("y", colour="red")


def test_check_gives_warnings_as_for_a_file() -> None:
    b = GraphBuilder().add_input("x").add_output("y").add_edge("x", "y", 1.0).add_unit("h")
    codes = [p.code for p in b.check()]
    assert "DAG101" in codes  # no input reaches h
    assert b.build().units[2].id == "h"  # warnings do not stop build()
