"""explain and gradcheck for every loss: the fused error signals written out, their numbers the
engine's, and the gradient check passing on networks with each loss."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import dagnet
from dagnet.showing.explain import ASCII, equations, header, step, step_lines
from dagnet.showing.gradcheck import directional_check, gradcheck
from tests.training.test_objective import _classes, _classifier


def test_explain_writes_each_loss_its_own_error_signal() -> None:
    net = dagnet.Network(_classifier())
    lines = equations(net)
    # p is a sigmoid output fed by the group's c0: its δ is fused, plus nothing flows back.
    assert "  δ_p = 0.5 · (ŷ_p − y_p)" in lines
    # c0 feeds p: the softmax's own part, then f' = 1 times what p sends back.
    assert "  δ_{c0} = p_{c0} − y_{c0} + δ_p · w_{c0→p}" in lines
    assert any("p_o = e^(ŷ_o) / Σ_r e^(ŷ_r)" in line and "(kind)" in line for line in lines)
    text = header(net)[0]
    assert "E = E_kind + 0.5 · E_p" in text and "softmax" in text
    assert "  d_p = 0.5 * (yhat_p - y_p)" in equations(net, ASCII)


def test_explain_numbers_are_the_engines_for_every_loss() -> None:
    net = dagnet.Network(_classifier())
    x, y = _classes(1, seed=5)
    result = step(net, x[0], y[0], learning_rate=0.1)
    grads = net.gradients(x, y)
    assert_allclose(result.loss, grads.loss, rtol=1e-12)
    changes = np.array([result.weight_change[edge] for edge in net.edges])
    assert_allclose(changes, -0.1 * grads.weights, rtol=1e-10, atol=1e-14)
    lines = step_lines(net, result)
    assert any(line.startswith("  E = −y_{c0} ln p_{c0}") for line in lines)
    assert_allclose(sum(result.p[u] for u in ("c0", "c1", "c2")), 1.0)


@pytest.mark.parametrize("loss", ["squared_error", "cross_entropy", "softmax_cross_entropy"])
def test_gradcheck_passes_for_every_loss(loss: str) -> None:
    graph = dagnet.load_graph("graphs/digits.json")
    if loss == "cross_entropy":  # sigmoid outputs, one class per output
        units = [
            u.model_copy(update={"activation": "sigmoid"}) if u.role == "output" else u
            for u in graph.units
        ]
        graph = graph.model_copy(update={"units": units, "training": None})
    net = dagnet.Network(graph, loss=loss)
    data = dagnet.load_data(dagnet.load_graph("graphs/digits.json"), "graphs/digits_test.npz")
    x, y = data.inputs[:40], data.targets[:40]
    checks = gradcheck(net, x, y, sample=300, seed=1)
    assert max(check.relative_error for check in checks) <= 1e-6
    for result in directional_check(net, x, y, directions=3, seed=2):
        assert result.relative_error <= 1e-6
