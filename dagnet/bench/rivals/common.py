"""What the rival engines share: the :class:`Step` each builder returns, the units' levels and
their renumbering level by level (:class:`Layout`), the float dtypes they accept, and whether
PyTorch and scipy are installed.

A *level* is the length of the longest path from the inputs to a unit: the units of one level
depend only on earlier levels, so a level is computed at once. This module imports neither
PyTorch, scipy nor any rival.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from dagnet.engine.plan import Plan
from dagnet.functions.activations import ACTIVATION_NAMES

__all__ = [
    "Array",
    "IntArray",
    "Layout",
    "Parameters",
    "Step",
    "float_dtype",
    "layout_of",
    "levels",
    "scipy_available",
    "torch_available",
]

Array = NDArray[np.floating]
IntArray = NDArray[np.int64]
Parameters = tuple[NDArray[np.float64], NDArray[np.float64]]


@dataclass(frozen=True)
class Step:
    """One training step of a network in some engine, on a fixed minibatch, ready to repeat.

    Attributes
    ----------
    name : str
        The engine and formulation, e.g. ``"torch-index"``.
    run : callable
        Runs one step: forward, backward and the update of the engine's own parameters.
    read : callable
        Returns the engine's current (weight, bias) as float64 arrays in the Plan's order.
    """

    name: str
    run: Callable[[], object]
    read: Callable[[], Parameters]

    def __call__(self) -> None:
        """One step on the fixed minibatch."""
        self.run()

    def parameters(self) -> Parameters:
        """(weight per edge, bias per unit) in the Plan's order, float64; inputs' biases are 0."""
        return self.read()


def torch_available() -> bool:
    """Whether PyTorch can be imported (it is the optional extra ``dagnet[compare]``)."""
    return importlib.util.find_spec("torch") is not None


def scipy_available() -> bool:
    """Whether scipy can be imported (the optional extra ``dagnet[compare]`` declares it)."""
    return importlib.util.find_spec("scipy") is not None


def levels(plan: Plan) -> IntArray:
    """The level of every unit, in Plan order: the length of the longest path from an input.

    Inputs are level 0; any other unit is one level above its deepest source (level 1 when it
    has none). One pass in Plan order suffices, because every source comes before its target.

    Examples
    --------
    >>> import dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/xor.json"))
    >>> dict(zip(net.plan.unit_ids, levels(net.plan).tolist()))
    {'x1': 0, 'x2': 0, 'h1': 1, 'h2': 2, 'y': 3}
    """
    # (Plan.levels puts a unit without sources at 0; lifting it alone to 1 would leave its
    # targets on its own level, so the pass is made here.)
    level = np.zeros(plan.n_units, dtype=np.int64)
    start, source = plan.in_start, plan.in_source
    for unit in range(plan.n_inputs, plan.n_units):
        sources = source[start[unit] : start[unit + 1]]
        level[unit] = 1 + (int(level[sources].max()) if len(sources) else 0)
    return level


@dataclass(frozen=True)
class Layout:
    """Units renumbered level by level, so that each level is one contiguous block.

    Within a level, units are sorted by activation (each activation a contiguous run, so one
    call activates it) and then by Plan position.
    """

    level: IntArray  # per Plan position
    order: IntArray  # Plan positions in the new numbering
    rank: IntArray  # new number of each Plan position
    start: IntArray  # level L is numbers start[L] .. start[L + 1] - 1

    @property
    def depth(self) -> int:
        return len(self.start) - 2

    def runs(self, plan: Plan, level: int) -> list[tuple[str, int, int]]:
        """(activation name, first, end) of each run of one activation in ``level``, local."""
        codes = plan.activation[self.order[self.start[level] : self.start[level + 1]]]
        edges = np.flatnonzero(np.diff(codes)) + 1
        bounds = [0, *edges.tolist(), len(codes)]
        return [(ACTIVATION_NAMES[codes[a]], a, b) for a, b in pairwise(bounds)]


def layout_of(plan: Plan) -> Layout:
    """The plan's units renumbered level by level (see :class:`Layout`)."""
    level = levels(plan)
    order = np.lexsort((np.arange(plan.n_units), plan.activation, level))
    rank = np.empty_like(order)
    rank[order] = np.arange(plan.n_units)
    start = np.searchsorted(level[order], np.arange(level.max() + 2))
    return Layout(level, order, rank, start)


def float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """``dtype`` as a numpy dtype, if it is float32 or float64; else a ValueError."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    return dtype
