"""Compiling a graph: execution order, the two CSR edge lists, immutability."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings

import dagnet
from dagnet.bench.shapes import mlp
from dagnet.engine.plan import Plan, compile_plan
from tests.conftest import small_graph
from tests.strategies import graphs


def graph_of(units: list, edges: list) -> dagnet.Graph:
    return dagnet.Graph.model_validate(
        {
            "format_version": 1,
            "units": units,
            "edges": [{"source": s, "target": t} for s, t in edges],
        }
    )


CASCADE = graph_of(
    [{"id": "y", "role": "output"}, {"id": "h2"}, {"id": "x2", "role": "input"},
     {"id": "h1"}, {"id": "x1", "role": "input"}],
    [("h1", "y"), ("x1", "h1"), ("x2", "h1"), ("h1", "h2"), ("x2", "h2"), ("h2", "y"), ("x1", "y")],
)  # fmt: skip


def test_inputs_come_first_in_file_order_then_a_topological_order() -> None:
    plan = compile_plan(CASCADE)
    assert plan.unit_ids == ("x2", "x1", "h1", "h2", "y")
    assert plan.n_inputs == 2
    digraph = nx.DiGraph([(e.source, e.target) for e in CASCADE.edges])
    position = {u: p for p, u in enumerate(plan.unit_ids)}
    assert all(position[s] < position[t] for s, t in digraph.edges)


def test_in_edges_and_out_edges_describe_the_same_edges() -> None:
    plan = compile_plan(CASCADE)
    ids = plan.unit_ids
    by_target = {
        (ids[plan.in_source[p]], ids[j])
        for j in range(plan.n_units)
        for p in range(plan.in_start[j], plan.in_start[j + 1])
    }
    by_source = {
        (ids[i], ids[plan.out_target[q]])
        for i in range(plan.n_units)
        for q in range(plan.out_start[i], plan.out_start[i + 1])
    }
    in_file = {(e.source, e.target) for e in CASCADE.edges}
    assert by_target == by_source == in_file
    file_edges = [(CASCADE.edges[k].source, CASCADE.edges[k].target) for k in plan.edge_file_index]
    assert file_edges == [
        (ids[s], ids[t]) for s, t in zip(plan.in_source, plan.edge_target, strict=True)
    ]


def test_outputs_keep_their_file_order_and_may_feed_other_units() -> None:
    graph = graph_of(
        [
            {"id": "x", "role": "input"},
            {"id": "b", "role": "output"},
            {"id": "a", "role": "output"},
        ],
        [("x", "a"), ("a", "b")],
    )
    plan = compile_plan(graph)
    assert [plan.unit_ids[p] for p in plan.output_positions] == ["b", "a"]
    assert plan.output_slot.tolist() == [-1, 1, 0]


def test_the_plan_is_immutable() -> None:
    plan = compile_plan(CASCADE)
    with pytest.raises(ValueError):
        plan.in_source[0] = 3
    with pytest.raises(AttributeError):
        plan.n_inputs = 0  # type: ignore[misc]


def test_an_invalid_graph_does_not_compile() -> None:
    document = small_graph()
    document["edges"].append({"source": "y", "target": "h"})
    with pytest.raises(dagnet.GraphFileError, match=r"cycle h -> y -> h"):
        compile_plan(dagnet.Graph.model_validate(document))


def test_missing_weights_follow_the_documented_fan_in_fan_out_scheme() -> None:
    net = dagnet.Network(CASCADE, seed=7)
    draw = np.random.default_rng([7, 0]).uniform(-1.0, 1.0, len(CASCADE.edges))
    fan_in = {"y": 3, "h1": 2, "h2": 2}
    fan_out = {"x1": 2, "x2": 2, "h1": 2, "h2": 1}
    limits = [np.sqrt(6 / (fan_in[e.target] + fan_out[e.source])) for e in CASCADE.edges]
    np.testing.assert_array_equal(net.weights, draw * limits)
    assert np.all(net.biases == 0.0)
    assert dagnet.Network(CASCADE, seed=7).weights.tolist() == net.weights.tolist()
    assert dagnet.Network(CASCADE, seed=8).weights.tolist() != net.weights.tolist()


def test_weights_written_in_the_file_are_kept() -> None:
    net = dagnet.Network(dagnet.Graph.model_validate(small_graph()))
    assert net.weights.tolist() == [0.5, -0.3, 0.2]
    assert net.biases.tolist() == [0.0, 0.1, 0.0]
    assert net.seed is None


def test_a_seed_is_drawn_and_kept_when_a_weight_is_missing() -> None:
    net = dagnet.Network(CASCADE)
    assert isinstance(net.seed, int)
    again = dagnet.Network(CASCADE, seed=net.seed)
    assert again.weights.tolist() == net.weights.tolist()


def assert_groups(plan: Plan, starts: np.ndarray, kind: np.ndarray) -> None:
    """``starts`` are groups of the units after the inputs, in order, each unit in one; a
    group's units are of one kind and activation, none fed by another of them; and a new group
    begins only where it must."""
    assert starts[0] == plan.n_inputs and starts[-1] == plan.n_units
    assert np.all(np.diff(starts) > 0)
    for first, end in pairwise(starts):
        assert np.all(kind[first:end] == kind[first])
        assert np.all(plan.activation[first:end] == plan.activation[first])
        assert np.all(plan.in_source[plan.in_start[first] : plan.in_start[end]] < first)
        if end < plan.n_units:
            fed_by_group = np.any(plan.in_source[plan.in_start[end] : plan.in_start[end + 1]]
                                  >= first)  # fmt: skip
            same = kind[end] == kind[first] and plan.activation[end] == plan.activation[first]
            assert fed_by_group or not same


def _kernel_kind(plan: Plan) -> np.ndarray:
    """The kernels' kinds: every unit of a dense block a kind of its own, the others one."""
    dense = (plan.dense.target_block >= 0) | (plan.dense.source_block >= 0)
    return np.where(dense, np.arange(1, plan.n_units + 1), 0)


@settings(max_examples=100, deadline=None)
@given(graphs())
def test_the_kernels_groups_are_levels_of_units_that_do_not_feed_each_other(graph) -> None:
    plan = compile_plan(graph)
    assert_groups(plan, plan.group_start, _kernel_kind(plan))
    assert plan.wiring.group_start is plan.group_start


def test_each_unit_of_a_dense_block_is_a_group_alone() -> None:
    plan = compile_plan(dagnet.Graph.model_validate(mlp(166_000)))
    assert len(plan.dense.sources) == 4  # the layers: 64-256, 256-256, 256-256, 256-64
    assert_groups(plan, plan.group_start, _kernel_kind(plan))
    assert len(plan.group_start) - 1 == plan.n_units - plan.n_inputs
