"""Initial parameters: the weights a file leaves out, drawn from a seed, and the seed itself.

A missing weight w_{i→j} is drawn by a named scheme, from ``numpy.random.default_rng([seed,
0])``, one number per edge in file order (so the same seed gives the same weights whichever
edges the file already has); a missing bias is 0, except under ``widrow_nguyen``, which draws
the biases too, as FANN does. fan_in(j) counts the edges into j and fan_out(i) those out of i:

- ``glorot_uniform`` (the default): U(−a, a), a = √(6 / (fan_in(j) + fan_out(i))), Glorot's
  scheme for a single edge;
- ``he_uniform``: U(−a, a), a = √(6 / fan_in(j)), He's scheme for relu units;
- ``lecun_normal``: N(0, 1 / fan_in(j)), LeCun's scheme for selu units (untruncated, as
  ``torch.nn.init.kaiming_normal_(mode="fan_in", nonlinearity="linear")``);
- ``widrow_nguyen``: as FANN's ``fann_init_weights``: with H hidden units, n inputs and the
  inputs' range [lo, hi] in the training data, β = (0.7 H)^(1/n) / (hi − lo); a weight is
  U(0, β) and a bias U(−β, β).

A run with no seed anywhere draws one (:func:`draw_seed`), so that it can be recorded and the
run repeated.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from dagnet.engine.plan import Plan
from dagnet.errors import ArgumentError
from dagnet.graph.model import Graph

__all__ = ["INITIALISATIONS", "INIT_STREAM", "draw_seed", "initial_parameters"]

INIT_STREAM = 0
"""Which ``default_rng([seed, stream])`` stream initialises weights (shuffling uses 1)."""


def draw_seed() -> int:
    """A fresh seed for a run that was given none."""
    return secrets.randbelow(2**31)


def initial_parameters(
    graph: Graph,
    plan: Plan,
    seed: int | None,
    dtype: np.dtype,
    scheme: str = "glorot_uniform",
    input_range: tuple[float, float] | None = None,
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """The weight of every edge and the bias of every unit, in Plan order: the file's values,
    and for those it leaves out, draws from ``seed`` by ``scheme`` (see the module docstring);
    ``input_range`` is the data's (lowest, highest) input, which ``widrow_nguyen`` needs.

    Raises
    ------
    ArgumentError
        For an unknown scheme, or ``widrow_nguyen`` without a range of more than one value.
    """
    if scheme not in INITIALISATIONS:
        known = ", ".join(INITIALISATIONS)
        raise ArgumentError(f"unknown initialisation {scheme!r}; known schemes are {known}")
    weights = _column(graph.edges.weights)
    biases = _column([unit.bias for unit in graph.units])
    draws_biases = scheme == "widrow_nguyen"
    missing = np.isnan(weights)
    missing_bias = np.isnan(biases) & np.array([u.role != "input" for u in graph.units])
    if missing.any() or (draws_biases and missing_bias.any()):
        assert seed is not None, "a network with parameters to draw has a seed"
        rng = np.random.default_rng([seed, INIT_STREAM])
        fan_in = np.empty(plan.n_edges)
        fan_out = np.empty(plan.n_edges)
        fan_in[plan.edge_file_index] = np.diff(plan.in_start)[plan.edge_target]
        fan_out[plan.edge_file_index] = np.diff(plan.out_start)[plan.in_source]
        drawn, drawn_biases = INITIALISATIONS[scheme](rng, fan_in, fan_out, graph, input_range)
        weights[missing] = drawn[missing]
        if draws_biases:
            biases[missing_bias] = drawn_biases[missing_bias]
    biases[np.isnan(biases)] = 0.0
    weight = np.ascontiguousarray(weights[plan.edge_file_index], dtype=dtype)
    bias = np.ascontiguousarray(biases[plan.unit_file_index], dtype=dtype)
    return weight, bias


def _column(values: Sequence[float | None]) -> NDArray[np.float64]:
    """Values in file order as floats, NaN where the file gives none (numpy reads None as NaN
    into a float array)."""
    if values.count(None) == len(values):
        # The common case of a file without weights, where numpy takes 50 ns per None.
        return np.full(len(values), np.nan)
    return np.array(values, dtype=np.float64)


Draw = NDArray[np.float64]
Scheme = Callable[
    [np.random.Generator, Draw, Draw, Graph, "tuple[float, float] | None"], tuple[Draw, Draw]
]
"""(rng, fan_in, fan_out per edge in file order, graph, input range) → (a weight per edge, a
bias per unit), both in file order; the edges' draws come first from the generator."""


def _glorot_uniform(
    rng: np.random.Generator, fan_in: Draw, fan_out: Draw, graph: Graph, span: object
) -> tuple[Draw, Draw]:
    return rng.uniform(-1.0, 1.0, len(fan_in)) * np.sqrt(6.0 / (fan_in + fan_out)), _none(graph)


def _he_uniform(
    rng: np.random.Generator, fan_in: Draw, fan_out: Draw, graph: Graph, span: object
) -> tuple[Draw, Draw]:
    return rng.uniform(-1.0, 1.0, len(fan_in)) * np.sqrt(6.0 / fan_in), _none(graph)


def _lecun_normal(
    rng: np.random.Generator, fan_in: Draw, fan_out: Draw, graph: Graph, span: object
) -> tuple[Draw, Draw]:
    return rng.standard_normal(len(fan_in)) * np.sqrt(1.0 / fan_in), _none(graph)


def _widrow_nguyen(
    rng: np.random.Generator,
    fan_in: Draw,
    fan_out: Draw,
    graph: Graph,
    span: tuple[float, float] | None,
) -> tuple[Draw, Draw]:
    if span is None or not span[1] > span[0]:
        raise ArgumentError(
            "widrow_nguyen scales the weights by the range of the training inputs; give it "
            f"data whose inputs take more than one value (got the range {span})"
        )
    roles = [unit.role for unit in graph.units]
    hidden, inputs = roles.count("hidden"), roles.count("input")
    beta = (0.7 * hidden) ** (1.0 / inputs) / (span[1] - span[0])
    weights = rng.uniform(0.0, beta, len(fan_in))
    return weights, rng.uniform(-beta, beta, len(roles))


def _none(graph: Graph) -> Draw:
    return np.zeros(len(graph.units))


INITIALISATIONS: dict[str, Scheme] = {
    "glorot_uniform": _glorot_uniform,
    "he_uniform": _he_uniform,
    "lecun_normal": _lecun_normal,
    "widrow_nguyen": _widrow_nguyen,
}
"""name → scheme (see the module docstring); the file format's names are these."""
