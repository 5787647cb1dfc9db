"""ONNX export: onnxruntime runs the model with the network's outputs, for every activation,
and the model's size grows with levels and activation kinds, not with units."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
import onnxruntime

import dagnet
from dagnet.errors import ExtraMissing
from dagnet.interop.onnx_export import OPSET, to_onnx
from tests.interop.graphs import every_activation
from tests.strategies import (
    KINKED_ACTIVATIONS,
    SMOOTH_ACTIVATIONS,
    graphs_with_data,
    graphs_with_losses,
)

examples = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def run(model: Any, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"inputs": x})[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-9), ("float32", 1e-5)])
def test_every_activation_runs_in_onnxruntime_as_in_dagnet(dtype: str, tolerance: float) -> None:
    net = dagnet.Network(every_activation(), dtype=dtype)
    x = np.random.default_rng(1).uniform(-3, 3, size=(64, 2))
    x[0] = 0.0  # every unit at s = bias, the kinks at 0 among them when a bias is 0
    model = to_onnx(net)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version >= 17 == OPSET
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.helper.np_dtype_to_tensor_dtype(
        np.dtype(dtype)
    )
    y = run(model, x.astype(dtype))
    assert y.dtype == np.dtype(dtype) and y.shape == (64, 2)
    np.testing.assert_allclose(y, net.forward(x), rtol=tolerance, atol=tolerance)


def test_a_float64_erf_of_basic_operators_is_the_c_librarys() -> None:
    net = dagnet.Network(dagnet.Graph.model_validate({"format_version": 1, "units": [
        {"id": "x", "role": "input"}, {"id": "y", "role": "output", "activation": "gelu"}],
        "edges": [{"source": "x", "target": "y", "weight": 1.0}]}))  # fmt: skip
    model = to_onnx(net)
    assert "Erf" not in {node.op_type for node in model.graph.node}
    assert "Erf" in {node.op_type for node in to_onnx(net, "float32").graph.node}
    x = np.concatenate([np.linspace(-12, 12, 20001), [0.0, -0.0, 1e-300, -1e-300, 8.5, 40.0]])
    x = np.concatenate([x, np.random.default_rng(3).uniform(-10, 10, 20000)])[:, None]
    # gelu(s) = s/2 (1 + erf(s/√2)): erf's differences (2.2e-16 at most) times |s|/2 ≤ 6, and
    # an ulp of the product.
    np.testing.assert_allclose(run(model, x), net.forward(x), rtol=5e-16, atol=1.5e-15)


@examples
@given(graphs_with_data())
def test_random_graphs_run_in_onnxruntime_as_in_dagnet(case: Any) -> None:
    graph, x, _ = case
    net = dagnet.Network(graph)
    np.testing.assert_allclose(run(to_onnx(net), x), net.forward(x), rtol=1e-9, atol=1e-9)


@settings(examples, max_examples=20)
@given(graphs_with_data(("gelu", "tanh", "identity")))
def test_random_gelu_graphs_run_in_float64_as_in_dagnet(case: Any) -> None:
    graph, x, _ = case
    net = dagnet.Network(graph)
    np.testing.assert_allclose(run(to_onnx(net), x), net.forward(x), rtol=1e-9, atol=1e-9)


@settings(examples, max_examples=20)
# Random graphs of the activations that stay well-conditioned (1/s near 0 magnifies float32's
# rounding past any tolerance; the first test covers every activation at fixed points).
@given(graphs_with_data((*SMOOTH_ACTIVATIONS, *KINKED_ACTIVATIONS, "gelu")))
def test_a_float32_model_of_a_float64_network_is_close(case: Any) -> None:
    graph, x, _ = case
    net = dagnet.Network(graph)
    y = run(to_onnx(net, "float32"), x.astype(np.float32))
    np.testing.assert_allclose(y, net.forward(x), rtol=1e-5, atol=1e-5)


@settings(examples, max_examples=40)
@given(graphs_with_losses())
def test_the_outputs_are_probabilities_as_dagnet_predict_writes_them(case: Any) -> None:
    graph, x, _ = case  # heads of every kind: cross-entropy, a softmax group, squared error
    net = dagnet.Network(graph)
    expected = net.probabilities(x)
    np.testing.assert_allclose(run(to_onnx(net), x), expected, rtol=1e-9, atol=1e-9)
    y = run(to_onnx(net, "float32"), x.astype(np.float32))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_a_softmax_group_is_four_nodes_more() -> None:
    graph = every_activation()
    identity = graph.model_copy(update={"units": [
        unit.model_copy(update={"activation": None}) if unit.role == "output" else unit
        for unit in graph.units]})  # fmt: skip
    plain = to_onnx(dagnet.Network(identity))
    net = dagnet.Network(identity, loss="softmax_cross_entropy")
    model = to_onnx(net)
    # A Gather of the group's logits, its Softmax, a Concat and the Gather that reorders.
    assert len(model.graph.node) == len(plain.graph.node) + 4
    x = np.random.default_rng(2).uniform(-2, 2, size=(10, 2))
    y = run(model, x)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(y, net.probabilities(x), rtol=1e-9, atol=1e-9)
    assert not np.allclose(run(plain, x), y)


def test_nodes_grow_with_levels_and_kinds_not_units() -> None:
    narrow = len(to_onnx(dagnet.Network(every_activation(1))).graph.node)
    wide = len(to_onnx(dagnet.Network(every_activation(20))).graph.node)
    assert narrow == wide


def test_a_deep_graph_has_a_few_nodes_per_level() -> None:
    from dagnet.bench.shapes import SHAPES

    net = dagnet.Network(dagnet.Graph.model_validate(SHAPES["deep"](1200, 0)), seed=0)
    depth = len(set(net.plan.levels().tolist())) - 1
    nodes = len(to_onnx(net).graph.node)
    assert nodes <= 5 * depth + 1


def test_a_unit_nothing_feeds_is_its_bias() -> None:
    graph = dagnet.Graph.model_validate({"format_version": 1, "units": [
        {"id": "x", "role": "input"}, {"id": "c", "activation": "tanh", "bias": 0.5},
        {"id": "y", "role": "output"}], "edges": [
        {"source": "x", "target": "y", "weight": 2.0},
        {"source": "c", "target": "y", "weight": 1.0}]})  # fmt: skip
    net = dagnet.Network(graph)
    x = np.array([[1.0], [-1.0]])
    np.testing.assert_allclose(run(to_onnx(net), x), net.forward(x), rtol=1e-12)


def test_an_unknown_dtype_is_refused() -> None:
    with pytest.raises(dagnet.ArgumentError, match="float64 or float32"):
        to_onnx(dagnet.Network(every_activation()), "float16")


def test_without_onnx_the_message_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ExtraMissing, match=r"pip install 'dagnet\[onnx\]'"):
        to_onnx(dagnet.Network(every_activation()))
