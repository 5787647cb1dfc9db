"""Counts and measures of a network's shape."""

from __future__ import annotations

import pytest

import dagnet
from dagnet.engine.plan import compile_plan
from dagnet.showing.info import describe
from tests.conftest import GRAPHS, small_graph

# name: (roles, activations, edges, levels, widest level and its units, fan-in, fan-out,
#        parameters)
EXPECTED = {
    "one_path": ([1, 2, 1], {"sigmoid": 2, "identity": 1}, 3, 4, (0, ["i"]),
                 (1, ["j", "k", "o"]), (1, ["i", "j", "k"]), 6),
    "multiple_inputs": ([2, 1, 1], {"identity": 1, "sigmoid": 1}, 3, 3, (0, ["i", "j"]),
                        (2, ["k"]), (1, ["i", "j", "k"]), 5),
    "multi_output": ([1, 3, 1], {"sigmoid": 3, "identity": 1}, 5, 4, (2, ["j", "k"]),
                     (2, ["o"]), (2, ["i"]), 9),
    "xor": ([2, 2, 1], {"tanh": 2, "identity": 1}, 9, 4, (0, ["x1", "x2"]),
            (4, ["y"]), (3, ["x1", "x2"]), 12),
}  # fmt: skip


@pytest.mark.parametrize("name", EXPECTED)
def test_describe_measures_each_example(name: str) -> None:
    roles, activations, edges, depth, widest, fan_in, fan_out, parameters = EXPECTED[name]
    info = describe(dagnet.load_graph(GRAPHS / f"{name}.json"))
    assert list(info.roles.values()) == roles
    assert info.activations == activations
    assert info.edges == edges
    assert info.levels == depth
    assert (info.widest_level, info.widest_units) == widest
    assert (info.largest_fan_in, info.fan_in_units) == fan_in
    assert (info.largest_fan_out, info.fan_out_units) == fan_out
    assert info.parameters == parameters


def test_levels_are_longest_paths_not_shortest() -> None:
    # x -> h -> y and the skip x -> y: y is at level 2, not 1.
    plan = compile_plan(dagnet.Graph.model_validate(small_graph()))
    assert dict(zip(plan.unit_ids, plan.levels().tolist(), strict=True)) == {
        "x": 0,
        "h": 1,
        "y": 2,
    }
