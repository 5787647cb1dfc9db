"""Backpropagation against finite differences that estimate their own error: correct networks
pass with the defaults, trained or not, and a gradient wrong by 1% (or 1e-4) fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import dagnet
from dagnet.bench.shapes import random_dag
from dagnet.engine.network import Network
from dagnet.functions.activations import ACTIVATIONS
from dagnet.showing.gradcheck import (
    TOLERANCE,
    directional_check,
    finite_differences,
    gradcheck,
    relative_error,
)
from tests.conftest import EXAMPLES, GRAPHS, small_graph
from tests.showing.networks import digits_like, local_net


@contextmanager
def sabotaged(edge: int, factor: float) -> Iterator[None]:
    """Backpropagation with the gradient of one edge (Plan order) scaled by ``factor``."""
    honest = Network.backpropagate

    def wrong(self: Network, *args: Any, **kwargs: Any) -> tuple[float, Any, Any]:
        loss, weight_gradient, bias_gradient = honest(self, *args, **kwargs)
        weight_gradient[edge] *= factor
        return loss, weight_gradient, bias_gradient

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Network, "backpropagate", wrong)
        yield


def worst(checks: list[Any]) -> float:
    return max(check.relative_error for check in checks)


def test_relative_error_is_what_the_uncertainty_does_not_explain() -> None:
    assert relative_error(2.0, 2.002)[()] == pytest.approx(0.001 / 1.001)
    assert relative_error(-1.0, 1.0)[()] == pytest.approx(2.0)
    assert relative_error(2.0, 2.002, 0.001)[()] == pytest.approx(0.001 / 2.002)
    assert relative_error(1e-15, -1e-15, 1e-14)[()] == 0.0
    assert relative_error(0.0, 0.0)[()] == 0.0


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_engine_passes_on_every_example(name: str) -> None:
    graph = dagnet.load_graph(GRAPHS / f"{name}.json")
    net = Network(graph, seed=1)
    data = dagnet.load_data(graph, base=GRAPHS)
    weight, bias = net.weight.copy(), net.bias.copy()
    checks = gradcheck(net, data.inputs, data.targets)
    assert [check.unit for check in checks] == list(net.plan.unit_ids[net.plan.n_inputs :])
    assert worst(checks) <= TOLERANCE
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
    d = finite_differences(net, x, t)
    assert d.weight[0] == pytest.approx(((2 * x - t) * x).mean(), rel=1e-12)
    assert d.bias[1] == pytest.approx((2 * x - t).mean(), rel=1e-12)
    assert d.bias[0] == 0.0  # the input unit has no bias
    assert 0 < d.weight_uncertainty[0] < 1e-9


@pytest.fixture(scope="module")
def local() -> tuple[Network, np.ndarray, np.ndarray]:
    """The issue's 117-unit, 1,374-edge locally connected network, on 1,437 examples."""
    net = Network(dagnet.Graph.model_validate(local_net()))
    x, y = digits_like()
    return net, x, y


def test_a_trained_and_an_untrained_local_net_pass(local: tuple[Network, Any, Any]) -> None:
    net, x, y = local
    assert net.plan.n_edges == 1374 and net.plan.n_units == 117
    assert worst(gradcheck(net, x, y)) <= TOLERANCE
    trained = Network(net.graph)
    dagnet.fit(trained, x, y, epochs=20, learning_rate=0.5, batch_size=32, seed=0)
    checks = gradcheck(trained, x, y)
    assert worst(checks) <= TOLERANCE
    # Trained, the gradients are small: the old fixed step failed them on rounding alone.
    assert min(abs(check.engine) for check in checks) < 1e-4


@pytest.mark.parametrize(("factor", "edge"), [(1.01, 0), (1.01, 1373), (1 + 1e-4, 1373)])
def test_a_wrong_gradient_fails(local: tuple[Network, Any, Any], factor: float, edge: int) -> None:
    net, x, y = local
    with sabotaged(edge, factor):
        checks = gradcheck(net, x, y)
    [bad] = [check for check in checks if check.relative_error > TOLERANCE]
    assert bad.unit == net.plan.unit_ids[net.plan.edge_target[edge]]
    assert bad.relative_error == pytest.approx((factor - 1) / factor, rel=0.01)


EXPLOSIVE = ("cube", "exp", "neat_sin", "square")
"""Stacked 57 levels deep in every unit of the random DAG, these overflow (cube, exp, and
square, whose exponent doubles a level once a unit's sum passes 1) or turn chaotic (sin(5s)),
so no difference quotient of the loss means anything; each is checked on a small network
instead, below."""


@pytest.mark.parametrize("activation", [a for a in ACTIVATIONS if a not in EXPLOSIVE])
def test_random_dags_pass_with_every_activation(activation: str) -> None:
    document = random_dag(3000, seed=3)  # (the generator needs ~3k edges at least)
    for unit in document["units"]:
        if unit.get("role") != "input":
            unit["activation"] = activation
    net = Network(dagnet.Graph.model_validate(document), seed=0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, len(net.input_ids)))
    y = rng.normal(size=(32, len(net.output_ids)))
    checks = gradcheck(net, x, y, sample=150)
    assert worst(checks) <= TOLERANCE
    kinks = sum(check.kinks for check in checks)
    assert kinks == 0 or ACTIVATIONS[activation].kinks


def test_a_sample_checks_only_that_many_parameters(local: tuple[Network, Any, Any]) -> None:
    net, x, y = local
    checks = gradcheck(net, x, y, sample=40, seed=1)
    assert sum(check.parameters for check in checks) == 40
    assert worst(checks) <= TOLERANCE


def test_random_directions_pass_and_catch_a_wrong_gradient(
    local: tuple[Network, Any, Any],
) -> None:
    net, x, y = local
    assert max(check.relative_error for check in directional_check(net, x, y, 3)) <= TOLERANCE
    # A 1% error in the largest gradient moves g·v by far more than the difference's error.
    g = net.backpropagate(*net.evaluate(x.T.copy()), y.T.copy())[1]
    with sabotaged(int(np.argmax(np.abs(g))), 1.01):
        checks = directional_check(net, x, y, 3)
    assert all(check.relative_error > TOLERANCE for check in checks)


def test_a_float32_network_is_refused() -> None:
    graph = dagnet.load_graph(GRAPHS / "xor.json")
    net = Network(graph, seed=0, dtype=np.float32)
    data = dagnet.load_data(graph, base=GRAPHS)
    with pytest.raises(dagnet.ArgumentError, match="needs a float64 network"):
        gradcheck(net, data.inputs, data.targets)


@pytest.mark.parametrize("activation", EXPLOSIVE)
def test_explosive_activations_pass_on_a_small_network(activation: str) -> None:
    document = small_graph()
    document["units"][1]["activation"] = activation
    net = Network(dagnet.Graph.model_validate(document), seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 1)), rng.normal(size=(16, 1))
    assert worst(gradcheck(net, x, y)) <= TOLERANCE
