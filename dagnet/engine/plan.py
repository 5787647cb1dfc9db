"""Compile a validated graph into a Plan: the immutable arrays the kernels run over.

A Plan numbers the units in an execution order (inputs first, in file order, then the rest in
topological order, earliest in the file first among those ready) and stores the edges twice,
as compressed sparse rows: by target, for the forward pass (each unit sums its in-edges), and
by source, for the backward pass (each unit pulls δ from its actual out-edges). Parameters are
not part of a Plan; a :class:`~dagnet.engine.network.Network` keeps them beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from dagnet.errors import GraphFileError
from dagnet.functions.activations import CODES
from dagnet.graph import topology
from dagnet.graph.checks import examine
from dagnet.graph.model import Graph

__all__ = [
    "MIN_DENSE_SOURCES",
    "MIN_DENSE_TARGETS",
    "DenseBlocks",
    "Plan",
    "Wiring",
    "compile_plan",
    "groups",
    "plan_of",
]

IntArray = NDArray[np.int64]


MIN_DENSE_SOURCES = 16
MIN_DENSE_TARGETS = 8
"""The smallest dense block worth a matrix product: below this, per-unit sweeps are as fast."""


class DenseBlocks(NamedTuple):
    """Complete bipartite parts of a Plan: every unit of a run of consecutive positions (the
    block's targets) has an in-edge from every unit of another run (its sources), and no two
    blocks share a source or a target.

    Layers of a multilayer perceptron are such blocks. The kernels compute a block's part of
    s_j, of Σ_k δ_k w_{j→k} and of ∂E/∂w as products of matrices, in register tiles, which
    reads each number a quarter as often as sweeping the edges unit by unit; edges outside
    blocks (skips, sparse wiring) are swept as usual. In-edges of a target are sorted by source,
    so a block's edges into one target are consecutive: ``in_row[t] .. in_row[t] + sources``.
    """

    sources: IntArray
    """(blocks, 2): first and one-past-last source position of each block."""
    targets: IntArray
    """(blocks, 2): first and one-past-last target position of each block."""
    target_block: IntArray
    """(units,): the block a position is a target of, or -1."""
    in_row: IntArray
    """(units,): for a block target, the edge number of its first in-edge from the block."""
    source_block: IntArray
    """(units,): the block a position is a source of, or -1."""
    out_row: IntArray
    """(units,): for a block source, the out-edge entry of its first out-edge into the block."""

    @property
    def n_edges(self) -> int:
        """How many edges lie in blocks."""
        return int(np.sum(np.diff(self.sources) * np.diff(self.targets)))


class Wiring(NamedTuple):
    """A Plan's arrays in one value the compiled kernels take (numba types a NamedTuple)."""

    n_inputs: int
    activation: NDArray[np.int8]
    output_slot: IntArray
    in_start: IntArray
    in_source: IntArray
    out_start: IntArray
    out_target: IntArray
    out_edge: IntArray
    dense_sources: IntArray
    dense_targets: IntArray
    target_block: IntArray
    in_row: IntArray
    source_block: IntArray
    out_row: IntArray
    group_start: IntArray


@dataclass(frozen=True, eq=False)
class Plan:
    """The execution plan of a graph; every array is read-only.

    Units are numbered by *position* in execution order, edges by position in target order.

    Attributes
    ----------
    unit_ids : sequence of str
        Unit ids by position: a tuple, or for a Population of NEAT genomes a sequence that makes
        its strings when first read.
    n_inputs : int
        Positions ``0 .. n_inputs-1`` are the input units, in file order.
    output_positions : int array (outputs,)
        Position of each output unit, in file order.
    output_slot : int array (units,)
        For each position, its row among the outputs, or -1.
    activation : int8 array (units,)
        Activation code of each position (see :data:`dagnet.functions.activations.CODES`).
    in_start, in_source : int arrays (units + 1,), (edges,)
        In-edges of position j are edges ``in_start[j] .. in_start[j+1]-1``; ``in_source[p]`` is
        the source position of edge p.
    out_start, out_target, out_edge : int arrays (units + 1,), (edges,), (edges,)
        Out-edges of position j are ``out_start[j] .. out_start[j+1]-1``; entry q leads to
        ``out_target[q]`` through edge ``out_edge[q]``.
    unit_file_index, edge_file_index : int arrays (units,), (edges,)
        Where each position and each edge stand in the graph file.
    dense : DenseBlocks
        The parts of the graph that are complete bipartite, which the kernels run as products of
        matrices (see :class:`DenseBlocks`).
    """

    unit_ids: Sequence[str]
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
    dense: DenseBlocks

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def n_edges(self) -> int:
        return len(self.in_source)

    @cached_property
    def edge_target(self) -> IntArray:
        """Target position of each edge (edges are sorted by it); read-only, as every array."""
        target = np.repeat(np.arange(self.n_units), np.diff(self.in_start))
        target.setflags(write=False)
        return target

    @cached_property
    def wiring(self) -> Wiring:
        """The arrays the compiled kernels read, in one value numba can type."""
        return Wiring(
            self.n_inputs, self.activation, self.output_slot, self.in_start, self.in_source,
            self.out_start, self.out_target, self.out_edge, *self.dense, self.group_start,
        )  # fmt: skip

    @cached_property
    def wiring_by_out_edge(self) -> Wiring:
        """:attr:`wiring` for weights and their gradients held in out-edge order: entry q leads
        through edge q (see :attr:`~dagnet.engine.workspace.Workspace.out_weight`)."""
        identity = np.arange(self.n_edges, dtype=self.out_edge.dtype)
        identity.setflags(write=False)
        return self.wiring._replace(out_edge=identity)

    @cached_property
    def group_start(self) -> IntArray:
        """The kernels' groups of units (see :func:`groups`): a unit of a dense block is a
        group alone, as the kernels take its block's products at its turn."""
        dense = (self.dense.target_block >= 0) | (self.dense.source_block >= 0)
        kind = np.where(dense, np.arange(1, self.n_units + 1), 0)
        start = groups(self, kind)
        start.setflags(write=False)
        return start

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
        When the graph breaks a rule of :mod:`dagnet.graph.checks` (a cycle, an unknown unit, ...).

    Examples
    --------
    >>> from dagnet.graph.model import Graph
    >>> graph = Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "o", "role": "output"}, {"id": "h"}, {"id": "x", "role": "input"}],
    ...     "edges": [{"source": "h", "target": "o"}, {"source": "x", "target": "h"}]})
    >>> compile_plan(graph).unit_ids
    ('x', 'h', 'o')
    """
    inspection = examine(graph)
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

    return plan_of(
        tuple(graph.units[index].id for index in unit_file_index.tolist()),
        int(is_input.sum()),
        output_positions,
        activation,
        position[inspection.source],
        position[inspection.target],
        unit_file_index,
    )


def plan_of(
    unit_ids: Sequence[str],
    n_inputs: int,
    output_positions: IntArray,
    activation: NDArray[np.int8],
    source: IntArray,
    target: IntArray,
    unit_file_index: IntArray,
) -> Plan:
    """The Plan of units already in execution order (inputs first) and their edges, given by
    source and target position in the file's order of edges: the edges are sorted, stored both
    ways, the dense blocks found and the invariants checked.

    :func:`compile_plan` orders a checked graph's units and calls this; a
    :class:`~dagnet.training.population.Population` calls it on the union of many networks.
    ``unit_file_index`` says where each position stands in the file.
    """
    n_units = len(unit_ids)
    output_slot = np.full(n_units, -1, dtype=np.int64)
    output_slot[output_positions] = np.arange(len(output_positions))
    edge_file_index = topology.edge_order(n_units, source, target)
    in_source, in_target = source[edge_file_index], target[edge_file_index]
    out_edge = topology.stable_order(in_source, n_units)  # by source, then target

    in_start = _row_starts(in_target, n_units)
    out_start = _row_starts(in_source[out_edge], n_units)
    out_target = in_target[out_edge]
    plan = Plan(
        unit_ids=unit_ids,
        n_inputs=n_inputs,
        output_positions=output_positions,
        output_slot=output_slot,
        activation=activation,
        in_start=in_start,
        in_source=in_source,
        out_start=out_start,
        out_target=out_target,
        out_edge=out_edge,
        unit_file_index=unit_file_index,
        edge_file_index=edge_file_index,
        dense=DenseBlocks(
            *_dense_blocks(
                n_inputs,
                in_start,
                in_source,
                out_start,
                out_target,
                MIN_DENSE_SOURCES,
                MIN_DENSE_TARGETS,
            )
        ),
    )
    for array in (*vars(plan).values(), *plan.dense):
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


@njit(cache=True)
def _dense_blocks(n_inputs, in_start, in_source, out_start, out_target, min_sources, min_targets):  # type: ignore[no-untyped-def]
    """Find DenseBlocks in one pass: each unit's longest run of consecutive sources, then runs
    of consecutive units sharing that run of sources."""
    n_units = len(in_start) - 1
    run_first = np.full(n_units, -1, dtype=np.int64)  # first source of the unit's longest run
    run_length = np.zeros(n_units, dtype=np.int64)
    run_row = np.full(n_units, -1, dtype=np.int64)
    for j in range(n_inputs, n_units):
        p, end = in_start[j], in_start[j + 1]
        while p < end:
            q = p + 1
            while q < end and in_source[q] == in_source[q - 1] + 1:
                q += 1
            if q - p > run_length[j]:
                run_first[j], run_length[j], run_row[j] = in_source[p], q - p, p
            p = q
    sources = np.empty((n_units, 2), dtype=np.int64)
    targets = np.empty((n_units, 2), dtype=np.int64)
    target_block = np.full(n_units, -1, dtype=np.int64)
    in_row = np.full(n_units, -1, dtype=np.int64)
    source_block = np.full(n_units, -1, dtype=np.int64)
    out_row = np.full(n_units, -1, dtype=np.int64)
    n_blocks = 0
    j = n_inputs
    while j < n_units:
        # Units j .. k-1 share the sources first .. last-1: the common part of their runs, which
        # may not shrink much (a skip edge from just below a layer lengthens one unit's run).
        first, last = run_first[j], run_first[j] + run_length[j]
        k = j + 1
        while k < n_units and run_length[k] > 0:
            common_first = max(first, run_first[k])
            common_last = min(last, run_first[k] + run_length[k])
            if 4 * (common_last - common_first) < 3 * run_length[j]:
                break
            first, last, k = common_first, common_last, k + 1
        if (
            last - first >= min_sources
            and k - j >= min_targets
            and np.all(source_block[first:last] < 0)
        ):
            sources[n_blocks] = first, last
            targets[n_blocks] = j, k
            for t in range(j, k):
                target_block[t] = n_blocks
                in_row[t] = run_row[t] + first - run_first[t]
            for i in range(first, last):
                source_block[i] = n_blocks
                q = out_start[i]
                while out_target[q] != j:  # out-edges are sorted by target
                    q += 1
                out_row[i] = q
            n_blocks += 1
        j = k
    return (
        sources[:n_blocks].copy(), targets[:n_blocks].copy(),
        target_block, in_row, source_block, out_row,
    )  # fmt: skip


def groups(plan: Plan, kind: NDArray[np.integer | np.bool_]) -> IntArray:
    """The units from ``n_inputs`` on in groups, as ``group_start``: group g is units
    ``group_start[g] .. group_start[g+1]-1``, consecutive, of one ``kind`` and one activation,
    and none fed by another unit of its group (a level of a layered network, or a run of units
    that do not feed each other).

    A pass then computes a group's activations, or their derivatives, in one loop over the
    group's rows, which are contiguous in unit-major state (on 1000 levels of 4 units at 32
    columns, each pass took about 0.8 of its time unit by unit). Groups are taken greedily, in
    execution order.

    >>> import dagnet
    >>> plan = compile_plan(dagnet.load_graph("graphs/multi_output.json"))
    >>> plan.unit_ids, groups(plan, np.zeros(plan.n_units, np.int64)).tolist()
    (('x', 'i', 'j', 'k', 'o'), [1, 2, 4, 5])
    """
    last_source = np.full(plan.n_units, -1, np.int64)  # of each unit's in-edges, -1 for none
    fed = np.diff(plan.in_start) > 0
    if fed.any():
        last_source[fed] = np.maximum.reduceat(plan.in_source, plan.in_start[:-1][fed])
    group_start = np.empty(plan.n_units + 1, np.int64)
    count = _groups(plan.n_inputs, last_source, kind, plan.activation, group_start)
    return group_start[: count + 1]


@njit(cache=True)
def _groups(first, last_source, kind, activation, group_start):  # type: ignore[no-untyped-def]
    """The groups of units ``first`` on, greedily, into ``group_start`` (their first units, then
    the end); returns how many. A unit joins the group before it when it is of the same kind and
    activation and its last source comes before the group."""
    units = last_source.shape[0]
    if first >= units:
        group_start[0] = units
        return 0
    count, start = 0, first
    group_start[0] = first
    for j in range(first + 1, units):
        alike = kind[j] == kind[start] and activation[j] == activation[start]
        if last_source[j] >= start or not alike:
            count += 1
            group_start[count] = start = j
    group_start[count + 1] = units
    return count + 1


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
    dense = plan.dense
    for (s0, s1), (t0, t1) in zip(dense.sources, dense.targets, strict=True):
        assert s1 <= t0, "a dense block's targets come before all its sources"
        edges = np.add.outer(dense.in_row[t0:t1], np.arange(s1 - s0))
        assert np.array_equal(
            plan.in_source[edges], np.broadcast_to(np.arange(s0, s1), edges.shape)
        )
        entries = np.add.outer(dense.out_row[s0:s1], np.arange(t1 - t0))
        assert np.array_equal(
            plan.out_target[entries], np.broadcast_to(np.arange(t0, t1), entries.shape)
        )
