"""The equations of a network written out, and one step with the engine's numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dagnet
from dagnet.showing import reference
from dagnet.showing.explain import ASCII, equations, step
from tests.conftest import EXAMPLES, GRAPHS


def test_ascii_renders_case_3_in_plain_symbols() -> None:
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "multi_output.json"))
    lines = equations(net, ASCII)
    assert "  d_i = sigma'(s_i) * (d_j * w[i->j] + d_k * w[i->k])" in lines
    assert "  d_o = yhat_o - y_o" in lines
    assert "  Dw[x->i] = -(eta/N) sum_n d_i z_x" in lines


def test_each_unit_has_its_own_derivative_and_an_output_that_feeds_on_gets_both_terms(
    tmp_path: Path,
) -> None:
    graph = dagnet.Graph.model_validate(
        {
            "format_version": 1,
            "units": [
                {"id": "x", "role": "input"},
                {"id": "h1", "activation": "relu"},
                {"id": "y", "role": "output", "activation": "tanh"},
                {"id": "h2", "activation": "gaussian"},
                {"id": "z", "role": "output"},
                {"id": "dead", "activation": "sin"},
            ],
            "edges": [
                {"source": "x", "target": "h1"},
                {"source": "h1", "target": "y"},
                {"source": "y", "target": "h2"},
                {"source": "h2", "target": "z"},
                {"source": "x", "target": "dead"},
            ],
        }
    )
    lines = equations(dagnet.Network(graph, seed=0))
    assert "  δ_y = tanh'(s_y) · (ŷ_y − y_y + δ_{h2} · w_{y→h2})" in lines
    assert "  δ_{h1} = relu'(s_{h1}) · δ_y · w_{h1→y}" in lines
    assert "  δ_z = ŷ_z − y_z" in lines
    assert "  δ_{dead} = 0" in lines
    assert "  where relu'(s) = 1 if s > 0, else 0" in lines
    assert "  where gaussian'(s) = −2s·e^(−s²)" in lines


def _single(net: dagnet.Network, x: np.ndarray, y: np.ndarray) -> dagnet.Gradients:
    return net.gradients(x[None, :], y[None, :])


@pytest.mark.parametrize("name", EXAMPLES)
def test_step_agrees_with_the_engine_and_the_reference(name: str) -> None:
    graph = dagnet.load_graph(GRAPHS / f"{name}.json")
    net = dagnet.Network(graph, seed=3)
    data = dagnet.load_data(graph, base=GRAPHS)
    assert data.targets is not None
    oracle = reference.ReferenceNetwork.from_graph(net.to_graph())
    for k in (0, data.n_examples // 2, data.n_examples - 1):
        x, y = data.inputs[k], data.targets[k]
        result = step(net, x, y, learning_rate=0.25)
        trace = net.trace(x[None, :])
        for column, unit in enumerate(trace.unit_ids):
            assert result.s[unit] == pytest.approx(trace.s[0, column], rel=1e-12, abs=1e-14)
            assert result.z[unit] == pytest.approx(trace.z[0, column], rel=1e-12, abs=1e-14)
        # For one example ∂E/∂b_j is δ_j itself, and ∂E/∂w_{i→j} = δ_j z_i.
        grads = _single(net, x, y)
        for index, unit in enumerate(net.unit_ids):
            if unit in result.delta:
                assert result.delta[unit] == pytest.approx(grads.biases[index], abs=1e-12)
                assert result.bias_change[unit] == pytest.approx(-0.25 * grads.biases[index])
        for index, edge in enumerate(net.edges):
            assert result.weight_change[edge] == pytest.approx(
                -0.25 * grads.weights[index], abs=1e-12
            )
        assert result.loss == pytest.approx(grads.loss, rel=1e-12)
        s, z = reference.forward(oracle, x)
        delta = reference.backward(oracle, s, z, y)
        assert result.delta == pytest.approx(delta, abs=1e-12)


def test_unit_lines_number_the_same_values_as_the_whole_step() -> None:
    from dagnet.showing.explain import step, step_lines, unit_lines

    net = dagnet.Network(dagnet.load_graph(GRAPHS / "multi_output.json"), seed=0)
    result = step(net, [0.3], [0.2], learning_rate=0.5)
    whole = step_lines(net, result)
    mine = unit_lines(net, "j", result=result)
    for line in mine:
        if line.startswith(("  s_j", "  δ_j", "  Δw_{i→j}", "  Δb_j")):
            assert line in whole
