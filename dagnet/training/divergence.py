"""When a run has diverged, and which unit to blame: the watch ``fit`` keeps over every step.

A run diverges when a minibatch's loss is not a finite number, or exceeds
:data:`DIVERGENCE_FACTOR` times the first epoch's mean (during the first epoch, the first
minibatch's loss), or times 1 if that is smaller (:func:`divergence_line`). The message names
the epoch and the first unit, in execution order, whose values blew up (or, when none did, the
one that grew the most). :class:`Snapshot` keeps the last good parameters, those of the last
step whose loss passed, to put back when a run fails.
"""

from __future__ import annotations

import numpy as np

from dagnet.engine.compiled import CompiledNetwork

__all__ = [
    "BLOWN_UP",
    "DIVERGENCE_FACTOR",
    "GROWTH",
    "SCALE_EXAMPLES",
    "Snapshot",
    "blow_up_message",
    "divergence_line",
    "divergence_message",
    "overflow_before_update_message",
    "sizes",
]


class Snapshot:
    """A copy of a network's parameters, kept in buffers of its own so that taking one is cheap."""

    def __init__(self, net: CompiledNetwork) -> None:
        self.net = net
        self.weight = net.weight.copy()
        self.bias = net.bias.copy()

    def take(self) -> None:
        np.copyto(self.weight, self.net.weight)
        np.copyto(self.bias, self.net.bias)

    def restore(self) -> None:
        np.copyto(self.net.weight, self.weight)
        np.copyto(self.net.bias, self.bias)


DIVERGENCE_FACTOR = 1e6
"""A minibatch whose loss exceeds this many times the first epoch's mean (or 1) has diverged."""


def divergence_line(first: float) -> float:
    """The loss above which a minibatch has diverged, after a first loss of ``first``.

    Not less than :data:`DIVERGENCE_FACTOR` itself: a first loss of 0, which a network whose
    biases start at 0 gives on an example of zeros, would otherwise put the line at any ordinary
    loss (XOR at batch size 1 failed so on one seed in three). The compiled one-example steps
    (:mod:`dagnet.engine.online`) draw the same line.

    >>> divergence_line(0.0), divergence_line(2.0)
    (1000000.0, 2000000.0)
    """
    return DIVERGENCE_FACTOR * max(first, 1.0)


BLOWN_UP = 1e150
"""A value this large overflows when the loss squares it: the run has left arithmetic behind."""

GROWTH = 1e3
"""A unit whose largest |z| grew this many times beyond its size before training (or beyond 1,
if that is larger) has blown up."""

SCALE_EXAMPLES = 64
"""How many examples a unit's size before training is measured over: growth by orders of
magnitude shows in a sample, and a pass over a whole wide minibatch cost a fifth of a short run
(FANN's sparse network, 5 epochs of one step of 1024 examples)."""


def sizes(z: np.ndarray) -> np.ndarray:
    """Each unit's largest |z| over the examples; NaN where a value is NaN."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.abs(z).max(axis=1)  # type: ignore[no-any-return]


def _first_blown_up(z: np.ndarray, scale: np.ndarray | None) -> int | None:
    """The plan index of the first unit, in execution order, whose values blew up."""
    largest = sizes(z)
    with np.errstate(invalid="ignore", over="ignore"):
        broken = ~(largest < BLOWN_UP)
        if scale is not None:
            broken |= largest > GROWTH * np.maximum(scale, 1.0)
    index = np.flatnonzero(broken)
    return int(index[0]) if len(index) else None


def blow_up_message(
    net: CompiledNetwork, z: np.ndarray, scale: np.ndarray | None, epoch: int, learning_rate: float
) -> str:
    first = _first_blown_up(z, None)  # inputs are data: only their own size counts
    if first is not None and first < net.plan.n_inputs:
        return (
            f"input unit '{net.plan.unit_ids[first]}' has values too large to compute with "
            f"(up to {np.abs(z[first]).max():.3g}); scale the data down"
        )
    first = _first_blown_up(z, scale)
    which = (
        f"; unit '{net.plan.unit_ids[first]}' was the first whose values blew up"
        if first is not None
        else ""
    )
    return (
        f"training diverged in epoch {epoch}: the loss is no longer a finite number{which}; "
        f"try a smaller learning rate than {learning_rate:g}"
    )


def overflow_before_update_message(net: CompiledNetwork, z: np.ndarray) -> str:
    """The loss overflowed at the first step, before any update: no learning rate can help, so
    the message names the unit, the largest parameter and what to change instead."""
    first = _first_blown_up(z, None)
    if first is not None and first < net.plan.n_inputs:
        return (
            f"input unit '{net.plan.unit_ids[first]}' has values too large to compute with "
            f"(up to {np.abs(z[first]).max():.3g}); scale the data down"
        )
    which = f"unit '{net.plan.unit_ids[first]}' overflows" if first is not None else "it overflows"
    weight, bias = np.abs(net.weight), np.abs(net.bias)
    largest = ""
    if len(weight) and (not len(bias) or weight.max() >= bias.max()):
        k = int(np.argmax(weight))
        plan = net.plan
        source, target = plan.unit_ids[plan.in_source[k]], plan.unit_ids[plan.edge_target[k]]
        largest = f"; the largest weight is {net.weight[k]:.3g}, on edge {source} -> {target}"
    elif len(bias):
        j = int(np.argmax(bias))
        largest = f"; the largest bias is {net.bias[j]:.3g}, on unit '{net.plan.unit_ids[j]}'"
    instead = "smaller weights and biases, or smaller data"
    if net.dtype != np.float64:
        instead += ", or float64"
    return (
        "the loss is not a finite number before any update: with the parameters the run starts "
        f"from, {which} in {net.dtype}{largest}; a smaller learning rate cannot help, so use "
        f"{instead}"
    )


def divergence_message(
    net: CompiledNetwork,
    z: np.ndarray,
    scale: np.ndarray | None,
    first: float,
    loss: float,
    epoch: int,
    since: str = "the mean of epoch 1",
) -> str:
    broken = _first_blown_up(z, scale)
    blame = "was the first whose values blew up"
    if broken is None or broken < net.plan.n_inputs:  # none stands out: the most grown, no input
        growth = sizes(z) / np.maximum(scale if scale is not None else 1, 1)
        broken = net.plan.n_inputs + int(np.nanargmax(growth[net.plan.n_inputs :]))
        blame = "grew the most"
    return (
        f"training diverged in epoch {epoch}: the loss grew from {first:.3g} ({since}) to "
        f"{loss:.3g} in a minibatch, more than {DIVERGENCE_FACTOR:.0e} times; unit "
        f"'{net.plan.unit_ids[broken]}' {blame}"
    )
