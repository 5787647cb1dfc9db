"""Initial parameters: the weights a file leaves out, drawn from a seed, and the seed itself.

Missing weights are initialised with a fan-in/fan-out (Glorot) scheme adapted to single edges:
w_{i→j} ~ U(−a, a) with a = √(6 / (fan_in(j) + fan_out(i))), drawn for every edge in file order
from ``numpy.random.default_rng([seed, 0])``; missing biases are 0. A run with no seed anywhere
draws one (:func:`draw_seed`), so that it can be recorded and the run repeated.
"""

from __future__ import annotations

import secrets

import numpy as np
from numpy.typing import NDArray

from dagnet.engine.plan import Plan
from dagnet.graph.model import Graph

__all__ = ["INIT_STREAM", "draw_seed", "initial_parameters"]

INIT_STREAM = 0
"""Which ``default_rng([seed, stream])`` stream initialises weights (shuffling uses 1)."""


def draw_seed() -> int:
    """A fresh seed for a run that was given none."""
    return secrets.randbelow(2**31)


def initial_parameters(
    graph: Graph, plan: Plan, seed: int | None, dtype: np.dtype
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """The weight of every edge and the bias of every unit, in Plan order: the file's values,
    and for the weights it leaves out, draws from ``seed``."""
    file_weights = np.array(graph.edges.weights, dtype=object)
    file_weights[file_weights == None] = np.nan  # noqa: E711 (elementwise, not identity)
    file_weights = file_weights.astype(np.float64)
    missing = np.isnan(file_weights)
    if missing.any():
        assert seed is not None, "a network with weights to draw has a seed"
        fan_in = np.diff(plan.in_start)[plan.edge_target]
        fan_out = np.diff(plan.out_start)[plan.in_source]
        limit = np.empty(plan.n_edges)
        limit[plan.edge_file_index] = np.sqrt(6.0 / (fan_in + fan_out))
        draw = np.random.default_rng([seed, INIT_STREAM]).uniform(-1.0, 1.0, len(missing))
        file_weights[missing] = (draw * limit)[missing]
    file_biases = np.array([unit.bias or 0.0 for unit in graph.units], dtype=np.float64)
    weight = np.ascontiguousarray(file_weights[plan.edge_file_index], dtype=dtype)
    bias = np.ascontiguousarray(file_biases[plan.unit_file_index], dtype=dtype)
    return weight, bias
