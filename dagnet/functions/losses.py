"""The table of losses: each name with its per-example terms, the error signal it starts at an
output unit, its compiled form, and how ``explain`` writes it.

A network's objective is a sum of *heads*: each head is a loss over some of the output units,
with a weight, E_n = Σ_heads weight_h · E_h,n. ``squared_error`` and ``cross_entropy`` treat
each of their outputs alone; ``softmax_cross_entropy`` treats its outputs as one softmax group.

What a loss gives each output o is the direct part of δ_o = ∂E/∂s_o, the part that does not
come through o's out-edges:

- ``squared_error``, E_n = ½ Σ_o (ŷ_o − y_o)²:          δ_o ← f'_o(s_o) (ŷ_o − y_o)
- ``cross_entropy``, E_n = −Σ_o [y_o ln ŷ_o + (1 − y_o) ln(1 − ŷ_o)], ŷ_o = σ(s_o):
  δ_o ← ŷ_o − y_o, σ' having cancelled; E is computed from s_o as softplus(s_o) − y_o s_o, which
  neither overflows nor takes the log of 0
- ``softmax_cross_entropy``, p = softmax(s) over the group (identity units: s = ŷ, the logits),
  E_n = −Σ_o y_o ln p_o = Σ_o y_o (logsumexp(s) − s_o):   δ_o ← p_o Σ_r y_r − y_o (= p_o − y_o
  when the targets sum to 1, as they must)

The engine adds an output's out-edge sum to this after multiplying it by f'_o(s_o): δ_o =
f'_o(s_o) Σ_{k∈outs(o)} δ_k w_{o→k} + (direct part). ``terms`` and ``delta`` are formulas of
array arithmetic over a head's outputs (axis 0), written once for numpy arrays, PyTorch tensors
(``xp`` is the module) and the reference engine's small arrays; ``signal`` is what a training
step calls, writing the direct part of δ and summing the loss in one compiled loop. A new loss is
one entry here, plus its tests. This module imports nothing from dagnet but the activations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from dagnet.functions.activations import CODES, OnnxNodes, scale_by_derivative

__all__ = [
    "LOSSES",
    "LOSS_CODES",
    "Head",
    "Loss",
    "head_delta",
    "head_probability",
    "head_terms",
    "signal_of",
]

Array = NDArray[np.floating]
Values = Any  # numpy arrays or torch tensors (xp is their module): the formulas are arithmetic
Signal = Callable[..., float]
"""Compiled (s, z, activation, output_positions, slots, y, out, by_output, weight) → the
head's weighted Σ_n E_n: for each output r in ``slots``, at state row ``output_positions[r]``
(its activation code ``activation[row]``), writes the weighted direct part of δ into ``out[r]``
and its weighted share of the sum into ``by_output[r]``; never a warning, even on overflow."""


@dataclass(frozen=True)
class Loss:
    """One loss E, as every part of dagnet computes or writes it."""

    terms: Callable[[Values, Values, Values, Any], Values]
    """(s, ŷ, y, xp) → each output's share of E_n for each example, the outputs along axis 0;
    s may be None where only ŷ is at hand (an autograd graph of the outputs), at the cost of
    some stability for cross-entropy."""
    delta: Callable[[Values, Values, Values, Values, Any], Values]
    """(s, ŷ, f'(s), y, xp) → the direct part of δ_o = ∂E_n/∂s_o."""
    probability: Callable[[Values, Values, Any], Values] | None
    """(s, ŷ, xp) → the probabilities its outputs stand for (what ``predict`` writes), or None
    when they are plain values."""
    signal: Signal
    formula: str
    """E_n, in Unicode: ``E = ½ Σ_o (ŷ_o − y_o)²``."""
    ascii_formula: str
    term_text: Callable[[str, str, str, bool], str]
    """(ŷ, p, y, ascii) → one output's share of E as text, for the sum ``explain`` writes out
    (p: the output's probability, for a loss that has one)."""
    error_text: Callable[[str, str, str, bool], str]
    """(ŷ, p, y, ascii) → the error the direct part of δ_o is made of, as text."""
    scaled: bool = False
    """Whether that direct part is f'_o(s_o) times the error (squared error's ∂E/∂ŷ), rather
    than the error itself (the cross-entropies, whose f' has cancelled)."""
    sum_prefix: tuple[str, str] = ("", "")
    """What stands before the sum of an example's terms (Unicode, ASCII): ``½ `` for squared
    error, which factors the half out of its terms."""
    activation: str | None = None
    """The activation its output units must have (its δ and stable E depend on it), or None."""
    grouped: bool = False
    """Whether its outputs form one softmax group (at least two units)."""
    threshold: float | None = None
    """Accuracy: an output counts as class 1 at or above this probability (None: no such
    metric, or, for a group, the argmax)."""
    note: str = ""
    """What ``explain`` says of p, for a loss whose δ speaks of it."""
    onnx_probability: Callable[[str, OnnxNodes], str] | None = None
    """:attr:`probability` as ONNX nodes, ``onnx_probability(y_hat, nodes)`` → its name, over
    the head's ŷ as (N, outputs of the head), where the probability is not ŷ itself."""

    @property
    def classifies(self) -> bool:
        return self.grouped or self.threshold is not None


# squared_error


def _squared_error_terms(s: Values, y_hat: Values, y: Values, xp: Any) -> Values:
    return 0.5 * (y_hat - y) ** 2


def _squared_error_delta(s: Values, y_hat: Values, slope: Values, y: Values, xp: Any) -> Values:
    return slope * (y_hat - y)


@njit(cache=True)
def _squared_error_signal(s, z, activation, positions, slots, y, out, by_output, weight):  # type: ignore[no-untyped-def]
    total = 0.0
    for r in slots:
        j = positions[r]
        share = 0.0
        for n in range(y.shape[1]):
            difference = z[j, n] - y[r, n]
            out[r, n] = weight * difference
            share += 0.5 * difference * difference
        scale_by_derivative(activation[j], s, z, j, out, r, 0, y.shape[1])
        by_output[r] = weight * share
        total += weight * share
    return total


# cross_entropy: σ outputs; E from s, softplus(s) − y s = max(s, 0) − y s + ln(1 + e^−|s|)


def _softplus(s: Values, xp: Any) -> Values:
    return 0.5 * (s + xp.abs(s)) + xp.log1p(xp.exp(-xp.abs(s)))


def _cross_entropy_terms(s: Values, y_hat: Values, y: Values, xp: Any) -> Values:
    if s is None:
        return -(y * xp.log(y_hat) + (1.0 - y) * xp.log1p(-y_hat))
    return _softplus(s, xp) - y * s


def _cross_entropy_delta(s: Values, y_hat: Values, slope: Values, y: Values, xp: Any) -> Values:
    return y_hat - y


@njit(cache=True)
def _cross_entropy_signal(s, z, activation, positions, slots, y, out, by_output, weight):  # type: ignore[no-untyped-def]
    total = 0.0
    for r in slots:
        j = positions[r]
        share = 0.0
        for n in range(y.shape[1]):
            s_n = s[j, n]
            out[r, n] = weight * (z[j, n] - y[r, n])
            share += max(s_n, 0.0) - y[r, n] * s_n + np.log1p(np.exp(-abs(s_n)))
        by_output[r] = weight * share
        total += weight * share
    return total


# softmax_cross_entropy: identity outputs s = ŷ, the logits of one group


def _logsumexp(s: Values, xp: Any) -> Values:
    top = xp.amax(s, axis=0, keepdims=True)
    return top + xp.log(xp.sum(xp.exp(s - top), axis=0, keepdims=True))


def _softmax(s: Values, y_hat: Values, xp: Any) -> Values:
    return xp.exp(s - _logsumexp(s, xp))


def _softmax_terms(s: Values, y_hat: Values, y: Values, xp: Any) -> Values:
    s = y_hat if s is None else s  # identity outputs
    return y * (_logsumexp(s, xp) - s)


def _softmax_delta(s: Values, y_hat: Values, slope: Values, y: Values, xp: Any) -> Values:
    return _softmax(s, y_hat, xp) * xp.sum(y, axis=0, keepdims=True) - y


@njit(cache=True)
def _softmax_signal(s, z, activation, positions, slots, y, out, by_output, weight):  # type: ignore[no-untyped-def]
    for r in slots:
        by_output[r] = 0.0
    for n in range(y.shape[1]):
        top = -np.inf
        for r in slots:
            top = max(top, s[positions[r], n])
        exponentials = 0.0
        targets = 0.0
        for r in slots:
            exponentials += np.exp(s[positions[r], n] - top)
            targets += y[r, n]
        logsumexp = top + np.log(exponentials)
        for r in slots:
            s_n = s[positions[r], n]
            p = np.exp(s_n - logsumexp)
            out[r, n] = weight * (p * targets - y[r, n])
            by_output[r] += weight * y[r, n] * (logsumexp - s_n)
    total = 0.0
    for r in slots:
        total += by_output[r]
    return total


def _minus(y_hat: str, y: str, plain: bool) -> str:
    return f"{y_hat}{' - ' if plain else ' − '}{y}"


LOSSES: dict[str, Loss] = {
    "squared_error": Loss(
        terms=_squared_error_terms,
        delta=_squared_error_delta,
        probability=None,
        signal=_squared_error_signal,
        formula="E = ½ Σ_o (ŷ_o − y_o)²",
        ascii_formula="E = 1/2 sum_o (yhat_o - y_o)^2",
        term_text=lambda y_hat, p, y, plain: f"({_minus(y_hat, y, plain)}){'^2' if plain else '²'}",
        error_text=lambda y_hat, p, y, plain: _minus(y_hat, y, plain),
        scaled=True,
        sum_prefix=("½ ", "1/2 "),
    ),
    "cross_entropy": Loss(
        terms=_cross_entropy_terms,
        delta=_cross_entropy_delta,
        probability=lambda s, y_hat, xp: y_hat,
        signal=_cross_entropy_signal,
        formula="E = −Σ_o [y_o ln ŷ_o + (1 − y_o) ln(1 − ŷ_o)]",
        ascii_formula="E = -sum_o [y_o log(yhat_o) + (1 - y_o) log(1 - yhat_o)]",
        term_text=lambda y_hat, p, y, plain: (
            f"-({y} log({y_hat}) + (1 - {y}) log(1 - {y_hat}))"
            if plain
            else f"−({y} ln {y_hat} + (1 − {y}) ln(1 − {y_hat}))"
        ),
        error_text=lambda y_hat, p, y, plain: _minus(y_hat, y, plain),
        activation="sigmoid",
        threshold=0.5,
    ),
    "softmax_cross_entropy": Loss(
        terms=_softmax_terms,
        delta=_softmax_delta,
        probability=_softmax,
        signal=_softmax_signal,
        formula="E = −Σ_o y_o ln p_o,  p = softmax(ŷ)",
        ascii_formula="E = -sum_o y_o log(p_o), p = softmax(yhat)",
        term_text=lambda y_hat, p, y, plain: f"-{y} log({p})" if plain else f"−{y} ln {p}",
        error_text=lambda y_hat, p, y, plain: _minus(p, y, plain),
        activation="identity",
        grouped=True,
        onnx_probability=lambda y_hat, nodes: nodes.op("Softmax", y_hat, axis=1),
        note="p_o = e^(ŷ_o) / Σ_r e^(ŷ_r) over the outputs r of its softmax group",
    ),
}
"""name → :class:`Loss`."""

LOSS_CODES = {name: code for code, name in enumerate(LOSSES)}


@njit(cache=True)
def signal_of(code, s, z, activation, positions, slots, y, out, by_output, weight):  # type: ignore[no-untyped-def]
    """The :attr:`Loss.signal` of the loss whose :data:`LOSS_CODES` entry is ``code``: compiled
    code that loops over a network's heads calls their signals through this."""
    if code == 0:
        return _squared_error_signal(s, z, activation, positions, slots, y, out, by_output, weight)
    if code == 1:
        return _cross_entropy_signal(s, z, activation, positions, slots, y, out, by_output, weight)
    return _softmax_signal(s, z, activation, positions, slots, y, out, by_output, weight)


assert [LOSSES[name].signal for name in LOSS_CODES] == [
    _squared_error_signal,
    _cross_entropy_signal,
    _softmax_signal,
], "signal_of dispatches on LOSS_CODES: a new loss needs its branch there"


@dataclass(frozen=True)
class Head:
    """One loss over some of a network's outputs, with its weight: a share of the objective.

    ``slots`` are the outputs' places in the file's order of output units; ``name`` is what
    reports call it (and the label column a softmax group's targets may be given as); ``classes``
    are the class names of a softmax group's outputs, in slot order.
    """

    name: str
    loss: str
    slots: tuple[int, ...]
    weight: float = 1.0
    classes: tuple[str, ...] = ()

    @property
    def function(self) -> Loss:
        return LOSSES[self.loss]


def head_terms(heads: Sequence[Head], s: Values, y_hat: Values, y: Values, xp: Any) -> Values:
    """Each output's weighted share of E_n, (outputs, ...), from the outputs' s (or None) and
    ŷ and targets y, outputs along axis 0: the sum over axis 0 is E_n."""
    if len(heads) == 1 and heads[0].weight == 1.0 and len(heads[0].slots) == len(y_hat):
        return heads[0].function.terms(s, y_hat, y, xp)  # (no copy, and autograd-friendly)
    terms = xp.zeros_like(y_hat)
    for head in heads:
        rows = list(head.slots)
        part = None if s is None else s[rows]
        terms[rows] = head.weight * head.function.terms(part, y_hat[rows], y[rows], xp)
    return terms


def head_delta(
    heads: Sequence[Head], s: Values, y_hat: Values, slope: Values, y: Values, xp: Any
) -> Values:
    """The direct part of every output's δ, (outputs, N), given f'(s) of the outputs."""
    delta = xp.zeros_like(y_hat)
    for head in heads:
        rows = list(head.slots)
        delta[rows] = head.weight * head.function.delta(
            s[rows], y_hat[rows], slope[rows], y[rows], xp
        )
    return delta


def head_probability(heads: Sequence[Head], s: Values, y_hat: Values, xp: Any) -> Values:
    """What the outputs stand for, (outputs, N): probabilities for cross-entropy outputs and
    softmax groups, ŷ itself for the rest."""
    values = y_hat.clone() if hasattr(y_hat, "clone") else xp.array(y_hat, copy=True)
    for head in heads:
        probability = head.function.probability
        if probability is not None:
            rows = list(head.slots)
            values[rows] = probability(s[rows], y_hat[rows], xp)
    return values


assert set(CODES) >= {loss.activation for loss in LOSSES.values() if loss.activation}
