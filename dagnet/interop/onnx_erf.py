"""erf in float64 from basic ONNX operators, since onnxruntime computes ``Erf`` in float32 only.

erf is odd, so erf(x) = sign(x) · P(|x|), and erf(x) rounds to 1 in float64 beyond 5.93, so
|x| is clipped at 6. [0, 6] is cut into :data:`PIECES` pieces of width 1/4; on each, erf is its
Taylor polynomial about the piece's centre c of degree :data:`DEGREE`, in t = 8(|x| − c) ∈ [−1, 1]:
with u = x − c, erf(c + u) = erf(c) + (2/√π) e^(−c²) Σ_k b_k u^(k+1)/(k + 1), where
e^(−2cu − u²) = Σ_k b_k u^k has b_0 = 1, b_1 = −2c, (k + 1) b_(k+1) = −2c b_k − 2 b_(k−1).
The model gathers each value's row of coefficients by its piece, raises t to the powers 0..16 in
one ``Pow`` and sums the products: sixteen nodes, however many pieces. t is exact (|x| · 4, its
floor and the differences are exact in binary), and the truncated terms are below 10⁻¹⁹, so
the result is within an ulp or two of erf: 2.2 × 10⁻¹⁶ at most over a million points of
[−7, 7], against the C library's ``math.erf``. The error is absolute: near 0, where erf(x) ≈
1.13 x, a tiny x loses its relative precision, which gelu's 1 + erf(s/√2) never sees.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from dagnet.functions.activations import OnnxNodes

__all__ = ["DEGREE", "PIECES", "coefficients", "erf_float64", "erf_table"]

PIECES, DEGREE = 24, 16
"""The pieces of [0, 6] (width 1/4) and the degree of the polynomial on each."""

WIDTH = 6.0 / PIECES


def coefficients(centre: float, half_width: float, degree: int) -> list[float]:
    """erf(centre + half_width · t) as a polynomial in t, lowest power first.

    Examples
    --------
    >>> a = coefficients(1.0, 0.125, 16)
    >>> abs(sum(a) - math.erf(1.125)) < 1e-16, abs(a[0] - math.erf(1.0)) == 0.0
    (True, True)
    """
    b = [1.0, -2.0 * centre]
    while len(b) < degree:
        k = len(b) - 1
        b.append((-2.0 * centre * b[k] - 2.0 * b[k - 1]) / (k + 1))
    scale = 2.0 / math.sqrt(math.pi) * math.exp(-centre * centre)
    return [math.erf(centre)] + [
        scale * b[k] / (k + 1) * half_width ** (k + 1) for k in range(degree)
    ]


def erf_table() -> NDArray[np.float64]:
    """(PIECES, DEGREE + 1): row k the coefficients of piece k, [k/4, (k + 1)/4]."""
    return np.array(
        [coefficients((k + 0.5) * WIDTH, WIDTH / 2, DEGREE) for k in range(PIECES)],
        dtype=np.float64,
    )


def erf_float64(x: str, nodes: OnnxNodes) -> str:
    """erf(x) as float64 ONNX nodes (see the module docstring); returns the output's name."""
    a = nodes.op("Min", nodes.op("Abs", x), nodes.scalar(PIECES * WIDTH))
    scaled = nodes.op("Mul", a, nodes.scalar(1.0 / WIDTH))  # exact: WIDTH is a power of 2
    piece = nodes.op("Min", nodes.op("Floor", scaled), nodes.scalar(PIECES - 1.0))
    rows = nodes.op(
        "Gather",
        nodes.constant("erf_coefficients", erf_table()),
        nodes.op("Cast", piece, to=7),  # INT64
        axis=0,
    )
    t = nodes.op("Mul", nodes.op("Sub", nodes.op("Sub", scaled, piece), nodes.scalar(0.5)),
                 nodes.scalar(2.0))  # fmt: skip
    column = nodes.op("Unsqueeze", t, nodes.constant("last_axis", np.array([-1], np.int64)))
    powers = nodes.op("Pow", column, nodes.constant("erf_powers", np.arange(DEGREE + 1.0)))
    terms = nodes.op("Mul", rows, powers)
    total = nodes.op("ReduceSum", terms, nodes.constant("last_axis", np.array([-1], np.int64)),
                     keepdims=0)  # fmt: skip
    return nodes.op("Mul", nodes.op("Sign", x), total)
