"""Gradients by backpropagation: against finite differences, the reference engine, the closed
forms of the derivation's three cases (graphs/derivation.md), and the update rule Δw = −η ∂E/∂w."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import dagnet
from dagnet.functions.activations import ACTIVATION_NAMES
from dagnet.graph.model import Graph
from dagnet.showing import reference
from tests.conftest import run_without_jit
from tests.strategies import (
    KINKED_ACTIVATIONS,
    SMOOTH_ACTIVATIONS,
    batches,
    graphs,
    graphs_with_data,
    reordered,
)

# Central differences with h = 1e-6 err by truncation h² f''' / 6 plus rounding ε E / h: about
# 1e-9 on the small network below, below 1e-7 on random DAGs (elu, whose f'' jumps at 0, adds up
# to h/4 for each unit sitting on the jump).
H = 1e-6
FD_TOLERANCE = {"rtol": 1e-6, "atol": 1e-6}
# The compiled and reference engines sum in different orders; they agree to rounding.
ENGINE_TOLERANCE = {"rtol": 1e-10, "atol": 1e-10}

examples = settings(max_examples=50, deadline=None, derandomize=True, database=None)


def central_differences(
    net: dagnet.Network, x: np.ndarray, y: np.ndarray, h: float = H
) -> tuple[np.ndarray, np.ndarray]:
    """(E(p + h) − E(p − h)) / 2h for every weight and every bias, in file order."""
    result = []
    for name in ("weights", "biases"):
        p = getattr(net, name)
        gradient = np.zeros_like(p)
        for index in range(len(p)):
            losses = []
            for step in (h, -h):
                q = p.copy()
                q[index] += step
                setattr(net, name, q)
                losses.append(net.loss(x, y))
            gradient[index] = (losses[0] - losses[1]) / (2 * h)
        setattr(net, name, p)
        result.append(gradient)
    return result[0], result[1]


def near_kink(net: dagnet.Network, x: np.ndarray, margin: float = 1e-9) -> bool:
    """Whether a relu-like unit has |s| < margin, where rounding may pick either slope."""
    s = net.trace(x).s
    kinked = [u.effective_activation in KINKED_ACTIVATIONS for u in net.graph.units]
    return bool(np.any(np.abs(s[:, kinked]) < margin))


def reference_results(graph: Graph, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The reference engine's ŷ, E, ∂E/∂w and ∂E/∂b as arrays in the graph file's order."""
    net = reference.ReferenceNetwork.from_graph(graph)
    grads = reference.gradients(net, x.tolist(), y.tolist())
    outputs = [u.id for u in graph.units if u.role == "output"]
    y_hat = [[reference.forward(net, row)[1][o] for o in outputs] for row in x.tolist()]
    return {
        "forward": np.array(y_hat),
        "loss": np.array(grads.loss),
        "weights": np.array([grads.weight[e.source, e.target] for e in graph.edges]),
        "biases": np.array([grads.bias.get(u.id, 0.0) for u in graph.units]),
    }


# Every activation on one small network with an output that feeds another unit and a skip edge


def small_network(activation: str) -> dagnet.Network:
    """x1, x2 → h1 → h2 → y1 → y2 with skips; h1, h2, y1 use ``activation``, y2 identity."""
    edges = [
        ("x1", "h1", 0.8), ("x2", "h1", -0.5), ("x1", "h2", -0.6), ("h1", "h2", 0.9),
        ("h1", "y1", 0.7), ("h2", "y1", -1.1), ("y1", "y2", 1.3), ("h2", "y2", 0.4),
        ("x2", "y2", -0.9),
    ]  # fmt: skip
    graph = Graph.model_validate({
        "format_version": 1,
        "units": [
            {"id": "x1", "role": "input"},
            {"id": "x2", "role": "input"},
            {"id": "h1", "activation": activation, "bias": 0.1},
            {"id": "h2", "activation": activation, "bias": -0.2},
            {"id": "y1", "role": "output", "activation": activation, "bias": 0.3},
            {"id": "y2", "role": "output", "bias": -0.1},
        ],
        "edges": [{"source": s, "target": t, "weight": w} for s, t, w in edges],
    })  # fmt: skip
    return dagnet.Network(graph)


SMALL_X = np.array([[0.5, -1.0], [1.2, 0.4], [-0.7, 0.9]])
SMALL_Y = np.array([[0.2, -0.3], [0.5, 0.1], [-0.4, 0.6]])


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_gradients_match_central_differences_for_each_activation(activation: str) -> None:
    net = small_network(activation)
    common = activation in SMOOTH_ACTIVATIONS + KINKED_ACTIVATIONS
    # The others have kinks away from 0 (clamped at s = 1, which SMALL_X reaches exactly).
    x = SMALL_X if common else 0.9 * SMALL_X
    if common:
        # Every s is at least 0.01 away from relu's kink, and h = 1e-6 cannot cross it.
        assert np.all(np.abs(net.trace(x).s[:, 2:]) > 0.01)
    grads = net.gradients(x, SMALL_Y)
    weights, biases = central_differences(net, x, SMALL_Y)
    if common:  # the others may be flat where some s falls (step everywhere)
        assert np.all(grads.weights != 0)
    assert_allclose(grads.weights, weights, rtol=1e-6, atol=1e-8)
    assert_allclose(grads.biases, biases, rtol=1e-6, atol=1e-8)


@examples
@given(graphs_with_data(SMOOTH_ACTIVATIONS))
def test_gradients_match_central_differences_on_random_dags(case) -> None:
    graph, x, y = case
    net = dagnet.Network(graph)
    grads = net.gradients(x, y)
    weights, biases = central_differences(net, x, y)
    assert_allclose(grads.weights, weights, **FD_TOLERANCE)
    assert_allclose(grads.biases, biases, **FD_TOLERANCE)


@settings(examples, max_examples=100)
@given(graphs_with_data())
def test_compiled_engine_matches_reference(case) -> None:
    graph, x, y = case
    net = dagnet.Network(graph)
    assume(not near_kink(net, x))
    expected = reference_results(graph, x, y)
    grads = net.gradients(x, y)
    assert_allclose(net.forward(x), expected["forward"], **ENGINE_TOLERANCE)
    assert_allclose(net.loss(x, y), expected["loss"], **ENGINE_TOLERANCE)
    assert_allclose(grads.loss, expected["loss"], **ENGINE_TOLERANCE)
    assert_allclose(grads.weights, expected["weights"], **ENGINE_TOLERANCE)
    assert_allclose(grads.biases, expected["biases"], **ENGINE_TOLERANCE)


@examples
@given(graphs_with_data(), st.data())
def test_file_order_of_units_and_edges_does_not_matter(case, data) -> None:
    graph, x, y = case
    other = data.draw(reordered(graph))
    net, other_net = dagnet.Network(graph), dagnet.Network(other)
    assume(not near_kink(net, x))
    # Inputs and outputs are columns in file order; map them, and parameters, by id.
    x_other = x[:, [net.input_ids.index(u) for u in other_net.input_ids]]
    y_other = y[:, [net.output_ids.index(u) for u in other_net.output_ids]]
    outputs = [other_net.output_ids.index(u) for u in net.output_ids]
    edges = [other_net.edges.index(e) for e in net.edges]
    units = [other_net.unit_ids.index(u) for u in net.unit_ids]

    grads, other_grads = net.gradients(x, y), other_net.gradients(x_other, y_other)
    rounding = {"rtol": 1e-12, "atol": 1e-12}
    assert_allclose(other_net.forward(x_other)[:, outputs], net.forward(x), **rounding)
    assert_allclose(other_grads.loss, grads.loss, **rounding)
    assert_allclose(other_grads.weights[edges], grads.weights, **rounding)
    assert_allclose(other_grads.biases[units], grads.biases, **rounding)


# The three cases of graphs/derivation.md, in closed form, with biases 0.


def sigma(s: float) -> float:
    return 1.0 / (1.0 + np.exp(-s))


def sigma_prime(s: float) -> float:
    return sigma(s) * (1.0 - sigma(s))


def example_network(example_path, name: str, weights: list[float]) -> dagnet.Network:
    net = dagnet.Network(dagnet.load_graph(example_path(name)), seed=0)
    net.weights = weights
    net.biases = np.zeros(len(net.unit_ids))
    return net


def test_case_1_one_path(example_path) -> None:
    # x = 1, y = 0.5; w_{i→j} = 0.5, w_{j→k} = -1, w_{k→o} = 2.
    #   s_j = 0.5        z_j = σ(0.5) = 0.622459     σ'(s_j) = 0.235004
    #   s_k = -0.622459  z_k = 0.349222              σ'(s_k) = 0.227266
    #   ŷ = 2 z_k = 0.698445, ŷ − y = 0.198445, E = ½ (ŷ − y)² = 0.019690
    #   ∂E/∂w_{k→o} = 0.198445 · 0.349222                                    = 0.069301
    #   ∂E/∂w_{j→k} = 0.198445 · 2 · 0.227266 · 0.622459                     = 0.056146
    #   ∂E/∂w_{i→j} = 0.198445 · 2 · 0.227266 · (-1) · 0.235004 · 1          = -0.021197
    x, y = 1.0, 0.5
    w_ij, w_jk, w_ko = 0.5, -1.0, 2.0
    net = example_network(example_path, "one_path", [w_ij, w_jk, w_ko])
    assert net.edges == (("i", "j"), ("j", "k"), ("k", "o"))

    s_j = w_ij * x
    z_j = sigma(s_j)
    s_k = w_jk * z_j
    z_k = sigma(s_k)
    error = w_ko * z_k - y
    grads = net.gradients([[x]], [[y]])
    assert_allclose(grads.loss, 0.5 * error**2, rtol=1e-10, atol=1e-10)
    expected = [
        error * w_ko * sigma_prime(s_k) * w_jk * sigma_prime(s_j) * x,
        error * w_ko * sigma_prime(s_k) * z_j,
        error * z_k,
    ]
    assert_allclose(grads.weights, expected, rtol=1e-10, atol=1e-10)
    assert_allclose(grads.weights, [-0.021197, 0.056146, 0.069301], atol=1e-6)


def test_case_2_multiple_inputs(example_path) -> None:
    # z_i = 1, z_j = 2, y = 0; w_{i→k} = 0.4, w_{j→k} = -0.7, w_{k→o} = 1.5.
    #   s_k = 0.4 · 1 − 0.7 · 2 = -1    z_k = σ(-1) = 0.268941    σ'(s_k) = 0.196612
    #   ŷ = 1.5 z_k = 0.403412, ŷ − y = 0.403412
    #   ∂E/∂w_{i→k} = 0.403412 · 0.196612 · 1.5 · 1 = 0.118973
    #   ∂E/∂w_{j→k} = 0.403412 · 0.196612 · 1.5 · 2 = 0.237947   (rule 1: only z_j changes)
    #   ∂E/∂w_{k→o} = 0.403412 · 0.268941           = 0.108494
    z_i, z_j, y = 1.0, 2.0, 0.0
    w_ik, w_jk, w_ko = 0.4, -0.7, 1.5
    net = example_network(example_path, "multiple_inputs", [w_ik, w_jk, w_ko])
    assert net.edges == (("i", "k"), ("j", "k"), ("k", "o"))

    s_k = z_i * w_ik + z_j * w_jk
    error = w_ko * sigma(s_k) - y
    grads = net.gradients([[z_i, z_j]], [[y]])
    expected = [
        error * sigma_prime(s_k) * w_ko * z_i,
        error * sigma_prime(s_k) * w_ko * z_j,
        error * sigma(s_k),
    ]
    assert_allclose(grads.weights, expected, rtol=1e-10, atol=1e-10)
    assert_allclose(grads.weights, [0.118973, 0.237947, 0.108494], atol=1e-6)


def test_case_3_multi_output(example_path) -> None:
    # x = 1.5, y = 0.2; w_{x→i} = 0.6, w_{i→j} = -1.2, w_{i→k} = 0.8, w_{j→o} = 1.1,
    # w_{k→o} = -0.9.
    #   s_i = 0.9        z_i = 0.710950   σ'(s_i) = 0.205500
    #   s_j = -0.853139  z_j = 0.298775   σ'(s_j) = 0.209508
    #   s_k = 0.568760   z_k = 0.638477   σ'(s_k) = 0.230824
    #   ŷ = 1.1 z_j − 0.9 z_k = -0.245977, ŷ − y = -0.445977
    #   ∂E/∂w_{x→i} = -0.445977 · (1.1 · 0.209508 · (-1.2) · 0.205500
    #                              + (-0.9) · 0.230824 · 0.8 · 0.205500) · 1.5 = 0.060865
    #   (rule 2: the error comes back along both paths, i → j → o and i → k → o)
    #   ∂E/∂w_{i→j} = -0.445977 · 1.1 · 0.209508 · 0.710950    = -0.073071
    #   ∂E/∂w_{i→k} = -0.445977 · (-0.9) · 0.230824 · 0.710950 = 0.065868
    #   ∂E/∂w_{j→o} = -0.445977 · 0.298775                     = -0.133247
    #   ∂E/∂w_{k→o} = -0.445977 · 0.638477                     = -0.284746
    x, y = 1.5, 0.2
    w_xi, w_ij, w_ik, w_jo, w_ko = 0.6, -1.2, 0.8, 1.1, -0.9
    net = example_network(example_path, "multi_output", [w_xi, w_ij, w_ik, w_jo, w_ko])
    assert net.edges == (("x", "i"), ("i", "j"), ("i", "k"), ("j", "o"), ("k", "o"))

    s_i = w_xi * x
    z_i = sigma(s_i)
    s_j, s_k = w_ij * z_i, w_ik * z_i
    z_j, z_k = sigma(s_j), sigma(s_k)
    error = w_jo * z_j + w_ko * z_k - y
    grads = net.gradients([[x]], [[y]])
    paths = w_jo * sigma_prime(s_j) * w_ij * sigma_prime(s_i)
    paths += w_ko * sigma_prime(s_k) * w_ik * sigma_prime(s_i)
    expected = [
        error * paths * x,
        error * w_jo * sigma_prime(s_j) * z_i,
        error * w_ko * sigma_prime(s_k) * z_i,
        error * z_j,
        error * z_k,
    ]
    assert_allclose(grads.weights, expected, rtol=1e-10, atol=1e-10)
    worked = [0.060865, -0.073071, 0.065868, -0.133247, -0.284746]
    assert_allclose(grads.weights, worked, atol=1e-6)
    # ∂E/∂b_j = δ_j: δ_o = ŷ − y, δ_j = δ_o w_{j→o} σ'(s_j), δ_k likewise, δ_i sums both.
    delta_j = error * w_jo * sigma_prime(s_j)
    delta_k = error * w_ko * sigma_prime(s_k)
    delta_i = sigma_prime(s_i) * (delta_j * w_ij + delta_k * w_ik)
    expected_biases = [0.0, delta_i, delta_j, delta_k, error]
    assert_allclose(grads.biases, expected_biases, rtol=1e-10, atol=1e-10)


# One step of training


@settings(examples, max_examples=30)
@given(graphs_with_data())
def test_one_sgd_step_is_w_minus_learning_rate_times_gradient(case) -> None:
    graph, x, y = case
    learning_rate = 0.1
    net = dagnet.Network(graph, seed=0)
    assume(not near_kink(net, x))
    grads = net.gradients(x, y)
    weights, biases = net.weights, net.biases
    history = dagnet.fit(
        net, x, y, epochs=1, learning_rate=learning_rate, batch_size=len(x), shuffle=False
    )
    if len(x) > 1:
        assert_array_equal(net.weights, weights - learning_rate * grads.weights)
        assert_array_equal(net.biases, biases - learning_rate * grads.biases)
        assert history.epoch_loss == [grads.loss]
    else:  # one example: the compiled online steps (engine/online.py) sum in their own order
        assert_allclose(
            net.weights, weights - learning_rate * grads.weights, rtol=1e-13, atol=1e-15
        )
        assert_allclose(net.biases, biases - learning_rate * grads.biases, rtol=1e-13, atol=1e-15)
        assert history.epoch_loss[0] == pytest.approx(grads.loss, rel=1e-13, abs=1e-15)

    oracle = reference.ReferenceNetwork.from_graph(graph)
    loss = reference.train_step(oracle, x.tolist(), y.tolist(), learning_rate)
    assert_allclose(loss, grads.loss, **ENGINE_TOLERANCE)
    expected_weights = [oracle.weight[e.source, e.target] for e in graph.edges]
    expected_biases = [oracle.bias.get(u.id, 0.0) for u in graph.units]
    assert_allclose(net.weights, expected_weights, **ENGINE_TOLERANCE)
    assert_allclose(net.biases, expected_biases, **ENGINE_TOLERANCE)


@settings(examples, max_examples=20)
@given(graphs(SMOOTH_ACTIVATIONS), st.data())
def test_minibatches_are_successive_reference_steps(graph, data) -> None:
    x, y = data.draw(batches(graph, min_examples=2, max_examples=5))
    net = dagnet.Network(graph)
    oracle = reference.ReferenceNetwork.from_graph(graph)
    dagnet.fit(net, x, y, epochs=1, learning_rate=0.1, batch_size=2, shuffle=False, seed=0)
    for start in range(0, len(x), 2):
        batch = slice(start, start + 2)
        reference.train_step(oracle, x[batch].tolist(), y[batch].tolist(), 0.1)
    expected = [oracle.weight[e.source, e.target] for e in graph.edges]
    assert_allclose(net.weights, expected, **ENGINE_TOLERANCE)


def test_fit_without_shuffling_needs_no_seed() -> None:
    """A network whose every weight is given has no seed; unshuffled training needs none."""
    graph = Graph.model_validate({
        "format_version": 1,
        "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
        "edges": [{"source": "x", "target": "y", "weight": 2.0}],
    })  # fmt: skip
    net = dagnet.Network(graph)
    # ŷ − y = 2 · 1 − 0.5 = 1.5 = ∂E/∂b, ∂E/∂w = 1.5 · 1; w ← 2 − 0.1 · 1.5.
    dagnet.fit(net, [[1.0]], [[0.5]], epochs=1, learning_rate=0.1, batch_size=1, shuffle=False)
    assert_allclose(net.weights, [1.85])
    assert_allclose(net.biases, [0.0, -0.15])


# The kernels as plain Python

PLAIN_PYTHON = """
import json, sys
import numpy as np
import dagnet
from dagnet.engine import kernels

assert not hasattr(kernels.backward_block, "py_func"), "the kernels are still compiled"
graph = dagnet.Graph.model_validate(json.loads(sys.argv[1]))
x, y = np.array(json.loads(sys.argv[2])), np.array(json.loads(sys.argv[3]))
net = dagnet.Network(graph)
grads = net.gradients(x, y)
print(json.dumps({"forward": net.forward(x).tolist(), "loss": grads.loss,
                  "weights": grads.weights.tolist(), "biases": grads.biases.tolist()}))
"""


def test_kernels_run_as_plain_python() -> None:
    net = small_network("tanh")
    document = net.to_graph().model_dump(mode="json", by_alias=True, exclude_none=True)
    plain = run_without_jit(PLAIN_PYTHON, document, SMALL_X.tolist(), SMALL_Y.tolist())
    grads = net.gradients(SMALL_X, SMALL_Y)
    assert_allclose(plain["forward"], net.forward(SMALL_X), rtol=1e-13, atol=1e-15)
    assert_allclose(plain["loss"], grads.loss, rtol=1e-13, atol=1e-15)
    assert_allclose(plain["weights"], grads.weights, rtol=1e-13, atol=1e-15)
    assert_allclose(plain["biases"], grads.biases, rtol=1e-13, atol=1e-15)
