"""The table of activations: each name with its function, its exact derivative and its notation.

One entry per activation is everything dagnet knows of it: the compiled scalar f(s) and
f'(s) (given also z = f(s), which the backward pass has at hand), the same two over arrays of
numpy or PyTorch (for the benchmark's rivals and the exporters), and how ``explain`` writes
it. The file format's names, the compiled plan's codes (an activation's place in the table)
and the kernels' dispatch are all made from :data:`ACTIVATIONS`, so a new activation is one
entry here, plus its tests.

The formulas are written to stay finite for any finite s: no ``exp`` of a large positive number
is ever taken. Where f is not differentiable (relu and leaky_relu at s = 0), f'(0) is the slope
on the left. This module imports nothing else from dagnet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from numba import njit

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_NAMES",
    "CODES",
    "LEAKY_SLOPE",
    "Activation",
    "OnnxNodes",
    "activate",
    "activate_row",
    "derivative",
    "scale_by_derivative",
]

compiled = njit(cache=True, error_model="numpy")
"""Division by zero gives inf or NaN, as in numpy, instead of raising: none of these formulas
divides by zero, and without the check for it the compiler can run a loop over a row on SIMD
lanes (four times faster for tanh)."""

Scalar = Callable[[float], float]
Row = Any  # a one-dimensional float array, typed loosely: numba compiles one version per dtype
Tensor = Any  # a numpy array or a torch tensor
Namespace = Any  # the numpy or torch module


class OnnxNodes(Protocol):
    """What an activation's ONNX form is built with (:mod:`dagnet.interop.onnx_export` supplies
    it): ``op`` adds one node and returns the name of its output, ``scalar`` names a constant of
    the model's floating-point type."""

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str: ...

    def scalar(self, value: float) -> str: ...


@dataclass(frozen=True)
class Activation:
    """One activation function f, as every part of dagnet computes or writes it."""

    f: Scalar
    """Compiled f(s)."""
    derivative: Callable[[float, float], float]
    """Compiled f'(s), given s and z = f(s): σ' = z(1 − z) spares an exponential."""
    array: Callable[[Tensor, Namespace], Tensor]
    """f over an array, ``array(s, xp)`` with ``xp`` the numpy or torch module; written so that
    autograd differentiates it to :attr:`array_derivative`, kinks included."""
    array_derivative: Callable[[Tensor, Tensor, Namespace], Tensor]
    """f'(s) over arrays, ``array_derivative(s, z, xp)``."""
    rule: str
    """f'(s) written out for ``explain``'s legend, in Unicode."""
    ascii_rule: str
    onnx: Callable[[str, OnnxNodes], str]
    """f as ONNX nodes, ``onnx(s, nodes)`` → the name of z, from operators that onnxruntime runs
    in float64 and float32 (its Elu, Softplus and LeakyRelu are float32 only, or take their
    constant in float32)."""
    symbol: str = ""
    """How ``explain`` writes f, when not by its name (σ for sigmoid)."""
    ascii_symbol: str = ""
    smooth: bool = True
    """Whether f' is continuous (relu's jumps at 0), which finite differences need."""
    row: Callable[[Row, Row], None] | None = None
    """Compiled z ← f(s) over a row, where that is faster than f number by number."""

    def slope(self, s: float) -> float:
        """f'(s) from s alone."""
        return self.derivative(s, self.f(s))


@compiled
def identity(s: float) -> float:
    return s


@compiled
def identity_derivative(s: float, z: float) -> float:
    return 1.0


@compiled
def sigmoid(s: float) -> float:
    if s >= 0.0:
        return 1.0 / (1.0 + math.exp(-s))
    e = math.exp(s)
    return e / (1.0 + e)


@compiled
def sigmoid_derivative(s: float, z: float) -> float:
    return z * (1.0 - z)


# tanh as in Cephes: a rational function near 0, 1 − 2/(e^{2|s|} + 1) beyond. Within 2 ulp of
# math.tanh (tested), and 2 to 5 times faster, which is half the forward pass of a tanh network.
_TANH_P = (-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3)
_TANH_Q = (1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3)


TANH_NEAR = 0.625
"""Below this |s|, tanh is the rational function; from it on, 1 − 2/(e^{2|s|} + 1)."""


@compiled
def tanh(s: float) -> float:
    if abs(s) < TANH_NEAR:
        return _tanh_near_zero(s)
    return _tanh_far_from_zero(s)


@compiled
def _tanh_near_zero(s: float) -> float:
    p0, p1, p2 = _TANH_P
    q0, q1, q2 = _TANH_Q
    s2 = s * s
    return s + s * s2 * (((p0 * s2 + p1) * s2 + p2) / (((s2 + q0) * s2 + q1) * s2 + q2))


@compiled
def _tanh_far_from_zero(s: float) -> float:
    size = abs(s)
    t = 1.0 if size > 22.0 else 1.0 - 2.0 / (math.exp(2.0 * size) + 1.0)
    return t if s > 0.0 else -t


@compiled
def tanh_row(s: Row, z: Row) -> None:
    # The rational function first, on every number: no branch and no call, so the compiler
    # runs it on SIMD lanes. Then the exponential, one number at a time, only where needed
    # (often nowhere: a network that trains well keeps most |s| small).
    far = False
    for n in range(len(s)):
        z[n] = _tanh_near_zero(s[n])
        far |= abs(s[n]) >= TANH_NEAR
    if far:
        for n in range(len(s)):
            if abs(s[n]) >= TANH_NEAR:
                z[n] = _tanh_far_from_zero(s[n])


@compiled
def tanh_derivative(s: float, z: float) -> float:
    return 1.0 - z * z


@compiled
def relu(s: float) -> float:
    return s if s > 0.0 else 0.0


@compiled
def relu_derivative(s: float, z: float) -> float:
    return 1.0 if s > 0.0 else 0.0


LEAKY_SLOPE = 0.01


@compiled
def leaky_relu(s: float) -> float:
    return s if s > 0.0 else LEAKY_SLOPE * s


@compiled
def leaky_relu_derivative(s: float, z: float) -> float:
    return 1.0 if s > 0.0 else LEAKY_SLOPE


@compiled
def elu(s: float) -> float:
    return s if s > 0.0 else math.expm1(s)


@compiled
def elu_derivative(s: float, z: float) -> float:
    # Not z + 1 for s ≤ 0: that cancels to 0 for very negative s, where e^s is still normal.
    return 1.0 if s > 0.0 else math.exp(s)


@compiled
def softplus(s: float) -> float:
    # ln(1 + e^s) = max(s, 0) + ln(1 + e^-|s|), which cannot overflow.
    return max(s, 0.0) + math.log1p(math.exp(-abs(s)))


@compiled
def softplus_derivative(s: float, z: float) -> float:
    return sigmoid(s)


@compiled
def gaussian(s: float) -> float:
    return math.exp(-s * s)


@compiled
def gaussian_derivative(s: float, z: float) -> float:
    return -2.0 * s * z


@compiled
def sin(s: float) -> float:
    return math.sin(s)


@compiled
def sin_derivative(s: float, z: float) -> float:
    return math.cos(s)


def _zero(s: Tensor) -> Tensor:
    return 0.0 * s  # a zero of the array's own kind, type and device


def _sigmoid_array(s: Tensor, xp: Namespace) -> Tensor:
    return xp.exp(-xp.logaddexp(_zero(s), -s))  # 1/(1 + e^-s), without overflow for any s


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation(
        identity, identity_derivative,
        array=lambda s, xp: s,
        array_derivative=lambda s, z, xp: 1.0 + _zero(s),
        rule="1", ascii_rule="1",
        onnx=lambda s, nodes: s,
    ),
    "sigmoid": Activation(
        sigmoid, sigmoid_derivative,
        array=_sigmoid_array,
        array_derivative=lambda s, z, xp: z * (1.0 - z),
        rule="σ(s)(1 − σ(s))", ascii_rule="sigma(s)(1 - sigma(s))",
        onnx=lambda s, nodes: nodes.op("Sigmoid", s),
        symbol="σ", ascii_symbol="sigma",
    ),
    "tanh": Activation(
        tanh, tanh_derivative,
        array=lambda s, xp: xp.tanh(s),
        array_derivative=lambda s, z, xp: 1.0 - z * z,
        rule="1 − tanh²(s)", ascii_rule="1 - tanh(s)^2",
        onnx=lambda s, nodes: nodes.op("Tanh", s),
        row=tanh_row,
    ),
    "relu": Activation(
        relu, relu_derivative,
        array=lambda s, xp: xp.where(s > 0.0, s, _zero(s)),
        array_derivative=lambda s, z, xp: xp.where(s > 0.0, 1.0 + _zero(s), _zero(s)),
        rule="1 if s > 0, else 0", ascii_rule="1 if s > 0, else 0",
        onnx=lambda s, nodes: nodes.op("Relu", s),
        smooth=False,
    ),
    "leaky_relu": Activation(
        leaky_relu, leaky_relu_derivative,
        array=lambda s, xp: xp.where(s > 0.0, s, LEAKY_SLOPE * s),
        array_derivative=lambda s, z, xp: xp.where(s > 0.0, 1.0 + _zero(s), LEAKY_SLOPE + _zero(s)),
        rule=f"1 if s > 0, else {LEAKY_SLOPE:g}", ascii_rule=f"1 if s > 0, else {LEAKY_SLOPE:g}",
        # max(s, 0.01 s) is s for s > 0 and 0.01 s otherwise, since the slope is below 1.
        onnx=lambda s, nodes: nodes.op("Max", s, nodes.op("Mul", s, nodes.scalar(LEAKY_SLOPE))),
        smooth=False,
    ),
    "elu": Activation(
        elu, elu_derivative,
        # min(s, 0) as a where, not a minimum: autograd splits a minimum's gradient at a tie,
        # which would give elu'(0) = ½ where the table's f' is 1.
        array=lambda s, xp: xp.where(s > 0.0, s, xp.expm1(xp.where(s > 0.0, _zero(s), s))),
        array_derivative=lambda s, z, xp: xp.where(s > 0.0, 1.0 + _zero(s),
                                                   xp.exp(xp.minimum(s, _zero(s)))),
        rule="1 if s > 0, else e^s", ascii_rule="1 if s > 0, else e^s",
        onnx=lambda s, nodes: nodes.op(
            "Where", nodes.op("Greater", s, nodes.scalar(0.0)), s,
            nodes.op("Sub", nodes.op("Exp", nodes.op("Min", s, nodes.scalar(0.0))),
                     nodes.scalar(1.0)),
        ),
    ),
    "softplus": Activation(
        softplus, softplus_derivative,
        array=lambda s, xp: xp.logaddexp(s, _zero(s)),
        array_derivative=lambda s, z, xp: _sigmoid_array(s, xp),
        rule="σ(s)", ascii_rule="sigma(s)",
        # max(s, 0) + ln(1 + e^-|s|), which cannot overflow.
        onnx=lambda s, nodes: nodes.op(
            "Add", nodes.op("Relu", s),
            nodes.op("Log", nodes.op("Add", nodes.scalar(1.0),
                                     nodes.op("Exp", nodes.op("Neg", nodes.op("Abs", s))))),
        ),
    ),
    "gaussian": Activation(
        gaussian, gaussian_derivative,
        array=lambda s, xp: xp.exp(-s * s),
        array_derivative=lambda s, z, xp: -2.0 * s * z,
        rule="−2s·e^(−s²)", ascii_rule="-2s e^(-s^2)",
        onnx=lambda s, nodes: nodes.op("Exp", nodes.op("Neg", nodes.op("Mul", s, s))),
    ),
    "sin": Activation(
        sin, sin_derivative,
        array=lambda s, xp: xp.sin(s),
        array_derivative=lambda s, z, xp: xp.cos(s),
        rule="cos(s)", ascii_rule="cos(s)",
        onnx=lambda s, nodes: nodes.op("Sin", s),
    ),
}  # fmt: skip
"""name → :class:`Activation`; an activation's place in the table is its code in a Plan."""

ACTIVATION_NAMES = tuple(ACTIVATIONS)
"""The names a graph file may give a unit's activation, in code order."""

CODES: dict[str, int] = {name: code for code, name in enumerate(ACTIVATIONS)}


# The compiled dispatch, made from the table: activate(code, s) calls the f of that code.
# Each link of a chain tests one code and hands the rest on, so the kernels compile an if-chain
# on the code, the same as one written by hand, which LLVM inlines and, for a row, hoists out of
# the loop over the examples.


def _chain(functions: list[Callable[..., Any]], arity: int) -> Callable[..., Any]:
    """``dispatch(code, a, ...) = functions[code](a, ...)`` for functions of ``arity`` arguments,
    compiled: one link per code, each testing its own and handing the rest on."""
    chain: Callable[..., Any] = _LAST[arity](functions[-1])
    for code in range(len(functions) - 2, -1, -1):
        chain = _LINK[arity](code, functions[code], chain)
    return chain


# Each link is inlined into its caller as numba compiles it, so a kernel holds one if-chain, not a
# chain of calls: calls passing rows cost a deep narrow network 40% of its step.
_inlined = njit(cache=True, error_model="numpy", inline="always")


def _last1(f: Callable[..., Any]) -> Callable[..., Any]:
    return _inlined(lambda code, a: f(a))


def _last2(f: Callable[..., Any]) -> Callable[..., Any]:
    return _inlined(lambda code, a, b: f(a, b))


def _last3(f: Callable[..., Any]) -> Callable[..., Any]:
    return _inlined(lambda code, a, b, c: f(a, b, c))


def _link1(own: int, f: Callable[..., Any], rest: Callable[..., Any]) -> Callable[..., Any]:
    return _inlined(lambda code, a: f(a) if code == own else rest(code, a))


def _link2(own: int, f: Callable[..., Any], rest: Callable[..., Any]) -> Callable[..., Any]:
    return _inlined(lambda code, a, b: f(a, b) if code == own else rest(code, a, b))


def _link3(own: int, f: Callable[..., Any], rest: Callable[..., Any]) -> Callable[..., Any]:
    return _inlined(lambda code, a, b, c: f(a, b, c) if code == own else rest(code, a, b, c))


_LAST = {1: _last1, 2: _last2, 3: _last3}
_LINK = {1: _link1, 2: _link2, 3: _link3}


def _row_of(f: Scalar) -> Callable[[Row, Row], None]:
    @compiled
    def row(s, z):  # type: ignore[no-untyped-def]
        for n in range(len(s)):
            z[n] = f(s[n])

    return row


def _scale_row_of(derivative: Callable[[float, float], float]) -> Callable[[Row, Row, Row], None]:
    @compiled
    def scale(s, z, delta):  # type: ignore[no-untyped-def]
        for n in range(len(s)):
            delta[n] *= derivative(s[n], z[n])

    return scale


@compiled
def _copy_row(s: Row, z: Row) -> None:
    z[:] = s


@compiled
def _keep_row(s: Row, z: Row, delta: Row) -> None:
    pass  # f' = 1: δ stays as it is


activate = _chain([a.f for a in ACTIVATIONS.values()], 1)
"""activate(code, s): f(s) for the activation with this code."""

derivative = _chain([a.derivative for a in ACTIVATIONS.values()], 2)
"""derivative(code, s, z): f'(s) for the activation with this code, given z = f(s)."""

activate_row = _chain(
    [_copy_row if name == "identity" else a.row or _row_of(a.f) for name, a in ACTIVATIONS.items()],
    2,
)
"""activate_row(code, s, z): z = f(s) over a row, the activation chosen once per row."""

scale_by_derivative = _chain(
    [
        _keep_row if name == "identity" else _scale_row_of(a.derivative)
        for name, a in ACTIVATIONS.items()
    ],
    3,
)
"""scale_by_derivative(code, s, z, delta): δ ← f'(s) δ over a row, f' chosen once per row."""
