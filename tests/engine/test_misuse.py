"""Nothing the library is given can corrupt memory: every public way in checks what it gets
and raises a DagnetError (DataError for data, ArgumentError for the rest) naming what it
expected; complex values are refused, never cast to real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dagnet
from dagnet.errors import ArgumentError, DataError
from dagnet.graph.data import dataset_from_columns
from tests.conftest import small_graph


@pytest.fixture
def net() -> dagnet.Network:
    return dagnet.Network(dagnet.Graph.model_validate(small_graph()))


BAD_INPUTS: dict[str, tuple[Any, str]] = {
    "strings": ([["a"], ["b"]], "of real numbers; got text"),
    "ragged": ([[1.0], [2.0, 3.0]], "got rows of different lengths"),
    "complex": (np.array([[1 + 2j]]), "of real numbers; got complex numbers"),
    "objects": (np.array([[1.0], [None]], dtype=object), "of real numbers; got objects"),
    "columns": (np.zeros((3, 2)), r"got shape \(3, 2\)"),
    "no rows": (np.zeros((0, 1)), r"got shape \(0, 1\)"),
    "3-D": (np.zeros((2, 1, 1)), r"got shape \(2, 1, 1\)"),
    "nan": ([[0.0], [np.nan]], r"row 2, column 1 \(unit [xy]\) is nan"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_forward_trace_loss_and_gradients_refuse_bad_inputs(net: dagnet.Network, case: str) -> None:
    values, fragment = BAD_INPUTS[case]
    for call in (
        lambda: net.forward(values),
        lambda: net.trace(values),
        lambda: net.loss(values, [[0.0]] * 2),
        lambda: net.gradients(values, [[0.0]] * 2),
        lambda: dagnet.fit(net, values, [[0.0]] * 2, epochs=1, learning_rate=0.1),
    ):
        with pytest.raises(DataError, match=fragment) as caught:
            call()
        if case != "nan":
            assert "must have shape (N, 1) with N ≥ 1, one column per unit x" in str(caught.value)


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_fit_refuses_bad_targets(net: dagnet.Network, case: str) -> None:
    values, fragment = BAD_INPUTS[case]
    with pytest.raises(DataError, match=fragment):
        dagnet.fit(net, [[0.0]] * 2, values, epochs=1, learning_rate=0.1)


def test_fit_loss_and_gradients_refuse_mismatched_row_counts(net: dagnet.Network) -> None:
    x, y = [[0.0]] * 3, [[0.0]] * 2
    message = r"inputs have 3 rows but targets have 2; targets must have shape \(3, 1\)"
    for call in (
        lambda: dagnet.fit(net, x, y, epochs=1, learning_rate=0.1),
        lambda: net.loss(x, y),
        lambda: net.gradients(x, y),
    ):
        with pytest.raises(DataError, match=message):
            call()
    with pytest.raises(ArgumentError, match="fit needs a Network"):
        dagnet.fit("net", x, y, epochs=1, learning_rate=0.1)  # type: ignore[arg-type]


BAD_PARAMETERS: dict[str, tuple[Any, str]] = {
    "short": (np.zeros(1), r"must have shape \(3,\), got \(1,\)"),
    "long": (np.zeros(300), r"must have shape \(3,\), got \(300,\)"),
    "2-D": (np.zeros((3, 1)), r"must have shape \(3,\)"),
    "strings": (["a", "b", "c"], "must be real numbers"),
    "complex": (np.ones(3, complex), "must be real numbers"),
    "nan": ([0.0, np.nan, 0.0], "must be finite numbers"),
}


@pytest.mark.parametrize("case", BAD_PARAMETERS)
@pytest.mark.parametrize("name", ["weight", "bias", "weights", "biases"])
def test_every_parameter_setter_checks(net: dagnet.Network, case: str, name: str) -> None:
    values, fragment = BAD_PARAMETERS[case]
    before = (net.weights.copy(), net.biases.copy())
    with pytest.raises(ArgumentError, match=fragment):
        setattr(net, name, values)
    np.testing.assert_array_equal(net.weights, before[0])
    np.testing.assert_array_equal(net.biases, before[1])


def test_a_float32_network_refuses_weights_beyond_float32(net: dagnet.Network) -> None:
    net32 = dagnet.Network(net.graph, dtype=np.float32)
    with pytest.raises(ArgumentError, match="beyond float32's range"):
        net32.weights = [1e300, 0.0, 0.0]


def test_network_needs_a_graph() -> None:
    with pytest.raises(ArgumentError, match="Network needs a Graph"):
        dagnet.Network("graphs/xor.json")  # type: ignore[arg-type]


def test_network_refuses_a_graph_built_without_validation() -> None:
    graph = dagnet.Graph.model_construct(format_version=1, units=[{"id": "x"}], edges=[])
    with pytest.raises(dagnet.DagnetError):
        dagnet.Network(graph)


def test_the_engine_methods_refuse_arrays_the_kernels_cannot_index(net: dagnet.Network) -> None:
    x = np.zeros((1, 4))
    with pytest.raises(ArgumentError, match=r"x must be a float array of shape \(1, N\)"):
        net.evaluate(np.zeros((2, 4)))
    with pytest.raises(ArgumentError, match="x must be a float array"):
        net.evaluate([[0.0]])  # type: ignore[arg-type]
    other = dagnet.Network(dagnet.Graph.model_validate(_wider_graph()))
    net32 = dagnet.Network(net.graph, dtype=np.float32)
    for workspace in (other.workspace(4), net.workspace(8), net32.workspace(4)):
        with pytest.raises(ArgumentError):
            net.evaluate(x, workspace)
    s, z = net.evaluate(x)
    with pytest.raises(ArgumentError, match=r"y must be a float array of shape \(1, 4\)"):
        net.backpropagate(s, z, np.zeros((1, 5)))
    with pytest.raises(ArgumentError, match="z must be"):
        net.backpropagate(s, z[:, :2], np.zeros((1, 4)))
    with pytest.raises(ArgumentError):
        net.loss_and_gradients(x, np.zeros((2, 4)), net.workspace(4, split=True))
    with pytest.raises(ArgumentError):
        net.loss_and_gradients(x, np.zeros((1, 4)), other.workspace(4, split=True))
    loss, _, _ = net.loss_and_gradients(x, np.zeros((1, 4)), net.workspace(4, split=True))
    assert np.isfinite(loss)


def _wider_graph() -> dict[str, Any]:
    document = small_graph()
    document["units"].insert(2, {"id": "h2"})
    document["edges"] += [{"source": "x", "target": "h2"}, {"source": "h2", "target": "y"}]
    return document


def test_load_data_refuses_complex_and_object_arrays(tmp_path: Path) -> None:
    graph = dagnet.Graph.model_validate(small_graph())
    np.savez(tmp_path / "complex.npz", x=np.ones(3, complex), y=np.ones(3))
    with pytest.raises(
        DataError, match="array 'x' holds complex numbers; dagnet takes real numbers"
    ):
        dagnet.load_data(graph, tmp_path / "complex.npz")
    np.savez(tmp_path / "objects.npz", x=np.array([1, "a"], dtype=object), y=np.ones(2))
    with pytest.raises(DataError, match="array 'x' holds Python objects, not numbers"):
        dagnet.load_data(graph, tmp_path / "objects.npz")


def test_a_float32_network_refuses_inputs_beyond_float32(net: dagnet.Network) -> None:
    net32 = dagnet.Network(net.graph, dtype=np.float32)
    message = r"inputs: row 2, column 1 \(unit x\) is 1e\+39, beyond float32's range"
    with pytest.raises(DataError, match=message):
        net32.forward([[0.0], [1e39]])
    with pytest.raises(DataError, match="targets: row 1, column 1"):
        dagnet.fit(net32, [[0.0]], [[-1e39]], epochs=1, learning_rate=0.1)
    assert net.forward([[1e39]]).shape == (1, 1)  # float64 takes it


@pytest.mark.parametrize(
    "column, message",
    [
        (np.ones(2, complex), "column 'x' holds complex numbers; expected real numbers"),
        (["a", "b"], "column 'x' holds text"),
        ([[1.0], [2.0, 3.0]], "column 'x' holds values that are not numbers"),
        (np.zeros((2, 2)), r"column 'x' has shape \(2, 2\)"),
    ],
)
def test_dataset_from_columns_refuses_what_is_not_a_column_of_numbers(
    column: Any, message: str
) -> None:
    graph = dagnet.Graph.model_validate(small_graph())
    with pytest.raises(DataError, match=message):
        dataset_from_columns(graph, {"x": column, "y": np.ones(2)}, "test")


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"epochs": 1.5}, "epochs must be a whole number, not 1.5"),
        ({"batch_size": "8"}, "batch_size must be a whole number, not '8'"),
        ({"learning_rate": "0.1"}, "learning_rate must be a finite number above 0"),
        ({"seed": -1}, "seed must be a whole number ≥ 0 or None, not -1"),
        ({"seed": 0.5}, "seed must be a whole number"),
    ],
)
def test_fit_refuses_settings_of_the_wrong_kind(
    net: dagnet.Network, settings: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"epochs": 1, "learning_rate": 0.1} | settings
    with pytest.raises(ArgumentError, match=message):
        dagnet.fit(net, [[0.0]], [[0.0]], **arguments)


def test_network_and_load_data_refuse_arguments_of_the_wrong_kind(net: dagnet.Network) -> None:
    with pytest.raises(ArgumentError, match="seed must be"):
        dagnet.Network(net.graph, seed=-5)
    with pytest.raises(ArgumentError, match="dtype must be float64 or float32, not 'garbage'"):
        dagnet.Network(net.graph, dtype="garbage")
    with pytest.raises(ArgumentError, match="load_data needs a Graph"):
        dagnet.load_data("graphs/xor.json")  # type: ignore[arg-type]
    for batch in (0, -1, 2.5):
        with pytest.raises(ArgumentError, match="batch must be a whole number ≥ 1"):
            net.workspace(batch)  # type: ignore[arg-type]
