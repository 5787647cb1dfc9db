"""Dense blocks: which parts of a graph the Plan runs as matrix products, and that doing so gives
the state and gradients of sweeping every edge unit by unit, on any graph and any batch split."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import dagnet
import dagnet.bench.shapes
from dagnet.engine import plan
from dagnet.engine.network import unit_major
from tests.conftest import GRAPHS, run_without_jit, state_and_gradients
from tests.engine.test_gradients import ENGINE_TOLERANCE, reference_results
from tests.strategies import SMOOTH_ACTIVATIONS, batches, graphs, parameters

examples = settings(max_examples=60, deadline=None, derandomize=True, database=None)

SAME = {"rtol": 1e-12, "atol": 1e-13}
"""Products and sweeps add in different orders; they agree to rounding."""


@contextmanager
def dense_blocks_from(sources: int, targets: int) -> Iterator[None]:
    """Plans compiled inside find blocks of at least this many sources and targets."""
    with (
        patch.object(plan, "MIN_DENSE_SOURCES", sources),
        patch.object(plan, "MIN_DENSE_TARGETS", targets),
    ):
        yield


def without_blocks(graph: dagnet.Graph, **options: Any) -> dagnet.Network:
    with dense_blocks_from(10**9, 10**9):
        return dagnet.Network(graph, **options)


def with_small_blocks(graph: dagnet.Graph, **options: Any) -> dagnet.Network:
    with dense_blocks_from(1, 1):
        return dagnet.Network(graph, **options)


@st.composite
def layered_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Layers of any width, each unit fed by the whole layer below and by skip edges from
    further down; outputs in the top layer and sometimes in a middle one (feeding the next)."""
    widths = draw(st.lists(st.integers(1, 9), min_size=2, max_size=5), label="layer widths")
    layers = [[f"u{depth}_{n}" for n in range(width)] for depth, width in enumerate(widths)]
    outputs = set(layers[-1])
    if len(layers) > 2 and draw(st.booleans(), label="a middle layer unit is an output"):
        outputs.add(draw(st.sampled_from(layers[1]), label="middle output"))
    units: list[dict[str, Any]] = [{"id": unit, "role": "input"} for unit in layers[0]]
    edges: list[dict[str, Any]] = []
    for depth in range(1, len(layers)):
        below = [unit for layer in layers[: depth - 1] for unit in layer]
        for unit in layers[depth]:
            units.append({
                "id": unit,
                "role": "output" if unit in outputs else "hidden",
                "activation": draw(st.sampled_from(SMOOTH_ACTIVATIONS)),
                "bias": draw(parameters),
            })  # fmt: skip
            skips = draw(st.sets(st.sampled_from(below), max_size=3)) if below else set()
            for source in [*layers[depth - 1], *sorted(skips)]:
                edges.append({"source": source, "target": unit, "weight": draw(parameters)})
    return {
        "format_version": 1,
        "units": draw(st.permutations(units), label="file order of units"),
        "edges": draw(st.permutations(edges), label="file order of edges"),
    }


def _assert_blocks_change_nothing(graph: dagnet.Graph, data: st.DataObject) -> int:
    dense, sparse = with_small_blocks(graph, seed=1), without_blocks(graph, seed=1)
    x, y = data.draw(batches(graph, min_examples=2, max_examples=40))
    x, y = unit_major(x, dense.input_ids, "x"), unit_major(y, dense.output_ids, "y")
    batch = x.shape[1]
    cuts = data.draw(st.sets(st.integers(1, batch - 1), max_size=3), label="cuts")
    bounds = np.array([0, *sorted(cuts), batch], dtype=np.int64)
    expected = state_and_gradients(sparse, x, y, np.array([0, batch]))
    for got, want in zip(state_and_gradients(dense, x, y, bounds), expected, strict=True):
        assert_allclose(got, want, **SAME)
    return dense.plan.dense.n_edges


@examples
@given(data=st.data(), document=layered_documents())
def test_layered_networks_give_the_same_state_and_gradients_with_blocks(
    data: st.DataObject, document: dict[str, Any]
) -> None:
    graph = dagnet.Graph.model_validate(document)
    assert _assert_blocks_change_nothing(graph, data) > 0


@examples
@given(data=st.data(), graph=graphs())
def test_any_graph_gives_the_same_state_and_gradients_with_blocks(
    data: st.DataObject, graph: dagnet.Graph
) -> None:
    _assert_blocks_change_nothing(graph, data)


@settings(examples, max_examples=30)
@given(data=st.data(), document=layered_documents())
def test_blocks_match_the_reference_engine(data: st.DataObject, document: dict[str, Any]) -> None:
    graph = dagnet.Graph.model_validate(document)
    net = with_small_blocks(graph)
    x, y = data.draw(batches(graph, min_examples=2))
    expected = reference_results(graph, x, y)
    grads = net.gradients(x, y)
    assert_allclose(net.forward(x), expected["forward"], **ENGINE_TOLERANCE)
    assert_allclose(grads.weights, expected["weights"], **ENGINE_TOLERANCE)
    assert_allclose(grads.biases, expected["biases"], **ENGINE_TOLERANCE)


def test_a_multilayer_perceptron_is_one_block_per_layer() -> None:
    graph = dagnet.Graph.model_validate(dagnet.bench.shapes.SHAPES["mlp"](166_000))
    dense = dagnet.Network(graph).plan.dense
    assert dense.sources.tolist() == [[0, 64], [64, 320], [320, 576], [576, 832]]
    assert dense.targets.tolist() == [[64, 320], [320, 576], [576, 832], [832, 896]]
    assert dense.n_edges == len(graph.edges)


def test_skip_edges_stay_outside_the_blocks_of_a_layered_network() -> None:
    graph = dagnet.Graph.model_validate(dagnet.bench.shapes.SHAPES["layered"](136_000))
    p = dagnet.Network(graph).plan
    levels = p.levels()
    assert len(p.dense.sources) == levels.max()  # one block per layer above the inputs
    for (s0, s1), (t0, t1) in zip(p.dense.sources, p.dense.targets, strict=True):
        assert np.all(levels[s0:s1] == levels[t0] - 1)  # the whole layer below, nothing else
        assert np.all(levels[t0:t1] == levels[t0])
    skips = np.sum(levels[p.in_source] < levels[p.edge_target] - 1)
    assert p.dense.n_edges == p.n_edges - skips


def test_a_random_dag_has_no_blocks_and_small_graphs_none_by_default() -> None:
    random = dagnet.Graph.model_validate(dagnet.bench.shapes.SHAPES["random"](20_000))
    assert len(dagnet.Network(random).plan.dense.sources) == 0
    example = dagnet.Network(dagnet.load_graph(GRAPHS / "multi_output.json"))
    assert len(example.plan.dense.sources) == 0


def test_float32_blocks_follow_float64() -> None:
    graph = dagnet.Graph.model_validate(dagnet.bench.shapes.SHAPES["layered"](20_000))
    rng = np.random.default_rng(0)
    double, single = dagnet.Network(graph, seed=2), dagnet.Network(graph, seed=2, dtype=np.float32)
    assert single.plan.dense.n_edges > 0
    x = rng.standard_normal((67, len(double.input_ids))) * 0.5
    y = rng.standard_normal((67, len(double.output_ids))) * 0.5
    expected, got = double.gradients(x, y), single.gradients(x, y)
    scale = float(np.abs(expected.weights).max())
    assert_allclose(single.forward(x), double.forward(x), rtol=1e-4, atol=1e-4)
    assert_allclose(got.weights, expected.weights, rtol=1e-3, atol=1e-4 * scale)


PLAIN_PYTHON = """
import json, sys
import numpy as np
import dagnet, dagnet.engine.plan
from dagnet.engine import dense

assert not hasattr(dense.products, "py_func"), "the kernels are still compiled"
dagnet.engine.plan.MIN_DENSE_SOURCES = dagnet.engine.plan.MIN_DENSE_TARGETS = 1
net = dagnet.Network(dagnet.Graph.model_validate(json.loads(sys.argv[1])), seed=1)
assert net.plan.dense.n_edges > 0
x, y = np.array(json.loads(sys.argv[2])), np.array(json.loads(sys.argv[3]))
grads = net.gradients(x, y)
print(json.dumps({"weights": grads.weights.tolist(), "biases": grads.biases.tolist()}))
"""


def test_blocks_run_as_plain_python() -> None:
    widths, rng = (5, 6, 7, 2), np.random.default_rng(5)
    layers = [[f"u{depth}_{n}" for n in range(width)] for depth, width in enumerate(widths)]
    roles = ["input", "hidden", "hidden", "output"]
    units = [{"id": u, "role": roles[d]} for d, layer in enumerate(layers) for u in layer]
    pairs = [(i, j) for below, above in itertools.pairwise(layers) for j in above for i in below]
    pairs += [("u0_0", "u2_3"), ("u1_5", "u3_1")]  # skip edges
    edges = [{"source": i, "target": j, "weight": rng.uniform(-1, 1)} for i, j in pairs]
    document = {"format_version": 1, "units": units, "edges": edges}
    graph = dagnet.Graph.model_validate(document)
    net = with_small_blocks(graph, seed=1)
    x = rng.standard_normal((6, len(net.input_ids)))
    y = rng.standard_normal((6, len(net.output_ids)))
    plain = run_without_jit(PLAIN_PYTHON, document, x.tolist(), y.tolist())
    grads = net.gradients(x, y)
    assert_allclose(plain["weights"], grads.weights, **SAME)
    assert_allclose(plain["biases"], grads.biases, **SAME)
