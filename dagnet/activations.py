"""The table of activations: each name with its function f(s) and exact derivative f'(s).

Every function is a numba-compiled scalar, so the same arithmetic serves the compiled kernels
(:mod:`dagnet.kernels`, which dispatch on a unit's activation code) and the plain-Python reference
engine (:mod:`dagnet.reference`, which calls them by name). The formulas are written to stay
finite for any finite s: no ``exp`` of a large positive number is ever taken.

Where f is not differentiable (relu and leaky_relu at s = 0), f'(0) is the slope on the left.
This module imports nothing else from dagnet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from numba import njit


@njit(cache=True)
def identity(s: float) -> float:
    return s


@njit(cache=True)
def identity_derivative(s: float) -> float:
    return 1.0


@njit(cache=True)
def sigmoid(s: float) -> float:
    if s >= 0.0:
        return 1.0 / (1.0 + math.exp(-s))
    e = math.exp(s)
    return e / (1.0 + e)


@njit(cache=True)
def sigmoid_derivative(s: float) -> float:
    z = sigmoid(s)
    return z * (1.0 - z)


# tanh as in Cephes: a rational function near 0, 1 − 2/(e^{2|s|} + 1) beyond. Within 2 ulp of
# math.tanh (tested), and 2 to 5 times faster, which is half the forward pass of a tanh network.
_TANH_P = (-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3)
_TANH_Q = (1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3)


@njit(cache=True)
def tanh(s: float) -> float:
    size = abs(s)
    if size < 0.625:
        p0, p1, p2 = _TANH_P
        q0, q1, q2 = _TANH_Q
        s2 = s * s
        return s + s * s2 * (((p0 * s2 + p1) * s2 + p2) / (((s2 + q0) * s2 + q1) * s2 + q2))
    t = 1.0 if size > 22.0 else 1.0 - 2.0 / (math.exp(2.0 * size) + 1.0)
    return t if s > 0.0 else -t


@njit(cache=True)
def tanh_derivative(s: float) -> float:
    z = tanh(s)
    return 1.0 - z * z


@njit(cache=True)
def relu(s: float) -> float:
    return s if s > 0.0 else 0.0


@njit(cache=True)
def relu_derivative(s: float) -> float:
    return 1.0 if s > 0.0 else 0.0


LEAKY_SLOPE = 0.01


@njit(cache=True)
def leaky_relu(s: float) -> float:
    return s if s > 0.0 else LEAKY_SLOPE * s


@njit(cache=True)
def leaky_relu_derivative(s: float) -> float:
    return 1.0 if s > 0.0 else LEAKY_SLOPE


@njit(cache=True)
def elu(s: float) -> float:
    return s if s > 0.0 else math.expm1(s)


@njit(cache=True)
def elu_derivative(s: float) -> float:
    return 1.0 if s > 0.0 else math.exp(s)


@njit(cache=True)
def softplus(s: float) -> float:
    # ln(1 + e^s) = max(s, 0) + ln(1 + e^-|s|), which cannot overflow.
    return max(s, 0.0) + math.log1p(math.exp(-abs(s)))


@njit(cache=True)
def softplus_derivative(s: float) -> float:
    return sigmoid(s)


@njit(cache=True)
def gaussian(s: float) -> float:
    return math.exp(-s * s)


@njit(cache=True)
def gaussian_derivative(s: float) -> float:
    return -2.0 * s * math.exp(-s * s)


@njit(cache=True)
def sin(s: float) -> float:
    return math.sin(s)


@njit(cache=True)
def sin_derivative(s: float) -> float:
    return math.cos(s)


Scalar = Callable[[float], float]
Row = Any  # a one-dimensional float array, typed loosely: numba compiles one version per dtype

ACTIVATIONS: dict[str, tuple[Scalar, Scalar]] = {
    "identity": (identity, identity_derivative),
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
    "elu": (elu, elu_derivative),
    "softplus": (softplus, softplus_derivative),
    "gaussian": (gaussian, gaussian_derivative),
    "sin": (sin, sin_derivative),
}
"""name → (f, f'); the order gives each activation its code in a compiled plan."""

CODES: dict[str, int] = {name: code for code, name in enumerate(ACTIVATIONS)}

# The codes as constants the compiled dispatch below can branch on.
IDENTITY, SIGMOID, TANH, RELU, LEAKY_RELU, ELU, SOFTPLUS, GAUSSIAN, SIN = range(9)


@njit(cache=True)
def activate(code: int, s: float) -> float:
    """f(s) for the activation with this code."""
    if code == SIGMOID:
        return sigmoid(s)
    if code == TANH:
        return tanh(s)
    if code == RELU:
        return relu(s)
    if code == LEAKY_RELU:
        return leaky_relu(s)
    if code == ELU:
        return elu(s)
    if code == SOFTPLUS:
        return softplus(s)
    if code == GAUSSIAN:
        return gaussian(s)
    if code == SIN:
        return sin(s)
    return identity(s)


@njit(cache=True)
def derivative(code: int, s: float, z: float) -> float:
    """f'(s) for the activation with this code, given also z = f(s).

    The backward pass has z at hand from the forward pass; using it spares recomputing the
    exponential or tanh: σ' = z(1 − z), tanh' = 1 − z², gaussian' = −2sz. (Not elu' = z + 1 for
    s ≤ 0: that cancels to 0 for very negative s, where e^s is still a normal number.)
    """
    if code == SIGMOID:
        return z * (1.0 - z)
    if code == TANH:
        return 1.0 - z * z
    if code == RELU:
        return relu_derivative(s)
    if code == LEAKY_RELU:
        return leaky_relu_derivative(s)
    if code == ELU:
        return elu_derivative(s)
    if code == SOFTPLUS:
        return softplus_derivative(s)
    if code == GAUSSIAN:
        return -2.0 * s * z
    if code == SIN:
        return sin_derivative(s)
    return identity_derivative(s)


@njit(cache=True)
def activate_row(code: int, s: Row, z: Row) -> None:
    """z = f(s) over a row: the activation is chosen once per row, not once per number, so
    the common cases compile to plain loops."""
    if code == TANH:
        for n in range(len(s)):
            z[n] = tanh(s[n])
    elif code == IDENTITY:
        z[:] = s
    else:
        for n in range(len(s)):
            z[n] = activate(code, s[n])


@njit(cache=True)
def scale_by_derivative(code: int, s: Row, z: Row, delta: Row) -> None:
    """δ ← f'(s) δ over a row, f' chosen once per row (see :func:`derivative`)."""
    if code == TANH:
        for n in range(len(s)):
            delta[n] *= 1.0 - z[n] * z[n]
    elif code == SIGMOID:
        for n in range(len(s)):
            delta[n] *= z[n] * (1.0 - z[n])
    elif code != IDENTITY:
        for n in range(len(s)):
            delta[n] *= derivative(code, s[n], z[n])
