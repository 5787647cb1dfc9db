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

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_NAMES",
    "CODES",
    "LEAKY_SLOPE",
    "NEAT_LEAKY_SLOPE",
    "SELU_ALPHA",
    "SELU_LAMBDA",
    "Activation",
    "OnnxNodes",
    "activate",
    "activate_row",
    "derivative",
    "exp_lanes",
    "like",
    "scale_by_derivative",
]

compiled = njit(cache=True, error_model="numpy", fastmath={"contract"})
"""Division by zero gives inf or NaN, as in numpy, instead of raising: none of these formulas
divides by zero, and without the check for it the compiler can run a loop over a row on SIMD
lanes (four times faster for tanh)."""

inlined = njit(cache=True, error_model="numpy", inline="always", fastmath={"contract"})
"""For a function too long for LLVM to inline (tanh, both of its forms), which a loop over a row
must inline to run on SIMD lanes: numba inlines it itself, into every caller."""


def like(x: Any, value: float) -> float:
    """``value`` as a number of x's floating-point type (x a number or an array).

    Compiled code keeps a float32 sum or formula in float32 only if its literals are float32
    too: a Python float is a float64, and one of them in a sum makes every term a float64
    (converted to and fro, and on half as many SIMD lanes). For float64, ``like`` is the
    literal itself, so the float64 numbers are exactly those of the literal.

    Examples
    --------
    >>> like(np.float32(2), 0.5).dtype, like(np.ones(2), 0.5).dtype, type(like(2.0, 0.5))
    (dtype('float32'), dtype('float64'), <class 'float'>)
    """
    if type(x) is float:  # plain Python (the reference engine) stays plain Python
        return value
    typed: float = np.asarray(x).dtype.type(value)
    return typed


@overload(like)
def _compiled_like(x: Any, value: Any) -> Any:
    kind = x.dtype if isinstance(x, types.Array) else x

    def cast(x: Any, value: Any) -> Any:  # (numba wants the signature of _compiled_like)
        return kind(value)

    return cast


# exp on SIMD lanes. libm's exp is a call per number, which keeps a loop over a row to one
# number at a time; this one is arithmetic only, which LLVM runs on vector registers. As in
# Cephes: e^t = 2^k e^r with k = round(t log2 e) and r = t − k ln 2 (ln 2 in two parts, Cody–
# Waite, so that r is exact but for the last part's rounding), e^r from Cephes' Padé form. 2^k
# is built from its bits, in two factors 2^h 2^(k−h) with h = round(k/2), each of them normal:
# a result that is subnormal rounds once, as libm's does, and 2^1024 overflows to inf as it
# should. (A table of 2^k and selects for the far ends took half the time of the whole exp.)
# Within 2 ulp of math.exp everywhere, subnormal results included (tested); float32 computes in
# float32.
_EXP_P = (1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1)
_EXP_Q = (3.00198505138664455042e-6, 2.52448340349684104192e-3, 2.27265548208155028766e-1,
          2.00000000000000000009e0)  # fmt: skip
_LOG2E = 1.4426950408889634
_EXP_RANGE_64 = (-746.0, 710.0, 6755399441055744.0, 6.93145751953125e-1,
                 1.42860682030941723212e-6)  # fmt: skip
_EXP_RANGE_32 = (-104.0, 89.0, 12582912.0, 0.693359375, -2.12194440e-4)
"""Per type: where e^t is 0 below and inf above; 1.5 · 2^52 (2^23), which t log2 e + it − it
rounds to an integer; and ln 2 in two parts, the first so short that k times it is exact
(Cephes' exp's and expf's: float32's for float64 would leave results 2 ulp off, 1 in 50,000,
for |t| of some hundreds)."""


def _exp_range(t: float) -> tuple[float, ...]:
    """The constants of :data:`_EXP_RANGE_64` or :data:`_EXP_RANGE_32` for t's type."""
    return _EXP_RANGE_32 if isinstance(t, np.float32) else _EXP_RANGE_64


@overload(_exp_range)
def _compiled_exp_range(t: Any) -> Any:
    found = _EXP_RANGE_32 if t == types.float32 else _EXP_RANGE_64

    def constants(t: Any) -> Any:
        return found

    return constants


def power_of_two(k: float) -> float:
    """2^k for a whole number k of a float type whose 2^k is normal, in k's type.

    >>> power_of_two(-3.0), power_of_two(np.float32(10))
    (0.125, np.float32(1024.0))
    """
    if math.isnan(k):
        return like(k, math.nan)
    return like(k, math.ldexp(1.0, int(k)))


@intrinsic
def _bits_to_power_of_two(typingctx: Any, k: Any) -> Any:
    # k + 1.5 · 2^m (m the mantissa's bits) holds k in its low bits; less the bits of 1.5 · 2^m,
    # plus the exponent's bias, shifted into the exponent: the bits of 2^k. Integer adds and a
    # shift on the float's own bits, which numba cannot write (it has no bit cast) and LLVM runs
    # on SIMD lanes with any instruction set (a float-to-integer conversion of 64 bits on lanes
    # needs AVX-512).
    width, mantissa, bias = (32, 23, 127) if k == types.float32 else (64, 52, 1023)
    magic = 1.5 * 2.0**mantissa
    magic_bits = int(np.array(magic, f"f{width // 8}").view(f"i{width // 8}"))

    def codegen(context: Any, builder: Any, signature: Any, arguments: Any) -> Any:
        floating, integer = context.get_value_type(k), ir.IntType(width)
        shifted = builder.bitcast(builder.fadd(arguments[0], ir.Constant(floating, magic)), integer)
        exponent = builder.add(shifted, ir.Constant(integer, bias - magic_bits))
        return builder.bitcast(builder.shl(exponent, ir.Constant(integer, mantissa)), floating)

    return k(k), codegen


@overload(power_of_two)
def _compiled_power_of_two(k: Any) -> Any:
    def from_bits(k: Any) -> Any:
        return _bits_to_power_of_two(k)  # type: ignore[call-arg]  # (numba adds typingctx)

    return from_bits


@inlined
def _exp_parts(t: float) -> tuple[float, float, float]:
    """k, p and q with e^t = 2^k (q + p) / (q − p), for t within the range of exp_lanes:
    t = k ln 2 + r with |r| ≤ ln 2 / 2, and Cephes' rational function of r."""
    _, _, magic, ln2_high, ln2_low = _exp_range(t)
    magic = like(t, magic)
    k = (t * like(t, _LOG2E) + magic) - magic
    r = (t - k * like(t, ln2_high)) - k * like(t, ln2_low)
    r2 = r * r
    p = r * ((like(t, _EXP_P[0]) * r2 + like(t, _EXP_P[1])) * r2 + like(t, _EXP_P[2]))
    q = ((like(t, _EXP_Q[0]) * r2 + like(t, _EXP_Q[1])) * r2 + like(t, _EXP_Q[2])) * r2
    return k, p, q + like(t, _EXP_Q[3])


@inlined
def _in_range(t: float) -> float:
    """t clamped to where e^t goes from 0 to inf (written so that NaN stays NaN)."""
    low, high = _exp_range(t)[:2]
    low, high = like(t, low), like(t, high)
    t = low if t < low else t
    return high if t > high else t


@inlined
def _times_power_of_two(x: float, k: float) -> float:
    """x 2^k for a whole k whose 2^k may be subnormal, 0 or inf: x times one half of it, then
    the other, each half normal, so that x 2^k rounds once (for NaN, whatever its bits make,
    times NaN)."""
    magic = like(k, _exp_range(k)[2])
    h = (k * like(k, 0.5) + magic) - magic
    return x * power_of_two(h) * power_of_two(k - h)


@compiled
def exp_lanes(t: float) -> float:
    """e^t, as math.exp within 2 ulp, in straight-line code that vectorises (see above)."""
    k, p, q = _exp_parts(_in_range(t))
    e_r = like(t, 1.0) + like(t, 2.0) * p / (q - p)
    return _times_power_of_two(e_r, k)


@inlined
def _exp_as_fraction(a: float) -> tuple[float, float]:
    """e^a as a denominator and a numerator, (q − p, 2^k (q + p)), so that a caller that divides
    by an expression in e^a (tanh, σ) divides once, not for e^a and then again: dividing on
    SIMD lanes is slow, and the second division waits on the first."""
    k, p, q = _exp_parts(_in_range(a))
    return q - p, _times_power_of_two(q + p, k)


Scalar = Callable[[float], float]
Tensor = Any  # a numpy array or a torch tensor
Namespace = Any  # the numpy or torch module


class OnnxNodes(Protocol):
    """What an activation's ONNX form is built with (:mod:`dagnet.interop.onnx_export` supplies
    it): ``op`` adds one node and returns the name of its output, ``scalar`` names a constant of
    the model's floating-point type, ``constant`` an array as it is; ``dtype`` is that type."""

    dtype: Any  # a numpy dtype

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str: ...

    def scalar(self, value: float) -> str: ...

    def constant(self, stem: str, values: Any) -> str: ...  # a numpy array


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
    symbol: str = ""
    """How ``explain`` writes f, when not by its name (σ for sigmoid)."""
    ascii_symbol: str = ""
    smooth: bool = True
    """Whether f' is continuous (relu's jumps at 0), which finite differences need."""
    kinks: tuple[float, ...] = ()
    """Where f, f' or f'' jumps (relu at 0; elu's f'' at 0; hat at −1, 0 and 1): a finite
    difference across one is no derivative, so ``gradcheck`` steps around them."""
    onnx: Callable[[str, OnnxNodes], str] | None = None
    """f as ONNX nodes, ``onnx(s, nodes)`` → the name of z, where ONNX has a fused operator for
    it (Sigmoid, Tanh, Relu) that onnxruntime runs in float64 and float32; without one, the
    exporter reads :attr:`array` as ONNX nodes (:mod:`dagnet.interop.onnx_trace`). (onnxruntime's
    Elu, Softplus and LeakyRelu are float32 only, or take their constant in float32.)"""

    def slope(self, s: float) -> float:
        """f'(s) from s alone."""
        return self.derivative(s, self.f(s))


@compiled
def identity(s: float) -> float:
    return s


@compiled
def identity_derivative(s: float, z: float) -> float:
    return like(s, 1.0)


@compiled
def sigmoid(s: float) -> float:
    # 1 / (1 + e^−|s|) or e^−|s| / (1 + e^−|s|), e^−|s| never overflowing; as one quotient
    # chosen by a select, not a branch, so that the row runs on SIMD lanes.
    below, e = _exp_as_fraction(-abs(s))
    return (below if s >= like(s, 0.0) else e) / (below + e)


@compiled
def sigmoid_derivative(s: float, z: float) -> float:
    return z * (like(z, 1.0) - z)


# tanh as in Cephes: a rational function near 0, 1 − 2/(e^{2|s|} + 1) beyond. Within 2 ulp of
# math.tanh (tested), and 2 to 5 times faster, which is half the forward pass of a tanh network.
_TANH_P = (-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3)
_TANH_Q = (1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3)


TANH_NEAR = 0.625
"""Below this |s|, tanh is the rational function; from it on, 1 − 2/(e^{2|s|} + 1)."""


@inlined
def tanh(s: float) -> float:
    # Both forms, each a quotient, the quotients chosen lane by lane and divided once, then a
    # select: no branch and no call, so a row runs on SIMD lanes.
    size = abs(s)
    s2 = s * s
    p0, p1, p2 = like(s, _TANH_P[0]), like(s, _TANH_P[1]), like(s, _TANH_P[2])
    q0, q1, q2 = like(s, _TANH_Q[0]), like(s, _TANH_Q[1]), like(s, _TANH_Q[2])
    near_above = s * s2 * ((p0 * s2 + p1) * s2 + p2)
    near_below = ((s2 + q0) * s2 + q1) * s2 + q2
    # 2 / (e^2|s| + 1), with 2|s| at most 40, where tanh is 1 to the last bit (from 19.1 on)
    twice = like(s, 2.0) * size
    below, e = _exp_as_fraction(like(s, 40.0) if twice > like(s, 40.0) else twice)
    near = size < like(s, TANH_NEAR)
    quotient = (near_above if near else like(s, 2.0) * below) / (near_below if near else below + e)
    far = like(s, 1.0) - quotient
    return s + quotient if near else (far if s > like(s, 0.0) else -far)


@compiled
def tanh_derivative(s: float, z: float) -> float:
    return like(z, 1.0) - z * z


@compiled
def relu(s: float) -> float:
    zero = like(s, 0.0)
    return s if s > zero else zero


@compiled
def relu_derivative(s: float, z: float) -> float:
    return like(s, 1.0) if s > like(s, 0.0) else like(s, 0.0)


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
    return exp_lanes(-s * s)


@compiled
def gaussian_derivative(s: float, z: float) -> float:
    return -2.0 * s * z


@compiled
def sin(s: float) -> float:
    return math.sin(s)


@compiled
def sin_derivative(s: float, z: float) -> float:
    return math.cos(s)


# Activations of modern networks and of the importers (neat-python, FANN). Those named neat_*
# and fann_* compute a source's own function, its scale factors and clamps included, so that an
# imported network computes what its source computes and its weights stay the source's own.

SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
NEAT_LEAKY_SLOPE = 0.005
EXP_CAP = 700.0
"""exp(s) is e^min(s, 700): e^700 ≈ 1e304 is still finite."""
NEAT_LOG_FLOOR = 1e-7
FANN_SIGMOID_STEPS = (
    (-2.64665246009826660156e00, -1.47221946716308593750e00, -5.49306154251098632812e-01,
     5.49306154251098632812e-01, 1.47221934795379638672e00, 2.64665293693542480469e00),
    (4.99999988824129104614e-03, 5.00000007450580596924e-02, 2.50000000000000000000e-01,
     7.50000000000000000000e-01, 9.49999988079071044922e-01, 9.95000004768371582031e-01),
    0.0, 1.0,
)  # fmt: skip
"""libfann's FANN_SIGMOID_STEPWISE: six breakpoints v, their values r, and the values below
and above (fann_activation.h)."""
FANN_SIGMOID_SYMMETRIC_STEPS = (
    (-2.64665293693542480469e00, -1.47221934795379638672e00, -5.49306154251098632812e-01,
     5.49306154251098632812e-01, 1.47221934795379638672e00, 2.64665293693542480469e00),
    (-9.90000009536743164062e-01, -8.99999976158142089844e-01, -5.00000000000000000000e-01,
     5.00000000000000000000e-01, 8.99999976158142089844e-01, 9.90000009536743164062e-01),
    -1.0, 1.0,
)  # fmt: skip
"""libfann's FANN_SIGMOID_SYMMETRIC_STEPWISE."""


@compiled
def selu(s: float) -> float:
    return SELU_LAMBDA * s if s > 0.0 else SELU_LAMBDA * SELU_ALPHA * math.expm1(s)


@compiled
def selu_derivative(s: float, z: float) -> float:
    return SELU_LAMBDA if s > 0.0 else SELU_LAMBDA * SELU_ALPHA * math.exp(s)


@compiled
def gelu(s: float) -> float:
    return 0.5 * s * (1.0 + math.erf(s / math.sqrt(2.0)))


@compiled
def gelu_derivative(s: float, z: float) -> float:
    cdf = 0.5 * (1.0 + math.erf(s / math.sqrt(2.0)))
    return cdf + s * math.exp(-0.5 * s * s) / math.sqrt(2.0 * math.pi)


@compiled
def silu(s: float) -> float:
    return s * sigmoid(s)


@compiled
def silu_derivative(s: float, z: float) -> float:
    g = sigmoid(s)
    return g * (1.0 + s * (1.0 - g))


@compiled
def softsign(s: float) -> float:
    return s / (1.0 + abs(s))


@compiled
def softsign_derivative(s: float, z: float) -> float:
    d = 1.0 + abs(s)
    return 1.0 / (d * d)


@compiled
def absolute(s: float) -> float:
    return abs(s)


@compiled
def absolute_derivative(s: float, z: float) -> float:
    return 1.0 if s > 0.0 else -1.0


@compiled
def square(s: float) -> float:
    return s * s


@compiled
def square_derivative(s: float, z: float) -> float:
    return 2.0 * s


@compiled
def cube(s: float) -> float:
    return s * s * s


@compiled
def cube_derivative(s: float, z: float) -> float:
    return 3.0 * s * s


@compiled
def exponential(s: float) -> float:
    return exp_lanes(min(s, EXP_CAP))


@compiled
def exponential_derivative(s: float, z: float) -> float:
    return z if s <= EXP_CAP else 0.0


@compiled
def clamped(s: float) -> float:
    return max(-1.0, min(1.0, s))


@compiled
def clamped_derivative(s: float, z: float) -> float:
    return 1.0 if -1.0 < s <= 1.0 else 0.0


@compiled
def cos(s: float) -> float:
    return math.cos(s)


@compiled
def cos_derivative(s: float, z: float) -> float:
    return -math.sin(s)


@compiled
def hat(s: float) -> float:
    return max(0.0, 1.0 - abs(s))


@compiled
def hat_derivative(s: float, z: float) -> float:
    if -1.0 < s <= 0.0:
        return 1.0
    if 0.0 < s <= 1.0:
        return -1.0
    return 0.0


@compiled
def neat_sigmoid(s: float) -> float:
    return sigmoid(max(-60.0, min(60.0, 5.0 * s)))


@compiled
def neat_sigmoid_derivative(s: float, z: float) -> float:
    return 5.0 * z * (1.0 - z) if -60.0 < 5.0 * s <= 60.0 else 0.0


@inlined
def neat_tanh(s: float) -> float:
    return tanh(max(-60.0, min(60.0, 2.5 * s)))


@compiled
def neat_tanh_derivative(s: float, z: float) -> float:
    return 2.5 * (1.0 - z * z) if -60.0 < 2.5 * s <= 60.0 else 0.0


@compiled
def neat_sin(s: float) -> float:
    return math.sin(max(-60.0, min(60.0, 5.0 * s)))


@compiled
def neat_sin_derivative(s: float, z: float) -> float:
    return 5.0 * math.cos(5.0 * s) if -60.0 < 5.0 * s <= 60.0 else 0.0


@compiled
def neat_gauss(s: float) -> float:
    t = max(-3.4, min(3.4, s))
    return exp_lanes(-5.0 * t**2)


@compiled
def neat_gauss_derivative(s: float, z: float) -> float:
    return -10.0 * s * z if -3.4 < s <= 3.4 else 0.0


@compiled
def neat_softplus(s: float) -> float:
    t = max(-60.0, min(60.0, 5.0 * s))
    return 0.2 * math.log(1 + math.exp(t))


@compiled
def neat_softplus_derivative(s: float, z: float) -> float:
    return sigmoid(5.0 * s) if -60.0 < 5.0 * s <= 60.0 else 0.0


@compiled
def neat_lelu(s: float) -> float:
    return s if s > 0.0 else NEAT_LEAKY_SLOPE * s


@compiled
def neat_lelu_derivative(s: float, z: float) -> float:
    return 1.0 if s > 0.0 else NEAT_LEAKY_SLOPE


@compiled
def neat_exp(s: float) -> float:
    return exp_lanes(max(-60.0, min(60.0, s)))


@compiled
def neat_exp_derivative(s: float, z: float) -> float:
    return z if -60.0 < s <= 60.0 else 0.0


@compiled
def neat_inv(s: float) -> float:
    return 0.0 if s == 0.0 else 1.0 / s


@compiled
def neat_inv_derivative(s: float, z: float) -> float:
    return -z * z


@compiled
def neat_log(s: float) -> float:
    return math.log(max(NEAT_LOG_FLOOR, s))


@compiled
def neat_log_derivative(s: float, z: float) -> float:
    return 1.0 / s if s > NEAT_LOG_FLOOR else 0.0


@compiled
def step(s: float) -> float:
    return 0.0 if s < 0.0 else 1.0


@compiled
def step_symmetric(s: float) -> float:
    return -1.0 if s < 0.0 else 1.0


@compiled
def zero_derivative(s: float, z: float) -> float:
    return 0.0


@compiled
def gaussian_symmetric(s: float) -> float:
    return 2.0 * exp_lanes(-s * s) - 1.0


@compiled
def gaussian_symmetric_derivative(s: float, z: float) -> float:
    return -2.0 * s * (z + 1.0)


@compiled
def elliot(s: float) -> float:
    return (s / 2.0) / (1.0 + abs(s)) + 0.5


@compiled
def elliot_derivative(s: float, z: float) -> float:
    d = 1.0 + abs(s)
    return 0.5 / (d * d)


@compiled
def linear_piece(s: float) -> float:
    return max(0.0, min(1.0, s))


@compiled
def linear_piece_derivative(s: float, z: float) -> float:
    return 1.0 if 0.0 < s <= 1.0 else 0.0


@compiled
def fann_sin(s: float) -> float:
    return math.sin(s) / 2.0 + 0.5


@compiled
def fann_sin_derivative(s: float, z: float) -> float:
    return math.cos(s) / 2.0


@compiled
def fann_cos(s: float) -> float:
    return math.cos(s) / 2.0 + 0.5


@compiled
def fann_cos_derivative(s: float, z: float) -> float:
    return -math.sin(s) / 2.0


@compiled
def _stepwise(s: float, v: Any, r: Any, low: float, high: float) -> float:
    # fann_stepwise: constant below v[0] and from v[5] on, linear between breakpoints.
    if s < v[0]:
        return low
    if s >= v[5]:
        return high
    k = 0
    while s >= v[k + 1]:
        k += 1
    value: float = (r[k + 1] - r[k]) * (s - v[k]) / (v[k + 1] - v[k]) + r[k]
    return value


@compiled
def _stepwise_slope(s: float, v: Any, r: Any) -> float:
    # The left slope at each breakpoint.
    if s <= v[0] or s > v[5]:
        return 0.0
    k = 0
    while s > v[k + 1]:
        k += 1
    slope: float = (r[k + 1] - r[k]) / (v[k + 1] - v[k])
    return slope


_SV, _SR, _SLOW, _SHIGH = FANN_SIGMOID_STEPS
_YV, _YR, _YLOW, _YHIGH = FANN_SIGMOID_SYMMETRIC_STEPS


@compiled
def fann_sigmoid_stepwise(s: float) -> float:
    return _stepwise(s, _SV, _SR, _SLOW, _SHIGH)


@compiled
def fann_sigmoid_stepwise_derivative(s: float, z: float) -> float:
    return _stepwise_slope(s, _SV, _SR)


@compiled
def fann_sigmoid_symmetric_stepwise(s: float) -> float:
    return _stepwise(s, _YV, _YR, _YLOW, _YHIGH)


@compiled
def fann_sigmoid_symmetric_stepwise_derivative(s: float, z: float) -> float:
    return _stepwise_slope(s, _YV, _YR)


def _erf_array(s: Tensor, xp: Namespace) -> Tensor:
    erf = getattr(xp, "erf", None)
    if erf is not None:  # torch
        return erf(s)
    return xp.vectorize(math.erf, otypes=[s.dtype])(s)


def _inside(s: Tensor, low: float, high: float) -> Tensor:
    """1 where low < s ≤ high, else 0, in the array's own kind."""
    return ((s > low) & (s <= high)) + _zero(s)


def _stepwise_array(steps: tuple[Any, ...]) -> Callable[[Tensor, Namespace], Tensor]:
    v, r, low, high = steps

    def f(s: Tensor, xp: Namespace) -> Tensor:
        out = low + _zero(s)
        for k in range(5):
            piece = (r[k + 1] - r[k]) * (s - v[k]) / (v[k + 1] - v[k]) + r[k]
            out = xp.where((s >= v[k]) & (s < v[k + 1]), piece, out)
        return xp.where(s >= v[5], high + _zero(s), out)

    return f


def _stepwise_array_slope(steps: tuple[Any, ...]) -> Callable[[Tensor, Tensor, Namespace], Tensor]:
    v, r, _, _ = steps

    def d(s: Tensor, z: Tensor, xp: Namespace) -> Tensor:
        out = _zero(s)
        for k in range(5):
            slope = (r[k + 1] - r[k]) / (v[k + 1] - v[k])
            out = xp.where((s > v[k]) & (s <= v[k + 1]), slope + _zero(s), out)
        return out

    return d


def _clip(s: Tensor, low: float, high: float, xp: Namespace) -> Tensor:
    # Each knot belongs to the piece on its left, so autograd's slope there is the table's
    # left slope (a clip would give ½ or the right piece's).
    return xp.where(s <= low, low + _zero(s), xp.where(s <= high, s, high + _zero(s)))


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
    ),
    "relu": Activation(
        relu, relu_derivative,
        array=lambda s, xp: xp.where(s > 0.0, s, _zero(s)),
        array_derivative=lambda s, z, xp: xp.where(s > 0.0, 1.0 + _zero(s), _zero(s)),
        rule="1 if s > 0, else 0", ascii_rule="1 if s > 0, else 0",
        onnx=lambda s, nodes: nodes.op("Relu", s),
        smooth=False,
        kinks=(0.0,),
    ),
    "leaky_relu": Activation(
        leaky_relu, leaky_relu_derivative,
        array=lambda s, xp: xp.where(s > 0.0, s, LEAKY_SLOPE * s),
        array_derivative=lambda s, z, xp: xp.where(s > 0.0, 1.0 + _zero(s), LEAKY_SLOPE + _zero(s)),
        rule=f"1 if s > 0, else {LEAKY_SLOPE:g}", ascii_rule=f"1 if s > 0, else {LEAKY_SLOPE:g}",
        # max(s, 0.01 s) is s for s > 0 and 0.01 s otherwise, since the slope is below 1.
        onnx=lambda s, nodes: nodes.op("Max", s, nodes.op("Mul", s, nodes.scalar(LEAKY_SLOPE))),
        smooth=False,
        kinks=(0.0,),
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
        kinks=(0.0,),
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
    "selu": Activation(
        selu, selu_derivative,
        array=lambda s, xp: xp.where(
            s > 0.0, SELU_LAMBDA * s,
            SELU_LAMBDA * SELU_ALPHA * xp.expm1(xp.where(s > 0.0, _zero(s), s))),
        array_derivative=lambda s, z, xp: xp.where(
            s > 0.0, SELU_LAMBDA + _zero(s),
            SELU_LAMBDA * SELU_ALPHA * xp.exp(xp.minimum(s, _zero(s)))),
        rule="λ if s > 0, else λα e^s", ascii_rule="lambda if s > 0, else lambda alpha e^s",
        smooth=False,
        kinks=(0.0,),
    ),
    "gelu": Activation(
        gelu, gelu_derivative,
        array=lambda s, xp: 0.5 * s * (1.0 + _erf_array(s / math.sqrt(2.0), xp)),
        array_derivative=lambda s, z, xp: 0.5 * (1.0 + _erf_array(s / math.sqrt(2.0), xp))
        + s * xp.exp(-0.5 * s * s) / math.sqrt(2.0 * math.pi),
        rule="Φ(s) + s φ(s)", ascii_rule="Phi(s) + s phi(s)",
    ),
    "silu": Activation(
        silu, silu_derivative,
        array=lambda s, xp: s * _sigmoid_array(s, xp),
        array_derivative=lambda s, z, xp: _sigmoid_array(s, xp)
        * (1.0 + s * (1.0 - _sigmoid_array(s, xp))),
        rule="σ(s)(1 + s(1 − σ(s)))", ascii_rule="sigma(s)(1 + s(1 - sigma(s)))",
    ),
    "softsign": Activation(
        softsign, softsign_derivative,
        array=lambda s, xp: s / (1.0 + xp.abs(s)),
        array_derivative=lambda s, z, xp: 1.0 / ((1.0 + xp.abs(s)) * (1.0 + xp.abs(s))),
        rule="1/(1 + |s|)²", ascii_rule="1/(1 + |s|)^2",
        kinks=(0.0,),
    ),
    "abs": Activation(
        absolute, absolute_derivative,
        array=lambda s, xp: xp.where(s > 0.0, s, -s),  # autograd's |s|' at 0 would be 0
        array_derivative=lambda s, z, xp: xp.where(s > 0.0, 1.0 + _zero(s), -1.0 + _zero(s)),
        rule="1 if s > 0, else −1", ascii_rule="1 if s > 0, else -1",
        smooth=False,
        kinks=(0.0,),
    ),
    "square": Activation(
        square, square_derivative,
        array=lambda s, xp: s * s,
        array_derivative=lambda s, z, xp: 2.0 * s,
        rule="2s", ascii_rule="2s",
    ),
    "cube": Activation(
        cube, cube_derivative,
        array=lambda s, xp: s * s * s,
        array_derivative=lambda s, z, xp: 3.0 * s * s,
        rule="3s²", ascii_rule="3s^2",
    ),
    "exp": Activation(
        exponential, exponential_derivative,
        array=lambda s, xp: xp.exp(xp.clip(s, None, EXP_CAP)),
        array_derivative=lambda s, z, xp: xp.where(s <= EXP_CAP, z, _zero(s)),
        rule="e^s", ascii_rule="e^s",
    ),
    "clamped": Activation(
        clamped, clamped_derivative,
        array=lambda s, xp: _clip(s, -1.0, 1.0, xp),
        array_derivative=lambda s, z, xp: _inside(s, -1.0, 1.0),
        rule="1 if −1 < s ≤ 1, else 0", ascii_rule="1 if -1 < s <= 1, else 0",
        smooth=False,
        kinks=(-1.0, 1.0),
    ),
    "cos": Activation(
        cos, cos_derivative,
        array=lambda s, xp: xp.cos(s),
        array_derivative=lambda s, z, xp: -xp.sin(s),
        rule="−sin(s)", ascii_rule="-sin(s)",
    ),
    "hat": Activation(
        hat, hat_derivative,
        array=lambda s, xp: xp.where(
            s <= -1.0, _zero(s), xp.where(s <= 0.0, 1.0 + s, xp.where(s <= 1.0, 1.0 - s, _zero(s)))
        ),
        array_derivative=lambda s, z, xp: _inside(s, -1.0, 0.0) - _inside(s, 0.0, 1.0),
        rule="1 if −1 < s ≤ 0, −1 if 0 < s ≤ 1, else 0",
        ascii_rule="1 if -1 < s <= 0, -1 if 0 < s <= 1, else 0",
        smooth=False,
        kinks=(-1.0, 0.0, 1.0),
    ),
    "neat_sigmoid": Activation(
        neat_sigmoid, neat_sigmoid_derivative,
        array=lambda s, xp: 1.0 / (1.0 + xp.exp(-_clip(5.0 * s, -60.0, 60.0, xp))),
        array_derivative=lambda s, z, xp: 5.0 * z * (1.0 - z) * _inside(5.0 * s, -60.0, 60.0),
        symbol="σ₅", ascii_symbol="neat_sigmoid",
        rule="5 σ₅(s)(1 − σ₅(s)) for |5s| < 60, else 0",
        ascii_rule="5 sigma(5s)(1 - sigma(5s)) for |5s| < 60, else 0",
        kinks=(-12.0, 12.0),
    ),
    "neat_tanh": Activation(
        neat_tanh, neat_tanh_derivative,
        array=lambda s, xp: xp.tanh(_clip(2.5 * s, -60.0, 60.0, xp)),
        array_derivative=lambda s, z, xp: 2.5 * (1.0 - z * z) * _inside(2.5 * s, -60.0, 60.0),
        rule="2.5(1 − tanh²(2.5s)) for |2.5s| < 60, else 0",
        ascii_rule="2.5(1 - tanh(2.5s)^2) for |2.5s| < 60, else 0",
        kinks=(-24.0, 24.0),
    ),
    "neat_sin": Activation(
        neat_sin, neat_sin_derivative,
        array=lambda s, xp: xp.sin(_clip(5.0 * s, -60.0, 60.0, xp)),
        array_derivative=lambda s, z, xp: 5.0 * xp.cos(5.0 * s) * _inside(5.0 * s, -60.0, 60.0),
        rule="5 cos(5s) for |5s| < 60, else 0", ascii_rule="5 cos(5s) for |5s| < 60, else 0",
        smooth=False,
        kinks=(-12.0, 12.0),
    ),
    "neat_gauss": Activation(
        neat_gauss, neat_gauss_derivative,
        array=lambda s, xp: xp.exp(-5.0 * _clip(s, -3.4, 3.4, xp) ** 2),
        array_derivative=lambda s, z, xp: -10.0 * s * z * _inside(s, -3.4, 3.4),
        rule="−10s e^(−5s²) for |s| < 3.4, else 0",
        ascii_rule="-10s e^(-5s^2) for |s| < 3.4, else 0",
        kinks=(-3.4, 3.4),
    ),
    "neat_softplus": Activation(
        neat_softplus, neat_softplus_derivative,
        array=lambda s, xp: 0.2 * xp.log(1.0 + xp.exp(_clip(5.0 * s, -60.0, 60.0, xp))),
        array_derivative=lambda s, z, xp: _sigmoid_array(5.0 * s, xp)
        * _inside(5.0 * s, -60.0, 60.0),
        rule="σ(5s) for |5s| < 60, else 0", ascii_rule="sigma(5s) for |5s| < 60, else 0",
        smooth=False,
        kinks=(-12.0, 12.0),
    ),
    "neat_lelu": Activation(
        neat_lelu, neat_lelu_derivative,
        array=lambda s, xp: xp.where(s > 0.0, s, NEAT_LEAKY_SLOPE * s),
        array_derivative=lambda s, z, xp: xp.where(s > 0.0, 1.0 + _zero(s),
                                                   NEAT_LEAKY_SLOPE + _zero(s)),
        rule=f"1 if s > 0, else {NEAT_LEAKY_SLOPE:g}",
        ascii_rule=f"1 if s > 0, else {NEAT_LEAKY_SLOPE:g}",
        smooth=False,
        kinks=(0.0,),
    ),
    "neat_exp": Activation(
        neat_exp, neat_exp_derivative,
        array=lambda s, xp: xp.exp(_clip(s, -60.0, 60.0, xp)),
        array_derivative=lambda s, z, xp: z * _inside(s, -60.0, 60.0),
        rule="e^s for |s| < 60, else 0", ascii_rule="e^s for |s| < 60, else 0",
        smooth=False,
        kinks=(-60.0, 60.0),
    ),
    "neat_inv": Activation(
        neat_inv, neat_inv_derivative,
        array=lambda s, xp: xp.where(s == 0.0, _zero(s),
                                     1.0 / xp.where(s == 0.0, 1.0 + _zero(s), s)),
        array_derivative=lambda s, z, xp: -z * z,
        rule="−1/s² (0 at s = 0)", ascii_rule="-1/s^2 (0 at s = 0)",
        smooth=False,
        kinks=(0.0,),
    ),
    "neat_log": Activation(
        neat_log, neat_log_derivative,
        array=lambda s, xp: xp.log(xp.clip(s, NEAT_LOG_FLOOR, None)),
        array_derivative=lambda s, z, xp: xp.where(
            s > NEAT_LOG_FLOOR, 1.0 / xp.clip(s, NEAT_LOG_FLOOR, None), _zero(s)),
        rule="1/s for s > 10⁻⁷, else 0", ascii_rule="1/s for s > 1e-7, else 0",
        smooth=False,
        kinks=(1e-7,),
    ),
    "step": Activation(
        step, zero_derivative,
        array=lambda s, xp: (s >= 0.0) + _zero(s),
        array_derivative=lambda s, z, xp: _zero(s),
        rule="0", ascii_rule="0",
        smooth=False,
        kinks=(0.0,),
    ),
    "step_symmetric": Activation(
        step_symmetric, zero_derivative,
        array=lambda s, xp: 2.0 * (s >= 0.0) - 1.0 + _zero(s),
        array_derivative=lambda s, z, xp: _zero(s),
        rule="0", ascii_rule="0",
        smooth=False,
        kinks=(0.0,),
    ),
    "gaussian_symmetric": Activation(
        gaussian_symmetric, gaussian_symmetric_derivative,
        array=lambda s, xp: 2.0 * xp.exp(-s * s) - 1.0,
        array_derivative=lambda s, z, xp: -2.0 * s * (z + 1.0),
        rule="−4s·e^(−s²)", ascii_rule="-4s e^(-s^2)",
    ),
    "elliot": Activation(
        elliot, elliot_derivative,
        array=lambda s, xp: (s / 2.0) / (1.0 + xp.abs(s)) + 0.5,
        array_derivative=lambda s, z, xp: 0.5 / ((1.0 + xp.abs(s)) * (1.0 + xp.abs(s))),
        rule="1/(2(1 + |s|)²)", ascii_rule="1/(2(1 + |s|)^2)",
        kinks=(0.0,),
    ),
    "linear_piece": Activation(
        linear_piece, linear_piece_derivative,
        array=lambda s, xp: _clip(s, 0.0, 1.0, xp),
        array_derivative=lambda s, z, xp: _inside(s, 0.0, 1.0),
        rule="1 if 0 < s ≤ 1, else 0", ascii_rule="1 if 0 < s <= 1, else 0",
        smooth=False,
        kinks=(0.0, 1.0),
    ),
    "fann_sin": Activation(
        fann_sin, fann_sin_derivative,
        array=lambda s, xp: xp.sin(s) / 2.0 + 0.5,
        array_derivative=lambda s, z, xp: xp.cos(s) / 2.0,
        rule="cos(s)/2", ascii_rule="cos(s)/2",
    ),
    "fann_cos": Activation(
        fann_cos, fann_cos_derivative,
        array=lambda s, xp: xp.cos(s) / 2.0 + 0.5,
        array_derivative=lambda s, z, xp: -xp.sin(s) / 2.0,
        rule="−sin(s)/2", ascii_rule="-sin(s)/2",
    ),
    "fann_sigmoid_stepwise": Activation(
        fann_sigmoid_stepwise, fann_sigmoid_stepwise_derivative,
        array=_stepwise_array(FANN_SIGMOID_STEPS),
        array_derivative=_stepwise_array_slope(FANN_SIGMOID_STEPS),
        rule="the slope of its piece", ascii_rule="the slope of its piece",
        smooth=False,
        kinks=FANN_SIGMOID_STEPS[0],
    ),
    "fann_sigmoid_symmetric_stepwise": Activation(
        fann_sigmoid_symmetric_stepwise, fann_sigmoid_symmetric_stepwise_derivative,
        array=_stepwise_array(FANN_SIGMOID_SYMMETRIC_STEPS),
        array_derivative=_stepwise_array_slope(FANN_SIGMOID_SYMMETRIC_STEPS),
        rule="the slope of its piece", ascii_rule="the slope of its piece",
        smooth=False,
        kinks=FANN_SIGMOID_SYMMETRIC_STEPS[0],
    ),
}  # fmt: skip
"""name → :class:`Activation`; an activation's place in the table is its code in a Plan."""

ACTIVATION_NAMES = tuple(ACTIVATIONS)
"""The names a graph file may give a unit's activation, in code order."""

CODES: dict[str, int] = {name: code for code, name in enumerate(ACTIVATIONS)}


# The compiled dispatch, made from the table: activate(code, s) calls the f of that code.
# The dispatch is written out as source, one ``if code == k`` per entry, and compiled inlined into
# its callers, so that a kernel holds one if-chain on the code, the same as one written by hand,
# which LLVM inlines and, for a row, hoists out of the loop over the examples. (A chain of
# inlined closures, one per code, did the same until the table outgrew LLVM's limit on the
# length of the names numba gives inlined variables.)

_inlined = njit(error_model="numpy", inline="always", fastmath={"contract"})
"""Not cached: the dispatch is compiled into the kernels that call it, which are."""


def _chain(functions: list[Callable[..., Any]], arity: int) -> Callable[..., Any]:
    """``dispatch(code, a, ...) = functions[code](a, ...)`` for functions of ``arity`` arguments,
    compiled: an if-chain with one test per code, the last code taking what is left."""
    arguments = ", ".join("abc"[:arity])
    lines = [f"def dispatch(code, {arguments}):"]
    for code in range(len(functions) - 1):
        lines.append(f"    if code == {code}:\n        return f{code}({arguments})")
    lines.append(f"    return f{len(functions) - 1}({arguments})")
    return _inlined(_defined(lines, functions, f"<dispatch of {arity}>"))


# Over rows, the dispatch is one function that the kernels call, not inline, with a loop per
# code. It takes whole unit-major arrays and a row's place in them, and makes its own views of
# the rows: a view made in a kernel's loop over units and passed to a call, or an array passed
# to an inlined function, is a new reference, two atomic updates of the array's count per row,
# which numba cannot pair up and drop across an if-chain (they were a quarter of the forward
# pass and a third of the backward pass on 4000 units of 32 columns, measured); a view that stays
# in the function that made it, and an argument passed on, cost nothing.

_called = njit(error_model="numpy", fastmath={"contract"})
"""Not cached either: compiled into the kernels' cached code, as the inlined dispatch is."""


def _row_chain(
    functions: list[Callable[..., Any] | None], header: str, views: str, statement: str
) -> Callable[..., Any]:
    """``dispatch(code, <header>)``: ``<views>``, then, for the code's function f, a loop over
    n in 0 .. hi-lo-1 of ``<statement>`` (where the function is None, nothing)."""
    lines = [f"def dispatch(code, {header}):", f"    {views}"]
    for code, f in enumerate(functions):
        if f is not None:
            lines.append(f"    if code == {code}:\n        for n in range(hi - lo):")
            lines.append(f"            {statement.replace('f(', f'f{code}(')}\n        return")
    return _called(_defined(lines, functions, "<dispatch over rows>"))


def _defined(lines: list[str], functions: list[Any], name: str) -> Callable[..., Any]:
    """The function ``dispatch`` of the source ``lines``, calling ``functions`` as f0, f1, ..."""
    namespace: dict[str, Any] = {f"f{code}": f for code, f in enumerate(functions)}
    exec(compile("\n".join(lines), name, "exec"), namespace)
    dispatch: Callable[..., Any] = namespace["dispatch"]
    return dispatch


activate = _chain([a.f for a in ACTIVATIONS.values()], 1)
"""activate(code, s): f(s) for the activation with this code."""

derivative = _chain([a.derivative for a in ACTIVATIONS.values()], 2)
"""derivative(code, s, z): f'(s) for the activation with this code, given z = f(s)."""

activate_row = _row_chain(
    [a.f for a in ACTIVATIONS.values()],
    "s, j, z, r, lo, hi",
    "s_j, z_r = s[j, lo:hi], z[r, lo:hi]",
    "z_r[n] = f(s_j[n])",
)
"""activate_row(code, s, j, z, r, lo, hi): z[r, lo:hi] = f(s[j, lo:hi]), for two-dimensional s
and z, the activation chosen once per row."""

scale_by_derivative = _row_chain(
    [None if name == "identity" else a.derivative for name, a in ACTIVATIONS.items()],
    "s, z, j, delta, r, lo, hi",
    "s_j, z_j, delta_r = s[j, lo:hi], z[j, lo:hi], delta[r, lo:hi]",
    "delta_r[n] *= f(s_j[n], z_j[n])",
)
"""scale_by_derivative(code, s, z, j, delta, r, lo, hi): δ[r, lo:hi] ← f'(s_j) δ[r, lo:hi], with
s_j = s[j, lo:hi] and z_j = z[j, lo:hi], for two-dimensional s, z and δ, f' chosen once per row
(f' = 1 leaves δ as it is)."""
