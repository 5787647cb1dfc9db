"""Initial parameters: every named scheme draws within its own bounds, deterministically from the
seed, and leaves the file's own values as they are."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import dagnet
import dagnet.bench.shapes
from dagnet.engine.initialisation import INITIALISATIONS
from dagnet.graph.model import INITIALISATION_NAMES
from tests.conftest import GRAPHS, small_graph


def wide() -> dagnet.Graph:
    """A dense MLP of 64-256-64 units: enough edges for the draws' spread to show."""
    return dagnet.Graph.model_validate(dagnet.bench.shapes.mlp(40_000))


def fans(net: dagnet.Network) -> tuple[np.ndarray, np.ndarray]:
    """fan_in of each edge's target and fan_out of its source, in file order."""
    plan = net.plan
    fan_in, fan_out = np.empty(plan.n_edges), np.empty(plan.n_edges)
    fan_in[plan.edge_file_index] = np.diff(plan.in_start)[plan.edge_target]
    fan_out[plan.edge_file_index] = np.diff(plan.out_start)[plan.in_source]
    return fan_in, fan_out


def test_the_file_format_names_the_schemes_implemented() -> None:
    assert tuple(INITIALISATIONS) == INITIALISATION_NAMES


@pytest.mark.parametrize(
    ("scheme", "bound"),
    [
        ("glorot_uniform", lambda fan_in, fan_out: np.sqrt(6 / (fan_in + fan_out))),
        ("he_uniform", lambda fan_in, fan_out: np.sqrt(6 / fan_in)),
    ],
)
def test_uniform_schemes_fill_their_interval(scheme: str, bound) -> None:
    net = dagnet.Network(wide(), seed=5, init=scheme)
    ratio = net.weights / bound(*fans(net))
    assert np.all(np.abs(ratio) <= 1.0)
    assert ratio.min() < -0.99 and ratio.max() > 0.99 and abs(ratio.mean()) < 0.02


def test_lecun_normal_has_the_variance_one_over_fan_in() -> None:
    net = dagnet.Network(wide(), seed=5, init="lecun_normal")
    fan_in, _ = fans(net)
    standardised = net.weights * np.sqrt(fan_in)
    assert abs(standardised.std() - 1.0) < 0.02 and abs(standardised.mean()) < 0.02


def test_widrow_nguyen_is_fanns_rule() -> None:
    # FANN: β = (0.7 H)^(1/n) / (hi − lo); weights U(0, β), biases U(−β, β).
    graph = wide()
    net = dagnet.Network(graph, seed=5, init="widrow_nguyen", input_range=(-1.0, 3.0))
    roles = [unit.role for unit in graph.units]
    beta = (0.7 * roles.count("hidden")) ** (1 / roles.count("input")) / 4.0
    assert net.weights.min() >= 0 and net.weights.max() <= beta
    assert net.weights.max() > 0.99 * beta
    biases = net.biases[[role != "input" for role in roles]]
    assert np.all(np.abs(biases) <= beta) and biases.min() < -0.9 * beta
    with pytest.raises(dagnet.ArgumentError, match="range of the training inputs"):
        dagnet.Network(graph, seed=5, init="widrow_nguyen")


@pytest.mark.parametrize("scheme", INITIALISATION_NAMES)
def test_a_scheme_draws_only_what_the_file_leaves_out_and_the_same_each_time(scheme: str) -> None:
    document = small_graph()
    del document["edges"][1]["weight"]  # h -> y has no weight; x -> h is 0.5, x -> y 0.2
    graph = dagnet.Graph.model_validate(document)
    first = dagnet.Network(graph, seed=9, init=scheme, input_range=(0.0, 1.0))
    again = dagnet.Network(graph, seed=9, init=scheme, input_range=(0.0, 1.0))
    assert_allclose(first.weights, again.weights, rtol=0)
    assert first.weights[0] == 0.5 and first.weights[2] == 0.2 and first.weights[1] != 0.0
    assert first.biases[1] == 0.1  # the file's bias, under every scheme


def test_glorot_uniform_draws_what_it_always_drew() -> None:
    # The default scheme must not change a seeded run: these are the weights of
    # graphs/one_path.json from its seed before the schemes became a table.
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "one_path.json"))
    assert_allclose(net.weights, [0.4744492, -0.79748222, -1.59011436], rtol=1e-7)


def test_an_unknown_scheme_is_an_argument_error() -> None:
    with pytest.raises(dagnet.ArgumentError, match="unknown initialisation 'xavier'"):
        dagnet.Network(dagnet.load_graph(GRAPHS / "xor.json"), init="xavier")
