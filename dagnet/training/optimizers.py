"""Optimizers: each turns gradients into parameter updates and owns whatever state it keeps.

An optimizer's ``step`` updates the parameter arrays in place. Gradients arrive already averaged
over the minibatch (∂E/∂w = (1/N) Σ_n δ_j z_i), so plain gradient descent is the derivation's
rule Δw_{i→j} = −(η/N) Σ_n δ_j z_i exactly, and the same for biases. The others follow PyTorch's
definitions step for step (``torch.optim.SGD`` with momentum and Nesterov, ``Adam``,
``Rprop``), so that a run can be checked against PyTorch's; each update is one compiled pass over
the parameters, so it costs little beside the forward and backward passes.

Weight decay is L2 for the SGD family (λp added to the gradient, as ``torch.optim.SGD`` does) and
decoupled for Adam (p ← p − ηλp before the step, as ``torch.optim.AdamW`` does); Rprop has none.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numba import njit
from numpy.typing import NDArray

from dagnet.errors import ArgumentError

__all__ = ["OPTIMIZERS", "SGD", "Adam", "Momentum", "Nesterov", "Optimizer", "Rprop", "optimizer"]

Array = NDArray[np.floating]


class Optimizer:
    """What every optimizer has: a learning rate η (its own default when not given) and a step.

    Parameters
    ----------
    learning_rate : float, optional
        η; :attr:`default_learning_rate` when None.
    """

    default_learning_rate: ClassVar[float] = 0.1

    def __init__(self, learning_rate: float | None = None) -> None:
        rate = self.default_learning_rate if learning_rate is None else learning_rate
        _positive("learning_rate", rate)
        self.learning_rate = float(rate)
        self.state: list[tuple[Array, ...]] = []
        self.steps = 0

    def step(self, parameters: Sequence[Array], gradients: Sequence[Array]) -> None:
        """Update each parameter array in place from its gradient (arrays of the same shape)."""
        if not self.state:
            self.state = [self._new_state(p) for p in parameters]
        self.steps += 1
        for parameter, gradient, state in zip(parameters, gradients, self.state, strict=True):
            self._update(parameter, gradient, state)

    def _new_state(self, parameter: Array) -> tuple[Array, ...]:
        return ()

    def _update(self, parameter: Array, gradient: Array, state: tuple[Array, ...]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Minibatch gradient descent, with momentum μ and Nesterov's variant as ``torch.optim.SGD``:

        g ← ∂E/∂p + λp;   b ← g on the first step, else μb + g;   p ← p − η(g + μb if Nesterov
        else b)

    With μ = 0 (the default) this is the plain rule p ← p − η ∂E/∂p.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([1.0, 2.0])
    >>> SGD(0.5).step([p], [np.array([1.0, -1.0])])
    >>> p
    array([0.5, 2.5])
    """

    def __init__(
        self,
        learning_rate: float | None = None,
        *,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate)
        if not 0.0 <= momentum < 1.0:
            raise ArgumentError(f"momentum must be at least 0 and below 1, not {momentum}")
        if nesterov and momentum == 0.0:
            raise ArgumentError("Nesterov momentum needs a momentum above 0")
        _not_negative("weight_decay", weight_decay)
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay

    def _new_state(self, parameter: Array) -> tuple[Array, ...]:
        return (np.zeros_like(parameter),) if self.momentum else ()

    def step(self, parameters: Sequence[Array], gradients: Sequence[Array]) -> None:
        if self.momentum or self.weight_decay or len(parameters) != 2:
            super().step(parameters, gradients)
            return
        # A network's weights and biases in one compiled call: for a small network, each
        # call costs more than its update.
        self.steps += 1
        (weight, bias), (weight_gradient, bias_gradient) = parameters, gradients
        rate = weight.dtype.type(self.learning_rate)
        _descend_both(weight, weight_gradient, bias, bias_gradient, rate)

    def _update(self, parameter: Array, gradient: Array, state: tuple[Array, ...]) -> None:
        if not state and not self.weight_decay:
            # The derivation's rule, with η in the parameters' precision, as numpy takes it
            _descend(parameter, gradient, parameter.dtype.type(self.learning_rate))
            return
        velocity = state[0] if state else parameter[:0]
        _sgd(
            parameter, gradient, velocity, self.learning_rate, self.momentum, self.nesterov,
            self.weight_decay, self.steps == 1,
        )  # fmt: skip


class Momentum(SGD):
    """:class:`SGD` with momentum μ = 0.9 unless told otherwise."""

    default_learning_rate = 0.01

    def __init__(
        self,
        learning_rate: float | None = None,
        *,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate, momentum=momentum, weight_decay=weight_decay)


class Nesterov(SGD):
    """:class:`SGD` with Nesterov momentum, μ = 0.9 unless told otherwise."""

    default_learning_rate = 0.01

    def __init__(
        self,
        learning_rate: float | None = None,
        *,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate, momentum=momentum, nesterov=True, weight_decay=weight_decay)


class Adam(Optimizer):
    """Adam as ``torch.optim.Adam``, bias-corrected, ε added to √v̂; weight decay decoupled:

    p ← p − ηλp;   m ← β₁m + (1 − β₁)g;   v ← β₂v + (1 − β₂)g²;
    p ← p − η m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
    """

    default_learning_rate = 0.001

    def __init__(
        self,
        learning_rate: float | None = None,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate)
        if not all(0.0 <= beta < 1.0 for beta in betas):
            raise ArgumentError(f"Adam's betas must be at least 0 and below 1, not {betas}")
        _positive("epsilon", epsilon)
        _not_negative("weight_decay", weight_decay)
        self.betas, self.epsilon, self.weight_decay = betas, epsilon, weight_decay

    def _new_state(self, parameter: Array) -> tuple[Array, ...]:
        return np.zeros_like(parameter), np.zeros_like(parameter)

    def _update(self, parameter: Array, gradient: Array, state: tuple[Array, ...]) -> None:
        (beta1, beta2), (m, v) = self.betas, state
        corrections = (1.0 - beta1**self.steps, 1.0 - beta2**self.steps)
        _adam(
            parameter, gradient, m, v, self.learning_rate, beta1, beta2, self.epsilon,
            self.weight_decay, corrections[0], corrections[1],
        )  # fmt: skip


class Rprop(Optimizer):
    """Resilient backpropagation as ``torch.optim.Rprop`` (iRprop−): each parameter has its own
    step, starting at η, times η⁺ = 1.2 while the gradient keeps its sign and η⁻ = 0.5 when it
    flips (and then no move), clipped to [10⁻⁶, 50]; p ← p − sign(g)·step."""

    default_learning_rate = 0.01

    def __init__(
        self,
        learning_rate: float | None = None,
        *,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50.0),
    ) -> None:
        super().__init__(learning_rate)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ArgumentError(f"Rprop's etas must be (η⁻, η⁺) with 0 < η⁻ < 1 < η⁺, not {etas}")
        self.etas, self.step_sizes = etas, step_sizes

    def _new_state(self, parameter: Array) -> tuple[Array, ...]:
        return np.zeros_like(parameter), np.full_like(parameter, self.learning_rate)

    def _update(self, parameter: Array, gradient: Array, state: tuple[Array, ...]) -> None:
        (previous, step), (eta_minus, eta_plus), (smallest, largest) = (
            state,
            self.etas,
            self.step_sizes,
        )
        _rprop(parameter, gradient, previous, step, eta_minus, eta_plus, smallest, largest)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adam": Adam,
    "rprop": Rprop,
}
"""name → optimizer class, constructed with the learning rate and its own settings."""


def optimizer(name: str, learning_rate: float | None = None, **settings: Any) -> Optimizer:
    """The optimizer called ``name``, with η (its default when None) and its own settings.

    Raises
    ------
    ArgumentError
        For an unknown name, a setting this optimizer does not have, or a value out of range.

    Examples
    --------
    >>> optimizer("adam").learning_rate, optimizer("nesterov", 0.1).momentum
    (0.001, 0.9)
    """
    if name not in OPTIMIZERS:
        known = ", ".join(OPTIMIZERS)
        raise ArgumentError(f"unknown optimizer {name!r}; known optimizers are {known}")
    given = {key: value for key, value in settings.items() if value is not None}
    try:
        return OPTIMIZERS[name](learning_rate, **given)
    except TypeError:
        raise ArgumentError(
            f"the {name} optimizer has no setting {', '.join(sorted(given))}"
        ) from None


def _positive(name: str, value: float) -> None:
    if not (_real(value) and value > 0 and math.isfinite(value)):
        raise ArgumentError(f"{name} must be a finite number above 0, not {value!r}")


def _not_negative(name: str, value: float) -> None:
    if not (_real(value) and value >= 0 and math.isfinite(value)):
        raise ArgumentError(f"{name} must be a finite number of at least 0, not {value!r}")


def _real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# The updates, one compiled pass over a parameter array each, in PyTorch's order of operations.
# numpy's error model lets the compiler vectorise the divisions (no ZeroDivisionError check per
# element; no denominator here can be 0): Adam's pass takes half the time, bit for bit the same.


@njit(cache=True, error_model="numpy")
def _descend(p, g, rate):  # type: ignore[no-untyped-def]
    # p − η g, rounded as numpy's p -= η * g rounds it (no fused multiply-add), in one pass
    # and no temporary: for a small network the numpy calls cost more than the update.
    for k in range(len(p)):
        p[k] -= rate * g[k]


@njit(cache=True, error_model="numpy")
def _descend_both(weight, weight_gradient, bias, bias_gradient, rate):  # type: ignore[no-untyped-def]
    _descend(weight, weight_gradient, rate)
    _descend(bias, bias_gradient, rate)


@njit(cache=True, error_model="numpy")
def _sgd(p, g, velocity, rate, momentum, nesterov, decay, first):  # type: ignore[no-untyped-def]
    for k in range(len(p)):
        d = g[k] + decay * p[k]
        if momentum != 0.0:
            velocity[k] = d if first else momentum * velocity[k] + d
            d = d + momentum * velocity[k] if nesterov else velocity[k]
        p[k] -= rate * d


@njit(cache=True, error_model="numpy")
def _adam(p, g, m, v, rate, beta1, beta2, epsilon, decay, correction1, correction2):  # type: ignore[no-untyped-def]
    root2 = math.sqrt(correction2)
    for k in range(len(p)):
        p[k] *= 1.0 - rate * decay
        m[k] = beta1 * m[k] + (1.0 - beta1) * g[k]
        v[k] = beta2 * v[k] + (1.0 - beta2) * g[k] * g[k]
        p[k] -= (rate / correction1) * m[k] / (math.sqrt(v[k]) / root2 + epsilon)


@njit(cache=True, error_model="numpy")
def _rprop(p, g, previous, step, eta_minus, eta_plus, smallest, largest):  # type: ignore[no-untyped-def]
    for k in range(len(p)):
        agreement = g[k] * previous[k]
        d = g[k]
        factor = 1.0
        if agreement > 0.0:
            factor = eta_plus
        elif agreement < 0.0:
            factor = eta_minus
            d = 0.0  # the sign flipped: no move, and no flip counted next time
        step[k] = min(max(step[k] * factor, smallest), largest)
        if d > 0.0:
            p[k] -= step[k]
        elif d < 0.0:
            p[k] += step[k]
        previous[k] = d
