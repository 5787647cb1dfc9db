"""Compile a validated graph into a Plan: the immutable arrays the kernels run over.

A Plan numbers the units in an execution order (inputs first, in file order, then the rest in
topological order, earliest in the file first among those ready) and stores the edges twice,
as compressed sparse rows: by target, for the forward pass (each unit sums its in-edges), and
by source, for the backward pass (each unit pulls δ from its actual out-edges). Parameters are
not part of a Plan; a :class:`~dagnet.network.Network` keeps them beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from dagnet import topology
from dagnet.activations import CODES
from dagnet.checks import inspect
from dagnet.errors import GraphFileError
from dagnet.schema import Graph

IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Plan:
    """The execution plan of a graph; every array is read-only.

    Units are numbered by *position* in execution order, edges by position in target order.

    Attributes
    ----------
    unit_ids : tuple of str
        Unit ids by position.
    n_inputs : int
        Positions ``0 .. n_inputs-1`` are the input units, in file order.
    output_positions : int array (outputs,)
        Position of each output unit, in file order.
    output_slot : int array (units,)
        For each position, its row among the outputs, or -1.
    activation : int8 array (units,)
        Activation code of each position (see :data:`dagnet.activations.CODES`).
    in_start, in_source : int arrays (units + 1,), (edges,)
        In-edges of position j are edges ``in_start[j] .. in_start[j+1]-1``; ``in_source[p]`` is
        the source position of edge p.
    out_start, out_target, out_edge : int arrays (units + 1,), (edges,), (edges,)
        Out-edges of position j are ``out_start[j] .. out_start[j+1]-1``; entry q leads to
        ``out_target[q]`` through edge ``out_edge[q]``.
    unit_file_index, edge_file_index : int arrays (units,), (edges,)
        Where each position and each edge stand in the graph file.
    """

    unit_ids: tuple[str, ...]
    n_inputs: int
    output_positions: IntArray
    output_slot: IntArray
    activation: NDArray[np.int8]
    in_start: IntArray
    in_source: IntArray
    out_start: IntArray
    out_target: IntArray
    out_edge: IntArray
    unit_file_index: IntArray
    edge_file_index: IntArray

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def n_edges(self) -> int:
        return len(self.in_source)

    @property
    def edge_target(self) -> IntArray:
        """Target position of each edge (edges are sorted by it)."""
        return np.repeat(np.arange(self.n_units), np.diff(self.in_start))

    def levels(self) -> IntArray:
        """The level of each unit, by position: 0 without in-edges, else 1 + its deepest source.

        Every edge runs from a lower level to a higher one; the depth is the highest level.

        Examples
        --------
        >>> import dagnet
        >>> plan = compile_plan(dagnet.load_graph("graphs/multi_output.json"))
        >>> dict(zip(plan.unit_ids, plan.levels().tolist()))
        {'x': 0, 'i': 1, 'j': 2, 'k': 2, 'o': 3}
        """
        return _levels(self.in_start, self.in_source)


def compile_plan(graph: Graph) -> Plan:
    """Order the units of ``graph`` and build its Plan.

    Raises
    ------
    GraphFileError
        When the graph breaks a rule of :mod:`dagnet.checks` (a cycle, an unknown unit, ...).

    Examples
    --------
    >>> from dagnet.schema import Graph
    >>> graph = Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "o", "role": "output"}, {"id": "h"}, {"id": "x", "role": "input"}],
    ...     "edges": [{"source": "h", "target": "o"}, {"source": "x", "target": "h"}]})
    >>> compile_plan(graph).unit_ids
    ('x', 'h', 'o')
    """
    inspection = inspect(graph)
    if inspection.has_errors:
        raise GraphFileError(None, inspection.problems)
    assert inspection.order is not None
    roles = np.array([unit.role for unit in graph.units])
    is_input = roles == "input"
    # Inputs first in file order, then the rest in the checked topological order.
    unit_file_index = np.concatenate(
        [np.flatnonzero(is_input), inspection.order[~is_input[inspection.order]]]
    )
    position = np.empty_like(unit_file_index)
    position[unit_file_index] = np.arange(len(unit_file_index))
    names = [unit.effective_activation or "identity" for unit in graph.units]
    activation = np.array([CODES[name] for name in names], np.int8)[unit_file_index]
    output_positions = position[np.flatnonzero(roles == "output")]
    output_slot = np.full(len(position), -1, dtype=np.int64)
    output_slot[output_positions] = np.arange(len(output_positions))

    source, target = position[inspection.source], position[inspection.target]
    edge_file_index = topology.edge_order(len(position), source, target)
    in_source, in_target = source[edge_file_index], target[edge_file_index]
    out_edge = topology.stable_order(in_source, len(position))  # by source, then target

    plan = Plan(
        unit_ids=tuple(graph.units[index].id for index in unit_file_index.tolist()),
        n_inputs=int(is_input.sum()),
        output_positions=output_positions,
        output_slot=output_slot,
        activation=activation,
        in_start=_row_starts(in_target, len(position)),
        in_source=in_source,
        out_start=_row_starts(in_source[out_edge], len(position)),
        out_target=in_target[out_edge],
        out_edge=out_edge,
        unit_file_index=unit_file_index,
        edge_file_index=edge_file_index,
    )
    for array in vars(plan).values():
        if isinstance(array, np.ndarray):
            array.setflags(write=False)
    _check_invariants(plan)
    return plan


@njit(cache=True)
def _levels(in_start: IntArray, in_source: IntArray) -> IntArray:  # one pass in execution order
    level = np.zeros(len(in_start) - 1, dtype=np.int64)
    for j in range(len(level)):
        for p in range(in_start[j], in_start[j + 1]):
            level[j] = max(level[j], level[in_source[p]] + 1)
    return level


def _row_starts(sorted_rows: IntArray, n_rows: int) -> IntArray:
    starts = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(sorted_rows, minlength=n_rows), out=starts[1:])
    return starts


def _check_invariants(plan: Plan) -> None:
    """What the kernels rely on; a failure here is a bug in this module, not in the graph."""
    target = plan.edge_target
    assert np.all(plan.in_source < target), "an edge runs against the execution order"
    assert np.all(target >= plan.n_inputs), "an edge leads into an input"
    assert np.array_equal(plan.out_target, target[plan.out_edge])
    assert np.array_equal(np.sort(plan.out_edge), np.arange(plan.n_edges))
