"""Dense blocks (see :class:`dagnet.engine.plan.DenseBlocks`): their sums as matrix products.

Each product below is a sum over a contiguous row of both factors, so it runs in register tiles
(see :func:`products`); the forward pass and the backward sum over out-edges first copy their
factors into that layout: transposing sources × columns numbers is cheap beside the sources ×
targets × columns products.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dagnet.engine.copies import copy_vector
from dagnet.functions.activations import like

__all__ = ["dense_backward", "dense_forward", "dot", "products", "width"]


@njit(cache=True)
def width(ranges, block):
    """How many positions a block's range of sources or targets spans."""
    return ranges[block, 1] - ranges[block, 0]


@njit(cache=True)
def dense_forward(wiring, block, weight, state, lo, hi):
    """s_t = Σ_i w_{i→t} z_i over the block's edges, for its targets t (bias comes after)."""
    s, z = state.s, state.z
    s0, s1 = wiring.dense_sources[block, 0], wiring.dense_sources[block, 1]
    t0, t1 = wiring.dense_targets[block, 0], wiring.dense_targets[block, 1]
    block_weight = np.empty((t1 - t0, s1 - s0), s.dtype)  # row t: w_{i→t} for every source i
    for t in range(t1 - t0):
        copy_vector(block_weight[t], 0, weight, wiring.in_row[t0 + t], s1 - s0)
    source_state = np.empty((hi - lo, s1 - s0), s.dtype)  # row n: z_i of example n
    for i in range(s1 - s0):
        for n in range(hi - lo):
            source_state[n, i] = z[s0 + i, lo + n]
    products(block_weight, source_state, 0, s1 - s0, s[t0:, lo:])


@njit(cache=True)
def dense_backward(wiring, block, weight, state, weight_sum, lo, hi):
    """Σ_t δ_t w_{i→t} over the block's edges into δ_i of its non-input sources i (to which
    the unit-by-unit pass adds the rest), and Σ_n δ_t z_i for every block edge."""
    z, delta = state.z, state.delta
    s0, s1 = wiring.dense_sources[block, 0], wiring.dense_sources[block, 1]
    t0, t1 = wiring.dense_targets[block, 0], wiring.dense_targets[block, 1]
    first = max(s0, wiring.n_inputs)  # inputs need no δ
    if first < s1:
        weight_by_source = np.empty((s1 - first, t1 - t0), delta.dtype)
        for t in range(t1 - t0):
            row = wiring.in_row[t0 + t] + first - s0
            for i in range(s1 - first):
                weight_by_source[i, t] = weight[row + i]
        target_delta = np.empty((hi - lo, t1 - t0), delta.dtype)  # row n: δ_t of example n
        for t in range(t1 - t0):
            for n in range(hi - lo):
                target_delta[n, t] = delta[t0 + t, lo + n]
        products(weight_by_source, target_delta, 0, t1 - t0, delta[first:, lo:])
    sums = np.empty((t1 - t0, s1 - s0), weight_sum.dtype)
    products(delta[t0:t1], z[s0:s1], lo, hi, sums)
    for t in range(t1 - t0):
        copy_vector(weight_sum, wiring.in_row[t0 + t], sums[t], 0, s1 - s0)


@njit(cache=True, fastmath={"reassoc", "contract"})
def products(a, b, lo, hi, out):
    """out[r, c] = Σ_{k=lo}^{hi-1} a[r, k] b[c, k] for every row r of ``a`` and c of ``b``.

    Four rows of ``a`` against four of ``b`` at a time: sixteen sums kept in registers, eight
    numbers loaded per sixteen products, which is what lets a matrix product run at the speed
    of the arithmetic instead of the speed of the memory (the unit-by-unit sweeps load one
    number per product).
    """
    a_rows, b_rows = a.shape[0], b.shape[0]
    zero = like(a, 0.0)  # (sums in the factors' type: float32 ones are summed in float32)
    r = 0
    while r + 4 <= a_rows:
        x0, x1 = a[r, lo:hi], a[r + 1, lo:hi]
        x2, x3 = a[r + 2, lo:hi], a[r + 3, lo:hi]
        c = 0
        while c + 4 <= b_rows:
            y0, y1 = b[c, lo:hi], b[c + 1, lo:hi]
            y2, y3 = b[c + 2, lo:hi], b[c + 3, lo:hi]
            p00 = p01 = p02 = p03 = p10 = p11 = p12 = p13 = zero
            p20 = p21 = p22 = p23 = p30 = p31 = p32 = p33 = zero
            for k in range(hi - lo):
                u0, u1, u2, u3 = x0[k], x1[k], x2[k], x3[k]
                v0, v1, v2, v3 = y0[k], y1[k], y2[k], y3[k]
                p00 += u0 * v0
                p01 += u0 * v1
                p02 += u0 * v2
                p03 += u0 * v3
                p10 += u1 * v0
                p11 += u1 * v1
                p12 += u1 * v2
                p13 += u1 * v3
                p20 += u2 * v0
                p21 += u2 * v1
                p22 += u2 * v2
                p23 += u2 * v3
                p30 += u3 * v0
                p31 += u3 * v1
                p32 += u3 * v2
                p33 += u3 * v3
            i, j = r, c
            _put_four(out, i, j, p00, p01, p02, p03)
            _put_four(out, i + 1, j, p10, p11, p12, p13)
            _put_four(out, i + 2, j, p20, p21, p22, p23)
            _put_four(out, i + 3, j, p30, p31, p32, p33)
            c += 4
        for last in range(c, b_rows):  # the last one to three rows of b
            y = b[last, lo:hi]
            p0 = p1 = p2 = p3 = zero
            for k in range(hi - lo):
                p0 += x0[k] * y[k]
                p1 += x1[k] * y[k]
                p2 += x2[k] * y[k]
                p3 += x3[k] * y[k]
            out[r, last], out[r + 1, last] = p0, p1
            out[r + 2, last], out[r + 3, last] = p2, p3
        r += 4
    for last in range(r, a_rows):  # the last one to three rows of a
        for c in range(b_rows):
            out[last, c] = dot(a[last, lo:hi], b[c, lo:hi])


@njit(cache=True)
def _put_four(out, i, j, p0, p1, p2, p3):
    out[i, j], out[i, j + 1], out[i, j + 2], out[i, j + 3] = p0, p1, p2, p3


# Reassociating this sum lets the compiler use SIMD lanes; the order of a sum of N products
# is no part of the derivation.


@njit(cache=True, fastmath={"reassoc", "contract"})
def dot(a, b):
    """Σ_n a[n] b[n]."""
    result = like(a, 0.0)
    for n in range(a.shape[0]):
        result += a[n] * b[n]
    return result
