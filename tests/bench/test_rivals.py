"""The rivals of ``dagnet bench --compare``: each one's training step is dagnet's own step.

After one and after three steps on the same minibatch, every competitor's parameters must equal
those ``dagnet.fit`` reaches with ``batch_size=N, shuffle=False`` (forward, backpropagate, SGD),
to rounding in float64 and to single precision in float32. A competitor that computed something
else would make the benchmark's ratios meaningless.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given, reject, settings
from numpy.testing import assert_allclose

import dagnet
from dagnet.bench import rivals
from dagnet.bench.rivals import (
    Step,
    dense_layers,
    levels,
    numpy_mlp_step,
    reference_step,
    scipy_csr_step,
    torch_csr_step,
    torch_index_step,
    torch_masked_step,
)
from dagnet.errors import TrainingError
from dagnet.functions.activations import ACTIVATION_NAMES
from dagnet.graph.model import Graph
from tests.conftest import EXAMPLES, GRAPHS, ROOT
from tests.strategies import graphs, graphs_with_data

Builder = Callable[..., Step]

LEARNING_RATE = 0.1
FLOAT64 = {"rtol": 1e-10, "atol": 1e-10}
FLOAT32 = {"rtol": 1e-4, "atol": 1e-4}
TORCH_BUILDERS = (torch_index_step, torch_masked_step, torch_csr_step)
ALL_BUILDERS = (reference_step, *TORCH_BUILDERS, scipy_csr_step)
COMPILED_BUILDERS = (*TORCH_BUILDERS, scipy_csr_step, numpy_mlp_step)

random_cases = settings(max_examples=30, deadline=None, derandomize=True, database=None)


def dagnet_parameters(net: dagnet.Network, x: np.ndarray, y: np.ndarray, steps: int):
    """(weight, bias) in Plan order after ``steps`` of dagnet's own training on (x, y)."""
    copy = dagnet.Network(net.to_graph())
    dagnet.fit(
        copy, x.T, y.T, epochs=steps, learning_rate=LEARNING_RATE,
        batch_size=x.shape[1], shuffle=False,
    )  # fmt: skip
    return copy.weight, copy.bias


def build(builder: Builder, net, x, y, dtype: Any = np.float64) -> Step:
    if builder in TORCH_BUILDERS:
        pytest.importorskip("torch")
    if builder is scipy_csr_step:
        pytest.importorskip("scipy")
    if builder is reference_step:
        return builder(net, x, y, LEARNING_RATE)
    return builder(net, x, y, LEARNING_RATE, dtype)


def assert_same_steps(builder: Builder, net, x, y, dtype: Any = np.float64) -> None:
    """The competitor's parameters equal dagnet's after one step and after three."""
    tolerance = FLOAT64 if dtype == np.float64 else FLOAT32
    before = net.weight.copy(), net.bias.copy()
    step = build(builder, net, x, y, dtype)
    done = 0
    for steps in (1, 3):
        while done < steps:
            step()
            done += 1
        weight, bias = step.parameters()
        assert weight.dtype == bias.dtype == np.float64
        expected_weight, expected_bias = dagnet_parameters(net, x, y, steps)
        assert_allclose(weight, expected_weight, **tolerance, err_msg=f"{step.name}, {steps}")
        assert_allclose(bias, expected_bias, **tolerance, err_msg=f"{step.name}, {steps}")
    # The competitor trained its own copy; the network is as it was.
    assert np.array_equal(net.weight, before[0]) and np.array_equal(net.bias, before[1])


def minibatch(net: dagnet.Network, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit-major inputs and targets, as the benchmark hands them to the competitors."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(len(net.input_ids), n)), rng.normal(size=(len(net.output_ids), n))


def graph_of(units: list[tuple[str, str, str | None]], edges: list[tuple[str, str, float]]):
    """A Graph from (id, role, activation) units and (source, target, weight) edges."""
    return Graph.model_validate({
        "format_version": 1,
        "units": [
            {"id": i, "role": role} | ({"activation": f, "bias": 0.1} if f else {})
            for i, role, f in units
        ],
        "edges": [{"source": s, "target": t, "weight": w} for s, t, w in edges],
    })  # fmt: skip


def mlp(widths: tuple[int, ...], activations: tuple[str, ...], seed: int = 0) -> dagnet.Network:
    """A dense layered network: every unit of a layer fed by the whole layer below."""
    rng = np.random.default_rng(seed)
    layers = [[f"l{k}u{u}" for u in range(width)] for k, width in enumerate(widths)]
    roles = ["input"] + ["hidden"] * (len(widths) - 2) + ["output"]
    units = [
        (unit, role, None if role == "input" else activations[k - 1])
        for k, (layer, role) in enumerate(zip(layers, roles, strict=True))
        for unit in layer
    ]
    edges = [
        (source, target, float(rng.uniform(-1, 1)))
        for below, layer in pairwise(layers)
        for target in layer
        for source in below
    ]
    net = dagnet.Network(graph_of(units, edges))
    net.biases = rng.uniform(-0.5, 0.5, len(net.unit_ids))
    return net


# The example graphs, an output that feeds another unit, random DAGs


@pytest.mark.parametrize("builder", ALL_BUILDERS, ids=lambda b: b.__name__)
@pytest.mark.parametrize("name", EXAMPLES)
def test_competitors_step_as_dagnet_on_the_examples(builder: Builder, name: str) -> None:
    net = dagnet.Network(dagnet.load_graph(GRAPHS / f"{name}.json"), seed=1)
    assert_same_steps(builder, net, *minibatch(net, 7))


def output_feeding_units() -> dagnet.Network:
    """y1 is an output and feeds y2 and h2; x skips to y2. Both outputs get a target."""
    units = [
        ("x", "input", None), ("h1", "hidden", "tanh"), ("y1", "output", "sigmoid"),
        ("h2", "hidden", "elu"), ("y2", "output", "identity"),
    ]  # fmt: skip
    edges = [
        ("x", "h1", 0.7), ("h1", "y1", -1.2), ("y1", "h2", 0.9), ("y1", "y2", 0.5),
        ("h2", "y2", -0.8), ("x", "y2", 0.3),
    ]  # fmt: skip
    return dagnet.Network(graph_of(units, edges))


@pytest.mark.parametrize("builder", ALL_BUILDERS, ids=lambda b: b.__name__)
def test_competitors_step_as_dagnet_when_an_output_feeds_other_units(builder: Builder) -> None:
    net = output_feeding_units()
    assert levels(net.plan).tolist() == [0, 1, 2, 3, 4]
    assert_same_steps(builder, net, *minibatch(net, 5))


@random_cases
@given(graphs_with_data())
def test_competitors_step_as_dagnet_on_random_dags(case) -> None:
    graph, x, y = case
    net = dagnet.Network(graph)
    try:  # three steps that blow up (a square unit fed 2 at η = 0.1) compare nothing
        dagnet_parameters(net, x.T.copy(), y.T.copy(), 3)
    except TrainingError:
        reject()
    # Without torch or scipy, the others are still checked (a skip would drop them too).
    available = [
        builder for builder in ALL_BUILDERS
        if (builder not in TORCH_BUILDERS or rivals.torch_available())
        and (builder is not scipy_csr_step or rivals.scipy_available())
    ]  # fmt: skip
    for builder in available:
        assert_same_steps(builder, net, x.T.copy(), y.T.copy())


@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(graphs())
def test_levels_are_longest_paths_from_the_inputs(graph: Graph) -> None:
    plan = dagnet.Network(graph).plan
    level = levels(plan)
    source, target = plan.in_source, plan.edge_target
    assert np.all(level[: plan.n_inputs] == 0)
    assert np.all(level[target] > level[source])
    # Every unit above level 1 has a source exactly one level below: its longest path.
    deepest = np.zeros(plan.n_units, dtype=np.int64)
    np.maximum.at(deepest, target, level[source])
    above = level > 1
    assert np.array_equal(deepest[above], level[above] - 1)


# Every activation, also at s = 0 exactly where relu and leaky_relu have their kink


@pytest.mark.parametrize("builder", (*ALL_BUILDERS, numpy_mlp_step), ids=lambda b: b.__name__)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_every_activation_steps_as_dagnet(builder: Builder, activation: str) -> None:
    net = mlp((3, 5, 4, 2), (activation, "tanh", activation))
    assert_same_steps(builder, net, *minibatch(net, 6))


@pytest.mark.parametrize("builder", COMPILED_BUILDERS, ids=lambda b: b.__name__)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_every_activation_steps_as_dagnet_at_s_zero(builder: Builder, activation: str) -> None:
    # Zero inputs and zero biases put every unit at s = 0; f'(0) must be dagnet's (relu: 0,
    # leaky_relu: 0.01, elu: 1, softplus: 1/2), or the first-layer biases move differently.
    net = mlp((2, 3, 2), (activation, activation))
    net.biases = np.zeros(len(net.unit_ids))
    x, y = np.zeros((2, 4)), np.ones((2, 4))
    assert np.all(net.evaluate(x)[0][2:5] == 0.0)
    assert_same_steps(builder, net, x, y)


# numpy_mlp_step: dense layered networks only


@pytest.mark.parametrize("widths", [(1, 1), (4, 3), (3, 6, 5, 2), (8, 16, 16, 16, 4)])
def test_numpy_mlp_steps_as_dagnet(widths: tuple[int, ...]) -> None:
    net = mlp(widths, ("sigmoid",) * (len(widths) - 2) + ("identity",))
    assert_same_steps(numpy_mlp_step, net, *minibatch(net, 9))


def test_numpy_mlp_keeps_the_output_order_of_the_file() -> None:
    net = mlp((2, 3, 3), ("tanh", "identity"))
    # The same network with its output units listed in another order in the file.
    graph = net.to_graph()
    units = [*graph.units[:5], graph.units[7], graph.units[5], graph.units[6]]
    other = dagnet.Network(graph.model_copy(update={"units": units}))
    assert other.output_ids != net.output_ids
    assert_same_steps(numpy_mlp_step, other, *minibatch(other, 4))


NOT_DENSE = {
    "a skip edge": (
        [("x", "input", None), ("h", "hidden", "tanh"), ("y", "output", "identity")],
        [("x", "h", 0.5), ("h", "y", 0.5), ("x", "y", 0.5)],
        "edge x -> y skips from level 0 to level 2",
    ),
    "a partial layer": (
        [("x1", "input", None), ("x2", "input", None), ("h", "hidden", "tanh"),
         ("y", "output", "identity")],
        [("x1", "h", 0.5), ("h", "y", 0.5)],
        "unit h is fed by 1 of the 2 units of level 0",
    ),
    "mixed activations": (
        [("x", "input", None), ("h1", "hidden", "tanh"), ("h2", "hidden", "relu"),
         ("y", "output", "identity")],
        [("x", "h1", 0.5), ("x", "h2", 0.5), ("h1", "y", 0.5), ("h2", "y", 0.5)],
        "level 1 mixes the activations tanh, relu",
    ),
    "an output below the last level": (
        [("x", "input", None), ("y1", "output", "tanh"), ("y2", "output", "identity")],
        [("x", "y1", 0.5), ("y1", "y2", 0.5)],
        "the output units (y1, y2) are not exactly the units of the last level (y2)",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", NOT_DENSE.values(), ids=NOT_DENSE)
def test_numpy_mlp_refuses_a_network_that_is_not_dense_and_layered(case) -> None:
    units, edges, message = case
    net = dagnet.Network(graph_of(units, edges))
    x, y = minibatch(net, 3)
    with pytest.raises(ValueError, match=f"^not a dense layered network: {re.escape(message)}$"):
        numpy_mlp_step(net, x, y, LEARNING_RATE)


def test_numpy_mlp_refuses_the_xor_example() -> None:
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "xor.json"))
    with pytest.raises(ValueError, match="skips"):
        dense_layers(net)


# float32


@pytest.mark.parametrize("builder", COMPILED_BUILDERS, ids=lambda b: b.__name__)
def test_float32_steps_agree_with_dagnet_to_single_precision(builder: Builder) -> None:
    net = mlp((4, 8, 6, 3), ("tanh", "sigmoid", "identity"))
    assert_same_steps(builder, net, *minibatch(net, 16), dtype=np.float32)
    # And it really computes in float32: it is not bit-for-bit the float64 step.
    x, y = minibatch(net, 16)
    single, double = build(builder, net, x, y, np.float32), build(builder, net, x, y)
    single(), double()
    assert not np.array_equal(single.parameters()[0], double.parameters()[0])


@pytest.mark.parametrize("builder", COMPILED_BUILDERS, ids=lambda b: b.__name__)
def test_other_dtypes_are_refused(builder: Builder) -> None:
    net = mlp((1, 1), ("identity",))
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got int64"):
        build(builder, net, *minibatch(net, 2), dtype=np.int64)


# PyTorch stays optional


def test_importing_the_competitors_imports_neither_torch_nor_scipy_sparse() -> None:
    # (numba imports scipy itself when it is installed, but not scipy.sparse.)
    code = (
        "import sys, dagnet.bench.rivals\n"
        "print('torch' in sys.modules, 'scipy.sparse' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"


def test_without_torch_the_torch_steps_say_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    assert not rivals.torch_available()
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "xor.json"))
    x, y = minibatch(net, 2)
    for builder in TORCH_BUILDERS:
        with pytest.raises(ImportError, match=r"pip install 'dagnet\[compare\]'"):
            builder(net, x, y, LEARNING_RATE)
    # The other competitors need no torch.
    reference_step(net, x, y, LEARNING_RATE)()


def test_without_scipy_the_scipy_step_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy", None)  # makes `import scipy.sparse` fail
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    assert not rivals.scipy_available()
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "xor.json"))
    x, y = minibatch(net, 2)
    with pytest.raises(ImportError, match=r"needs scipy; .*pip install 'dagnet\[compare\]'"):
        scipy_csr_step(net, x, y, LEARNING_RATE)


# The sparse rivals: a level without edges, outputs on several levels, a larger random DAG


@pytest.mark.parametrize("builder", (torch_csr_step, scipy_csr_step), ids=lambda b: b.__name__)
def test_sparse_rivals_step_as_dagnet_on_a_generated_random_dag(builder: Builder) -> None:
    from dagnet.bench.shapes import SHAPES

    net = dagnet.Network(dagnet.Graph.model_validate(SHAPES["random"](3000, 2)), seed=3)
    assert_same_steps(builder, net, *minibatch(net, 5))


@pytest.mark.parametrize("builder", ALL_BUILDERS, ids=lambda b: b.__name__)
def test_competitors_step_as_dagnet_with_a_unit_fed_by_nothing(builder: Builder) -> None:
    # h has no in-edges (level 1, only its bias), and the output y1 feeds y2.
    units = [("x", "input", None), ("h", "hidden", "sigmoid"), ("y1", "output", "tanh"),
             ("y2", "output", "identity")]  # fmt: skip
    edges = [("h", "y1", 0.4), ("x", "y1", -0.6), ("y1", "y2", 1.1), ("x", "y2", 0.2)]
    net = dagnet.Network(graph_of(units, edges))
    assert_same_steps(builder, net, *minibatch(net, 3))


def test_a_unit_without_sources_is_on_level_one_and_its_targets_above() -> None:
    units = [("x", "input", None), ("h", "hidden", "sigmoid"), ("y", "output", "tanh")]
    net = dagnet.Network(graph_of(units, [("h", "y", 0.4), ("x", "y", -0.6)]))
    assert levels(net.plan).tolist() == [0, 1, 2]
