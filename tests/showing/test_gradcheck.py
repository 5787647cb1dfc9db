"""Backpropagation against central finite differences, worst error per unit."""

from __future__ import annotations

import numpy as np
import pytest

import dagnet
from dagnet.engine.network import Network
from dagnet.showing.gradcheck import FLOOR, finite_differences, gradcheck, relative_error
from tests.conftest import EXAMPLES, GRAPHS, small_graph


def test_relative_error_is_a_ratio_above_the_floor_and_absolute_below_it() -> None:
    assert relative_error(2.0, 2.002)[()] == pytest.approx(0.001 / 1.001)
    assert relative_error(-1.0, 1.0)[()] == pytest.approx(2.0)
    # Two rounding errors near zero are not a 100% error: the floor scales them.
    assert relative_error(1e-15, -1e-15)[()] == pytest.approx(2e-15 / FLOOR)
    assert relative_error(0.0, 0.0)[()] == 0.0


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_engine_passes_on_every_example(name: str) -> None:
    graph = dagnet.load_graph(GRAPHS / f"{name}.json")
    net = Network(graph, seed=1)
    data = dagnet.load_data(graph, base=GRAPHS)
    weight, bias = net.weight.copy(), net.bias.copy()
    checks = gradcheck(net, data.inputs, data.targets)
    assert [check.unit for check in checks] == list(net.plan.unit_ids[net.plan.n_inputs :])
    assert max(check.relative_error for check in checks) < 1e-6
    # The check perturbs the parameters in place and must put every one back exactly.
    assert np.array_equal(net.weight, weight) and np.array_equal(net.bias, bias)


def test_finite_differences_match_a_hand_computed_gradient() -> None:
    # y = 2x + b, E = ½ (y − t)² averaged: ∂E/∂w = mean((2x − t) x), ∂E/∂b = mean(2x − t).
    graph = dagnet.Graph.model_validate(
        small_graph(units=small_graph()["units"][::2], edges=[small_graph()["edges"][2]])
    )
    net = Network(graph)
    net.weights = [2.0]
    x, t = np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])
    weight, bias = finite_differences(net, x, t)
    assert weight[0] == pytest.approx(((2 * x - t) * x).mean(), rel=1e-8)
    assert bias[1] == pytest.approx((2 * x - t).mean(), rel=1e-8)
    assert bias[0] == 0.0  # the input unit has no bias
