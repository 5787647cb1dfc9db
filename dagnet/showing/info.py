"""The shape of a network in numbers: roles, activations, levels, fan-in and fan-out, parameters.

A unit's *level* is the length of the longest path to it from a unit without in-edges (the inputs
are level 0), so every edge runs from a lower level to a higher one; the levels are the columns
of :mod:`dagnet.showing.draw`'s pictures. Everything is read off the compiled Plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dagnet.engine.plan import Plan, compile_plan
from dagnet.functions.activations import ACTIVATIONS
from dagnet.graph.model import Graph

__all__ = ["Info", "describe"]


@dataclass(frozen=True)
class Info:
    """What :func:`describe` finds; unit lists name every unit that ties for the record."""

    name: str | None
    units: int
    roles: dict[str, int]
    activations: dict[str, int]
    edges: int
    weighted_edges: int
    levels: int
    widest_level: int
    widest_units: list[str]
    largest_fan_in: int
    fan_in_units: list[str]
    largest_fan_out: int
    fan_out_units: list[str]
    weights: int
    biases: int

    @property
    def parameters(self) -> int:
        """Weights of every edge and biases of every unit but the inputs."""
        return self.weights + self.biases


def describe(graph: Graph) -> Info:
    """Count the parts of ``graph`` and measure its shape.

    Examples
    --------
    >>> import dagnet
    >>> info = describe(dagnet.load_graph("graphs/multi_output.json"))
    >>> info.levels, info.widest_units, info.fan_out_units, info.parameters
    (4, ['j', 'k'], ['i'], 9)
    """
    plan = compile_plan(graph)
    roles = [unit.role for unit in graph.units]
    used = [unit.effective_activation for unit in graph.units if unit.role != "input"]
    activations = {name: used.count(name) for name in ACTIVATIONS if name in used}
    level = plan.levels()
    width = np.bincount(level)
    widest = int(np.argmax(width))
    fan_in, fan_out = np.diff(plan.in_start), np.diff(plan.out_start)
    return Info(
        name=graph.name,
        units=len(graph.units),
        roles={role: roles.count(role) for role in ("input", "hidden", "output")},
        activations=dict(sorted(activations.items(), key=lambda item: -item[1])),
        edges=len(graph.edges),
        weighted_edges=sum(edge.weight is not None for edge in graph.edges),
        levels=len(width),
        widest_level=widest,
        widest_units=_named(plan, level == widest),
        largest_fan_in=int(fan_in.max()),
        fan_in_units=_named(plan, fan_in == fan_in.max()),
        largest_fan_out=int(fan_out.max()),
        fan_out_units=_named(plan, fan_out == fan_out.max()),
        weights=len(graph.edges),
        biases=len(graph.units) - plan.n_inputs,
    )


def _named(plan: Plan, chosen: NDArray[np.bool_]) -> list[str]:
    """The ids of the chosen units, in the graph file's order."""
    positions = np.flatnonzero(chosen)
    return [plan.unit_ids[p] for p in positions[np.argsort(plan.unit_file_index[positions])]]
