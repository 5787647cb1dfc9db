"""Network: the library's view of a compiled graph, in the file's order."""

from __future__ import annotations

import numpy as np
import pytest

import dagnet
from dagnet.graph.reading import load_graph
from dagnet.showing import reference
from tests.conftest import GRAPHS, small_graph


@pytest.fixture
def net() -> dagnet.Network:
    return dagnet.Network(dagnet.Graph.model_validate(small_graph(name="small")))


def test_trace_gives_every_unit_s_and_z_like_the_reference(net: dagnet.Network) -> None:
    inputs = np.array([[0.5], [-2.0]])
    trace = net.trace(inputs)
    assert trace.unit_ids == ("x", "h", "y")
    oracle = reference.ReferenceNetwork.from_graph(net.to_graph())
    for n, x in enumerate(inputs):
        s, z = reference.forward(oracle, x)
        # The kernels fuse each multiply-add (one rounding instead of two): a few ulp apart.
        np.testing.assert_allclose(trace.s[n], [s[u] for u in trace.unit_ids], rtol=1e-14)
        np.testing.assert_allclose(trace.z[n], [z[u] for u in trace.unit_ids], rtol=1e-14)


def test_a_single_input_may_be_a_flat_array(net: dagnet.Network) -> None:
    np.testing.assert_array_equal(net.forward([0.5, 1.0]), net.forward([[0.5], [1.0]]))


@pytest.mark.parametrize(
    "inputs, fragment",
    [
        (np.zeros((3, 2)), r"inputs must have shape \(N, 1\)"),
        (np.zeros((0, 1)), r"N ≥ 1"),
        ([[np.nan]], "finite"),
    ],
)
def test_inputs_of_the_wrong_shape_or_value_are_refused(net, inputs, fragment) -> None:
    with pytest.raises(dagnet.DataError, match=fragment):
        net.forward(inputs)


def test_parameters_are_set_in_file_order_and_inputs_keep_no_bias(net: dagnet.Network) -> None:
    net.weights = [1.0, 2.0, 3.0]
    net.biases = [9.0, 0.5, -0.5]
    assert net.weights.tolist() == [1.0, 2.0, 3.0]
    assert net.biases.tolist() == [0.0, 0.5, -0.5]
    edges = net.to_graph().edges
    assert [(e.source, e.target, e.weight) for e in edges] == [
        ("x", "h", 1.0), ("h", "y", 2.0), ("x", "y", 3.0),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="shape"):
        net.weights = [1.0, 2.0]
    with pytest.raises(ValueError, match="finite"):
        net.biases = [0.0, np.inf, 0.0]


def test_to_graph_writes_every_activation_and_bias_out() -> None:
    graph = load_graph(GRAPHS / "multi_output.json")
    written = dagnet.Network(graph).to_graph()
    assert all(u.activation and u.bias is not None for u in written.units if u.role != "input")
    assert all(e.weight is not None for e in written.edges)
    assert written.units[0] == graph.units[0]


def test_repr_names_the_shape(net: dagnet.Network) -> None:
    assert repr(net) == "Network('small', 3 units, 3 edges, inputs x; outputs y)"


def test_a_network_comes_back_in_the_precision_it_was_trained_in(tmp_path) -> None:

    document = {**small_graph(), "training": {"dtype": "float32", "seed": 0}}
    graph = dagnet.Graph.model_validate(document)
    assert dagnet.Network(graph).dtype == np.float32
    assert dagnet.Network(graph, dtype=np.dtype("float64")).dtype == np.float64
    path = tmp_path / "trained.json"
    dagnet.save_graph(dagnet.Network(graph).to_graph(), path)
    assert dagnet.Network(dagnet.load_graph(path)).dtype == np.float32


def test_a_network_pickles_with_its_parameters() -> None:
    import pickle

    net = dagnet.Network(load_graph(GRAPHS / "xor.json"))
    x = np.array([[0.0, 1.0], [1.0, 1.0]])
    net.forward(x)  # it has checked a workspace: that must not stop the pickling
    again = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(again.forward(x), net.forward(x))
    np.testing.assert_array_equal(again.weights, net.weights)
