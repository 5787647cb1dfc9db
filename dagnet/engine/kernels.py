"""The compiled loops: the derivation itself, run over a Plan for a whole minibatch at once.

State is unit-major, shaped (units, N): row j holds s_j, z_j or δ_j for every example, so each
edge touches two contiguous rows. The forward pass visits units in execution order and sums each
unit's in-edges; the backward pass visits them in reverse and pulls δ from each unit's actual
out-edges, forming ∂E/∂w of those same edges from the δ rows it has just read, and ∂E/∂b.

Where the Plan found dense blocks (whole layers feeding whole layers), the same sums over a
block's edges are taken as matrix products, at the point of the pass where their factors are
known: the block's part of s when the pass reaches its first target, and its part of every
source's Σ_k δ_k w_{j→k} and of ∂E/∂w once the pass has passed back through all its targets.

Examples are independent, so a minibatch is cut into column blocks (``bounds``) and each thread
runs the whole graph over its own block: no locks, no per-level barriers. The only shared
results are the gradients, which each block sums into a private row that is added up at the end.
One block runs on the calling thread with no thread start-up at all, which is what batch 1
(online learning) needs. The loops are written once for float64 and float32 state.

Run with ``NUMBA_DISABLE_JIT=1`` to step through these loops in a Python debugger.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from dagnet.functions.activations import activate, activate_row, derivative, scale_by_derivative


def forward(wiring, weight, bias, s, z, bounds):
    """Fill s_j = b_j + Σ_{i∈ins(j)} w_{i→j} z_i and z_j = f_j(s_j) for every non-input unit.

    ``wiring`` is :attr:`Plan.wiring <dagnet.engine.plan.Plan.wiring>`. Rows ``0 .. n_inputs-1`` of
    ``z`` (and ``s``) must hold the inputs on entry. Column block b is ``bounds[b] ..
    bounds[b+1]-1``; blocks run in parallel. (One block runs here, on the calling thread: a run
    that never needs threads never loads the parallel code.)
    """
    if len(bounds) == 2:
        forward_block(wiring, weight, bias, s, z, 0, z.shape[1])
    else:
        _forward_blocks(wiring, weight, bias, s, z, bounds)


@njit(cache=True, parallel=True)
def _forward_blocks(wiring, weight, bias, s, z, bounds):
    for b in prange(len(bounds) - 1):
        forward_block(wiring, weight, bias, s, z, bounds[b], bounds[b + 1])


@njit(cache=True, fastmath={"contract"})
def forward_block(wiring, weight, bias, s, z, lo, hi):
    """The forward pass over columns ``lo .. hi-1``."""
    w = wiring
    if hi - lo == 1:  # one example (online learning): numbers, not rows
        for j in range(w.n_inputs, z.shape[0]):
            total = bias[j]
            for p in range(w.in_start[j], w.in_start[j + 1]):
                total += weight[p] * z[w.in_source[p], lo]
            s[j, lo] = total
            z[j, lo] = activate(w.activation[j], total)
        return
    for j in range(w.n_inputs, z.shape[0]):
        s_j = s[j, lo:hi]
        p, end = w.in_start[j], w.in_start[j + 1]
        block = w.target_block[j]
        if block < 0:
            s_j[:] = bias[j]
            _sum_in_edges(s_j, weight, w.in_source, z, p, end, lo, hi)
        else:  # the block's part of s_j is a product, taken for all its targets at the first
            if j == w.dense_targets[block, 0]:
                _dense_forward(w, block, weight, s, z, lo, hi)
            s_j += bias[j]
            row = w.in_row[j]
            _sum_in_edges(s_j, weight, w.in_source, z, p, row, lo, hi)
            _sum_in_edges(
                s_j, weight, w.in_source, z, row + _width(w.dense_sources, block), end, lo, hi
            )
        activate_row(w.activation[j], s_j, z[j, lo:hi])


@njit(cache=True, fastmath={"contract"})
def _sum_in_edges(s_j, weight, in_source, z, p, end, lo, hi):
    """s_j += Σ w_{i→j} z_i over in-edges ``p .. end-1``."""
    # Four in-edges per sweep over the row, so s_j is loaded and stored a quarter as often;
    # the last sweep is padded with weight 0 (one sweep, not up to three, for a short rest;
    # 0 × inf makes NaN only where a value has overflowed, and that run has diverged anyway).
    while p < end:
        w0 = weight[p]
        w1 = weight[p + 1] if p + 1 < end else 0.0
        w2 = weight[p + 2] if p + 2 < end else 0.0
        w3 = weight[p + 3] if p + 3 < end else 0.0
        z0 = z[in_source[p], lo:hi]
        z1 = z[in_source[min(p + 1, end - 1)], lo:hi]
        z2 = z[in_source[min(p + 2, end - 1)], lo:hi]
        z3 = z[in_source[min(p + 3, end - 1)], lo:hi]
        for n in range(hi - lo):
            s_j[n] += (w0 * z0[n] + w1 * z1[n]) + (w2 * z2[n] + w3 * z3[n])
        p += 4


def backward(wiring, weight, s, z, output_error, delta, weight_gradient, bias_gradient, bounds,
             sums=None):  # fmt: skip
    """Fill δ_j = f'_j(s_j) · (∂E/∂ŷ_j + Σ_{k∈outs(j)} δ_k w_{j→k}), ∂E/∂w and ∂E/∂b.

    ``output_error[r]`` is ∂E/∂ŷ for the output in row r; the ∂E/∂ŷ term is present only for
    output units, the sum only for units with out-edges (an output may have both). Gradients are
    means over the N examples: ∂E/∂w_{i→j} = (1/N) Σ_n δ_j z_i, ∂E/∂b_j = (1/N) Σ_n δ_j.
    With several blocks, each sums into its own rows of ``sums`` (see :func:`block_sums`).
    """
    batch = z.shape[1]
    if len(bounds) == 2:
        backward_block(
            wiring, weight, s, z, output_error, delta, weight_gradient, bias_gradient, 0, batch
        )
        if batch > 1:
            weight_gradient *= 1.0 / batch
            bias_gradient *= 1.0 / batch
    else:
        if sums is None:
            sums = block_sums(len(bounds) - 1, weight_gradient, bias_gradient)
        _backward_blocks(
            wiring, weight, s, z, output_error, delta, weight_gradient, bias_gradient, bounds, *sums
        )


def block_sums(n_blocks, weight_gradient, bias_gradient):
    """The private rows each column block sums its gradients into (kept in a workspace)."""
    return (
        np.empty((n_blocks, len(weight_gradient)), weight_gradient.dtype),
        np.empty((n_blocks, len(bias_gradient)), bias_gradient.dtype),
    )


@njit(cache=True, parallel=True)
def _backward_blocks(
    wiring, weight, s, z, output_error, delta, weight_gradient, bias_gradient, bounds,
    weight_sums, bias_sums,
):  # fmt: skip
    for b in prange(len(bounds) - 1):
        backward_block(
            wiring, weight, s, z, output_error, delta, weight_sums[b], bias_sums[b],
            bounds[b], bounds[b + 1],
        )  # fmt: skip
    _mean_of_sums(weight_sums, z.shape[1], weight_gradient)
    _mean_of_sums(bias_sums, z.shape[1], bias_gradient)


@njit(cache=True)
def backward_block(wiring, weight, s, z, output_error, delta, weight_sum, bias_sum, lo, hi):
    """δ for columns ``lo .. hi-1``, and the sums Σ_n δ_j z_i and Σ_n δ_j over those columns."""
    w = wiring
    if hi - lo == 1:
        _backward_one(w, weight, s, z, output_error, delta, weight_sum, bias_sum, lo)
        return
    # Each unit's out-edges give both its δ and the ∂E/∂w of those edges: the δ_k rows are
    # loaded once for the two. Inputs need no δ, only ∂E/∂w of their out-edges.
    for j in range(z.shape[0] - 1, -1, -1):
        delta_j = delta[j, lo:hi]
        slot = w.output_slot[j]
        block = w.source_block[j]
        if block >= 0 and j >= w.n_inputs:  # δ_j holds the sum over the block's out-edges
            if slot >= 0:
                delta_j += output_error[slot, lo:hi]
        elif slot >= 0:
            delta_j[:] = output_error[slot, lo:hi]
        else:
            delta_j[:] = 0.0
        q, end = w.out_start[j], w.out_start[j + 1]
        if block < 0:
            _out_edges(w, weight, z, delta, weight_sum, j, q, end, lo, hi)
        else:  # the edges into the block are done as a product (see _dense_backward)
            row = w.out_row[j]
            _out_edges(w, weight, z, delta, weight_sum, j, q, row, lo, hi)
            row += _width(w.dense_targets, block)
            _out_edges(w, weight, z, delta, weight_sum, j, row, end, lo, hi)
        if j < w.n_inputs:
            delta_j[:] = 0.0
            bias_sum[j] = 0.0
            continue
        scale_by_derivative(w.activation[j], s[j, lo:hi], z[j, lo:hi], delta_j)
        bias_sum[j] = total(delta_j)
        block = w.target_block[j]
        if block >= 0 and j == w.dense_targets[block, 0]:  # the block's last δ is known
            _dense_backward(w, block, weight, z, delta, weight_sum, lo, hi)


@njit(cache=True, fastmath={"reassoc", "contract"})
def _out_edges(w, weight, z, delta, weight_sum, j, q, end, lo, hi):
    """δ_j += Σ δ_k w_{j→k}, and weight_sum[j→k] = Σ_n δ_k z_j, over out-edge entries
    ``q .. end-1``: four per sweep, the last sweep padded as in :func:`_sum_in_edges` (a padded
    entry repeats the last edge, whose sum is written last)."""
    delta_j, z_j = delta[j, lo:hi], z[j, lo:hi]
    out_edge, out_target = w.out_edge, w.out_target
    while q < end:
        e0 = out_edge[q]
        e1 = out_edge[min(q + 1, end - 1)]
        e2 = out_edge[min(q + 2, end - 1)]
        e3 = out_edge[min(q + 3, end - 1)]
        w0 = weight[e0]
        w1 = weight[e1] if q + 1 < end else 0.0
        w2 = weight[e2] if q + 2 < end else 0.0
        w3 = weight[e3] if q + 3 < end else 0.0
        d0 = delta[out_target[q], lo:hi]
        d1 = delta[out_target[min(q + 1, end - 1)], lo:hi]
        d2 = delta[out_target[min(q + 2, end - 1)], lo:hi]
        d3 = delta[out_target[min(q + 3, end - 1)], lo:hi]
        g0 = g1 = g2 = g3 = 0.0
        for n in range(hi - lo):
            x0, x1, x2, x3, x = d0[n], d1[n], d2[n], d3[n], z_j[n]
            delta_j[n] += (w0 * x0 + w1 * x1) + (w2 * x2 + w3 * x3)
            g0 += x0 * x
            g1 += x1 * x
            g2 += x2 * x
            g3 += x3 * x
        weight_sum[e3] = g3
        weight_sum[e2] = g2
        weight_sum[e1] = g1
        weight_sum[e0] = g0
        q += 4


@njit(cache=True, fastmath={"contract"})
def _backward_one(w, weight, s, z, output_error, delta, weight_sum, bias_sum, n):
    """backward_block for the one example in column n: numbers, not rows."""
    for j in range(z.shape[0] - 1, w.n_inputs - 1, -1):
        slot = w.output_slot[j]
        total = output_error[slot, n] if slot >= 0 else 0.0
        for q in range(w.out_start[j], w.out_start[j + 1]):
            total += weight[w.out_edge[q]] * delta[w.out_target[q], n]
        delta_j = total * derivative(w.activation[j], s[j, n], z[j, n])
        delta[j, n] = delta_j
        bias_sum[j] = delta_j
        for p in range(w.in_start[j], w.in_start[j + 1]):
            weight_sum[p] = delta_j * z[w.in_source[p], n]
    bias_sum[: w.n_inputs] = 0.0
    delta[: w.n_inputs, n] = 0.0


# Dense blocks (see dagnet.engine.plan.DenseBlocks). Each product below is a sum over a contiguous
# row of both factors, so it runs in register tiles (see :func:`products`); the forward pass
# and the backward sum over out-edges first copy their factors into that layout: transposing
# sources × columns numbers is cheap beside the sources × targets × columns products.


@njit(cache=True)
def _width(ranges, block):
    return ranges[block, 1] - ranges[block, 0]


@njit(cache=True)
def _dense_forward(w, block, weight, s, z, lo, hi):
    """s_t = Σ_i w_{i→t} z_i over the block's edges, for its targets t (bias comes after)."""
    s0, s1 = w.dense_sources[block, 0], w.dense_sources[block, 1]
    t0, t1 = w.dense_targets[block, 0], w.dense_targets[block, 1]
    block_weight = np.empty((t1 - t0, s1 - s0), s.dtype)  # row t: w_{i→t} for every source i
    for t in range(t1 - t0):
        block_weight[t] = weight[w.in_row[t0 + t] : w.in_row[t0 + t] + s1 - s0]
    source_state = np.empty((hi - lo, s1 - s0), s.dtype)  # row n: z_i of example n
    for i in range(s1 - s0):
        source_state[:, i] = z[s0 + i, lo:hi]
    products(block_weight, 0, t1 - t0, source_state, 0, hi - lo, 0, s1 - s0, s, t0, lo)


@njit(cache=True)
def _dense_backward(w, block, weight, z, delta, weight_sum, lo, hi):
    """Σ_t δ_t w_{i→t} over the block's edges into δ_i of its non-input sources i (to which
    the unit-by-unit pass adds the rest), and Σ_n δ_t z_i for every block edge."""
    s0, s1 = w.dense_sources[block, 0], w.dense_sources[block, 1]
    t0, t1 = w.dense_targets[block, 0], w.dense_targets[block, 1]
    first = max(s0, w.n_inputs)  # inputs need no δ
    if first < s1:
        weight_by_source = np.empty((s1 - first, t1 - t0), delta.dtype)
        for t in range(t1 - t0):
            row = w.in_row[t0 + t] + first - s0
            weight_by_source[:, t] = weight[row : row + s1 - first]
        target_delta = np.empty((hi - lo, t1 - t0), delta.dtype)  # row n: δ_t of example n
        for t in range(t1 - t0):
            target_delta[:, t] = delta[t0 + t, lo:hi]
        products(
            weight_by_source, 0, s1 - first, target_delta, 0, hi - lo, 0, t1 - t0,
            delta, first, lo,
        )  # fmt: skip
    sums = np.empty((t1 - t0, s1 - s0), weight_sum.dtype)
    products(delta, t0, t1 - t0, z, s0, s1 - s0, lo, hi, sums, 0, 0)
    for t in range(t1 - t0):
        weight_sum[w.in_row[t0 + t] : w.in_row[t0 + t] + s1 - s0] = sums[t]


@njit(cache=True, fastmath={"reassoc", "contract"})
def products(a, a0, a_rows, b, b0, b_rows, lo, hi, out, r0, c0):
    """out[r0 + r, c0 + c] = Σ_{k=lo}^{hi-1} a[a0 + r, k] b[b0 + c, k], r < a_rows, c < b_rows.

    Four rows of ``a`` against four of ``b`` at a time: sixteen sums kept in registers, eight
    numbers loaded per sixteen products, which is what lets a matrix product run at the speed
    of the arithmetic instead of the speed of the memory (the unit-by-unit sweeps load one
    number per product).
    """
    r = 0
    while r + 4 <= a_rows:
        x0, x1 = a[a0 + r, lo:hi], a[a0 + r + 1, lo:hi]
        x2, x3 = a[a0 + r + 2, lo:hi], a[a0 + r + 3, lo:hi]
        c = 0
        while c + 4 <= b_rows:
            y0, y1 = b[b0 + c, lo:hi], b[b0 + c + 1, lo:hi]
            y2, y3 = b[b0 + c + 2, lo:hi], b[b0 + c + 3, lo:hi]
            p00 = p01 = p02 = p03 = p10 = p11 = p12 = p13 = 0.0
            p20 = p21 = p22 = p23 = p30 = p31 = p32 = p33 = 0.0
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
            i, j = r0 + r, c0 + c
            _put_four(out, i, j, p00, p01, p02, p03)
            _put_four(out, i + 1, j, p10, p11, p12, p13)
            _put_four(out, i + 2, j, p20, p21, p22, p23)
            _put_four(out, i + 3, j, p30, p31, p32, p33)
            c += 4
        for last in range(c, b_rows):  # the last one to three rows of b
            y = b[b0 + last, lo:hi]
            p0 = p1 = p2 = p3 = 0.0
            for k in range(hi - lo):
                p0 += x0[k] * y[k]
                p1 += x1[k] * y[k]
                p2 += x2[k] * y[k]
                p3 += x3[k] * y[k]
            out[r0 + r, c0 + last], out[r0 + r + 1, c0 + last] = p0, p1
            out[r0 + r + 2, c0 + last], out[r0 + r + 3, c0 + last] = p2, p3
        r += 4
    for last in range(r, a_rows):  # the last one to three rows of a
        for c in range(b_rows):
            out[r0 + last, c0 + c] = dot(a[a0 + last, lo:hi], b[b0 + c, lo:hi])


@njit(cache=True)
def _put_four(out, i, j, p0, p1, p2, p3):
    out[i, j], out[i, j + 1], out[i, j + 2], out[i, j + 3] = p0, p1, p2, p3


# A workspace split by column block holds block b's state as its own (units, width) array, so
# the two threads never share a cache line or a page of state; the blocks run as above.


@njit(cache=True, parallel=True)
def forward_split(wiring, weight, bias, x, s, z, bounds):
    """:func:`forward` over inputs ``x`` (inputs, N) into split state ``s``, ``z`` (blocks,
    units, width): block b holds columns ``bounds[b] .. bounds[b+1]-1``."""
    n_inputs = wiring.n_inputs
    for b in prange(len(bounds) - 1):
        lo, hi = bounds[b], bounds[b + 1]
        s[b, :n_inputs, : hi - lo] = x[:, lo:hi]
        z[b, :n_inputs, : hi - lo] = x[:, lo:hi]
        forward_block(wiring, weight, bias, s[b], z[b], 0, hi - lo)


@njit(cache=True, parallel=True)
def backward_split(
    wiring, weight, s, z, output_error, delta, weight_gradient, bias_gradient, bounds,
    weight_sums, bias_sums,
):  # fmt: skip
    """:func:`backward` over split state (see :func:`forward_split`)."""
    for b in prange(len(bounds) - 1):
        backward_block(
            wiring, weight, s[b], z[b], output_error[b], delta[b], weight_sums[b], bias_sums[b],
            0, bounds[b + 1] - bounds[b],
        )  # fmt: skip
    _mean_of_sums(weight_sums, bounds[-1], weight_gradient)
    _mean_of_sums(bias_sums, bounds[-1], bias_gradient)


@njit(cache=True, parallel=True)
def _mean_of_sums(sums, batch, mean):
    scale = 1.0 / batch
    for p in prange(sums.shape[1]):
        total = 0.0
        for b in range(sums.shape[0]):
            total += sums[b, p]
        mean[p] = total * scale


# Reassociating these sums lets the compiler use SIMD lanes (3x faster here); the order of a
# sum of N products is no part of the derivation.


@njit(cache=True, fastmath={"reassoc", "contract"})
def dot(a, b):
    """Σ_n a[n] b[n]."""
    result = 0.0
    for n in range(a.shape[0]):
        result += a[n] * b[n]
    return result


@njit(cache=True, fastmath={"reassoc"})
def total(a):
    """Σ_n a[n]."""
    result = 0.0
    for n in range(a.shape[0]):
        result += a[n]
    return result


BLOCK_ALIGNMENT = 16
"""Block bounds are multiples of this many columns, so blocks do not share cache lines."""


MIN_COLUMNS = 32
"""The narrowest column block of state shared as (units, N): narrower, two threads' blocks of
a row sit on neighbouring cache lines, which the cores then keep taking from each other."""

MIN_SPLIT_COLUMNS = 16
"""The narrowest column block of state split by block (see :func:`forward_split`)."""

MIN_BLOCK_WORK = 200_000
"""The least work (edges and units × columns) worth a thread: starting one costs tens of µs."""


def column_blocks(batch: int, threads: int, min_columns: int = MIN_COLUMNS) -> np.ndarray:
    """Bounds of at most ``threads`` column blocks of about equal width, none narrower than
    ``min_columns``."""
    n_blocks = max(1, min(threads, batch // min_columns))
    width = -(-batch // n_blocks)
    width = -(-width // BLOCK_ALIGNMENT) * BLOCK_ALIGNMENT
    bounds = np.minimum(np.arange(n_blocks + 1) * width, batch)
    bounds[-1] = batch
    return np.unique(bounds)
