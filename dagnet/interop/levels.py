"""A network cut into topological levels, for the exporters that compute a level at a time.

A unit's level is the length of the longest path to it from an input (a unit that nothing feeds
is put on level 1, since it is no input). The units of one level depend only on earlier levels,
so an engine of whole-array operations (ONNX, PyTorch) computes a level in a few operations: it
gathers the outputs z of the level's sources into a matrix (examples × sources), multiplies it by
the level's weights (sources × units, each edge in its place and zeros elsewhere), adds the
biases and applies each activation to its run of units. :class:`LevelLayout` holds the index
arrays for that, built once from the Plan with numpy (no Python loop per unit or per edge): the
units numbered level by level (its *state columns*: inputs first, in file order, then level 1,
and so on), each level's units sorted by activation so that each activation is one slice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from dagnet.engine.plan import Plan
from dagnet.functions.activations import ACTIVATION_NAMES

__all__ = ["Level", "LevelLayout", "level_layout", "levels_of"]

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Level:
    """One level: where its units sit, what feeds them, and where each edge goes in its matrix.

    Attributes
    ----------
    units : int array (width,)
        Plan positions of the level's units, in state-column order.
    sources : int array (k,)
        State columns of the units that feed the level, ascending; at least one (column 0 with
        zero weights when nothing feeds the level, so that every level has a product).
    edges : int array (edges of the level,)
        Plan numbers of the edges into the level.
    place : int array (edges of the level,)
        Where each of those edges goes in the flattened (k, width) weight matrix.
    runs : list of (activation name, start, end)
        Each activation's slice of the level's units.
    """

    units: IntArray
    sources: IntArray
    edges: IntArray
    place: IntArray
    runs: list[tuple[str, int, int]]

    @property
    def width(self) -> int:
        return len(self.units)

    @property
    def shape(self) -> tuple[int, int]:
        """The shape of the level's weight matrix: (sources, units)."""
        return len(self.sources), len(self.units)


@dataclass(frozen=True)
class LevelLayout:
    """Every level of a Plan above the inputs, and where the outputs are in the state.

    Attributes
    ----------
    n_inputs : int
        The state's first columns are the inputs, in file order.
    column : int array (units,)
        The state column of each Plan position.
    levels : list of Level
        Levels 1, 2, ... in order.
    output_columns : int array (outputs,)
        The state column of each output unit, in file order.
    """

    n_inputs: int
    column: IntArray
    levels: list[Level]
    output_columns: IntArray

    @property
    def depth(self) -> int:
        return len(self.levels)

    def bias_of(self, bias: NDArray[np.floating], level: Level) -> NDArray[np.floating]:
        """The biases (Plan order) of a level's units, in state-column order."""
        return bias[level.units]

    def matrix(self, weight: NDArray[np.floating], level: Level) -> NDArray[np.floating]:
        """The level's (sources, units) weight matrix from the weights in Plan order."""
        matrix = np.zeros(level.shape, dtype=weight.dtype)
        matrix.flat[level.place] = weight[level.edges]
        return matrix


def levels_of(plan: Plan) -> IntArray:
    """The level of each unit by Plan position, a unit that nothing feeds counting as fed by an
    input (level 1, and its targets above it).

    Examples
    --------
    >>> import dagnet
    >>> from dagnet.engine.plan import compile_plan
    >>> plan = compile_plan(dagnet.Graph.model_validate({"format_version": 1, "units": [
    ...     {"id": "x", "role": "input"}, {"id": "c"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "y"}, {"source": "c", "target": "y"}]}))
    >>> dict(zip(plan.unit_ids, levels_of(plan).tolist()))
    {'x': 0, 'c': 1, 'y': 2}
    """
    fan_in = np.diff(plan.in_start)
    constant = np.flatnonzero(fan_in == 0)
    constant = constant[constant >= plan.n_inputs]
    if len(constant) == 0:
        return plan.levels()
    # Give each such unit an in-edge from the first input, and count again.
    fan_in[constant] += 1
    in_start = np.concatenate([[0], np.cumsum(fan_in)])
    in_source = np.insert(plan.in_source, plan.in_start[constant], 0)
    return Plan.levels(replace(plan, in_start=in_start, in_source=in_source))


def level_layout(plan: Plan) -> LevelLayout:
    """Cut a Plan into levels (see the module docstring).

    Examples
    --------
    >>> import dagnet
    >>> from dagnet.engine.plan import compile_plan
    >>> layout = level_layout(compile_plan(dagnet.load_graph("graphs/multi_output.json")))
    >>> [(level.shape, level.runs) for level in layout.levels]
    [((1, 1), [('sigmoid', 0, 1)]), ((1, 2), [('sigmoid', 0, 2)]), ((2, 1), [('identity', 0, 1)])]
    >>> layout.output_columns.tolist()
    [4]
    """
    level = levels_of(plan)
    # State columns: by level, then by activation within a level, then by Plan position.
    order = np.lexsort((np.arange(plan.n_units), plan.activation, level))
    column = np.empty_like(order)
    column[order] = np.arange(plan.n_units)
    depth = int(level.max(initial=0))
    start = np.searchsorted(level[order], np.arange(depth + 2))
    target = plan.edge_target
    target_level = level[target]
    by_level = np.argsort(target_level, kind="stable")
    edge_start = np.searchsorted(target_level[by_level], np.arange(depth + 2))
    levels = []
    for number in range(1, depth + 1):
        units = order[start[number] : start[number + 1]]
        edges = by_level[edge_start[number] : edge_start[number + 1]]
        source_columns = column[plan.in_source[edges]]
        sources = np.unique(source_columns)
        if len(sources) == 0:
            sources = np.zeros(1, dtype=np.int64)
        row = np.searchsorted(sources, source_columns)
        place = row * len(units) + column[target[edges]] - start[number]
        codes = plan.activation[units]
        bounds = [0, *(np.flatnonzero(np.diff(codes)) + 1).tolist(), len(units)]
        runs = [(ACTIVATION_NAMES[codes[a]], a, b) for a, b in pairwise(bounds)]
        levels.append(Level(units, sources, edges, place.astype(np.int64), runs))
    return LevelLayout(plan.n_inputs, column, levels, column[plan.output_positions])
