"""The compiled loops: the derivation itself, run over a Plan for a whole minibatch at once.

State is unit-major, shaped (units, N): row j holds s_j, z_j or δ_j for every example, so each
edge touches two contiguous rows. The forward pass visits units in execution order and sums each
unit's in-edges; the backward pass visits them in reverse and pulls δ from each unit's actual
out-edges, forming ∂E/∂w and ∂E/∂b for the unit's in-edges as soon as its δ is known.

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

from dagnet.activations import activate, activate_row, derivative, scale_by_derivative


def forward(in_start, in_source, activation, n_inputs, weight, bias, s, z, bounds):
    """Fill s_j = b_j + Σ_{i∈ins(j)} w_{i→j} z_i and z_j = f_j(s_j) for every non-input unit.

    Rows ``0 .. n_inputs-1`` of ``z`` (and ``s``) must hold the inputs on entry. Column block
    b is ``bounds[b] .. bounds[b+1]-1``; blocks run in parallel. (One block runs here, on the
    calling thread: a run that never needs threads never loads the parallel code.)
    """
    if len(bounds) == 2:
        forward_block(in_start, in_source, activation, n_inputs, weight, bias, s, z, 0, z.shape[1])
    else:
        _forward_blocks(in_start, in_source, activation, n_inputs, weight, bias, s, z, bounds)


@njit(cache=True, parallel=True)
def _forward_blocks(in_start, in_source, activation, n_inputs, weight, bias, s, z, bounds):
    for b in prange(len(bounds) - 1):
        forward_block(
            in_start, in_source, activation, n_inputs, weight, bias, s, z, bounds[b], bounds[b + 1]
        )


@njit(cache=True, fastmath={"contract"})
def forward_block(in_start, in_source, activation, n_inputs, weight, bias, s, z, lo, hi):
    n_units = z.shape[0]
    if hi - lo == 1:  # one example (online learning): numbers, not rows
        for j in range(n_inputs, n_units):
            total = bias[j]
            for p in range(in_start[j], in_start[j + 1]):
                total += weight[p] * z[in_source[p], lo]
            s[j, lo] = total
            z[j, lo] = activate(activation[j], total)
        return
    for j in range(n_inputs, n_units):
        s_j = s[j, lo:hi]
        s_j[:] = bias[j]
        p, end = in_start[j], in_start[j + 1]
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
        activate_row(activation[j], s_j, z[j, lo:hi])


def backward(
    in_start,
    in_source,
    out_start,
    out_target,
    out_edge,
    activation,
    n_inputs,
    output_slot,
    weight,
    s,
    z,
    output_error,
    delta,
    weight_gradient,
    bias_gradient,
    bounds,
    sums=None,
):
    """Fill δ_j = f'_j(s_j) · (∂E/∂ŷ_j + Σ_{k∈outs(j)} δ_k w_{j→k}), ∂E/∂w and ∂E/∂b.

    ``output_error[r]`` is ∂E/∂ŷ for the output in row r; the ∂E/∂ŷ term is present only for
    output units, the sum only for units with out-edges (an output may have both). Gradients are
    means over the N examples: ∂E/∂w_{i→j} = (1/N) Σ_n δ_j z_i, ∂E/∂b_j = (1/N) Σ_n δ_j.
    With several blocks, each sums into its own rows of ``sums`` (see :func:`block_sums`).
    """
    arguments = (
        in_start, in_source, out_start, out_target, out_edge, activation, n_inputs,
        output_slot, weight, s, z, output_error, delta,
    )  # fmt: skip
    batch = z.shape[1]
    if len(bounds) == 2:
        backward_block(*arguments, weight_gradient, bias_gradient, 0, batch)
        if batch > 1:
            weight_gradient *= 1.0 / batch
            bias_gradient *= 1.0 / batch
    else:
        if sums is None:
            sums = block_sums(len(bounds) - 1, weight_gradient, bias_gradient)
        _backward_blocks(*arguments, weight_gradient, bias_gradient, bounds, *sums)


def block_sums(n_blocks, weight_gradient, bias_gradient):
    """The private rows each column block sums its gradients into (kept in a workspace)."""
    return (
        np.empty((n_blocks, len(weight_gradient)), weight_gradient.dtype),
        np.empty((n_blocks, len(bias_gradient)), bias_gradient.dtype),
    )


@njit(cache=True, parallel=True)
def _backward_blocks(
    in_start,
    in_source,
    out_start,
    out_target,
    out_edge,
    activation,
    n_inputs,
    output_slot,
    weight,
    s,
    z,
    output_error,
    delta,
    weight_gradient,
    bias_gradient,
    bounds,
    weight_sums,
    bias_sums,
):
    for b in prange(len(bounds) - 1):
        backward_block(
            in_start, in_source, out_start, out_target, out_edge, activation, n_inputs,
            output_slot, weight, s, z, output_error, delta, weight_sums[b], bias_sums[b],
            bounds[b], bounds[b + 1],
        )  # fmt: skip
    _mean_of_sums(weight_sums, z.shape[1], weight_gradient)
    _mean_of_sums(bias_sums, z.shape[1], bias_gradient)


@njit(cache=True)
def backward_block(
    in_start,
    in_source,
    out_start,
    out_target,
    out_edge,
    activation,
    n_inputs,
    output_slot,
    weight,
    s,
    z,
    output_error,
    delta,
    weight_sum,
    bias_sum,
    lo,
    hi,
):
    """δ for columns ``lo .. hi-1``, and the sums Σ_n δ_j z_i and Σ_n δ_j over those columns."""
    n_units = z.shape[0]
    if hi - lo == 1:
        _backward_one(
            in_start, in_source, out_start, out_target, out_edge, activation, n_inputs,
            output_slot, weight, s, z, output_error, delta, weight_sum, bias_sum, lo,
        )  # fmt: skip
        return
    for j in range(n_units - 1, n_inputs - 1, -1):
        delta_j = delta[j, lo:hi]
        slot = output_slot[j]
        if slot >= 0:
            delta_j[:] = output_error[slot, lo:hi]
        else:
            delta_j[:] = 0.0
        q, end = out_start[j], out_start[j + 1]
        while q < end:  # four out-edges per sweep, padded as in the forward pass
            w0 = weight[out_edge[q]]
            w1 = weight[out_edge[q + 1]] if q + 1 < end else 0.0
            w2 = weight[out_edge[q + 2]] if q + 2 < end else 0.0
            w3 = weight[out_edge[q + 3]] if q + 3 < end else 0.0
            d0 = delta[out_target[q], lo:hi]
            d1 = delta[out_target[min(q + 1, end - 1)], lo:hi]
            d2 = delta[out_target[min(q + 2, end - 1)], lo:hi]
            d3 = delta[out_target[min(q + 3, end - 1)], lo:hi]
            for n in range(hi - lo):
                delta_j[n] += (w0 * d0[n] + w1 * d1[n]) + (w2 * d2[n] + w3 * d3[n])
            q += 4
        scale_by_derivative(activation[j], s[j, lo:hi], z[j, lo:hi], delta_j)
        bias_sum[j] = total(delta_j)
        p, end = in_start[j], in_start[j + 1]
        while p + 4 <= end:
            z0, z1 = z[in_source[p], lo:hi], z[in_source[p + 1], lo:hi]
            z2, z3 = z[in_source[p + 2], lo:hi], z[in_source[p + 3], lo:hi]
            dots(delta_j, z0, z1, z2, z3, weight_sum[p : p + 4])
            p += 4
        for last in range(p, end):
            weight_sum[last] = dot(delta_j, z[in_source[last], lo:hi])
    bias_sum[:n_inputs] = 0.0
    delta[:n_inputs, lo:hi] = 0.0


@njit(cache=True, fastmath={"contract"})
def _backward_one(
    in_start,
    in_source,
    out_start,
    out_target,
    out_edge,
    activation,
    n_inputs,
    output_slot,
    weight,
    s,
    z,
    output_error,
    delta,
    weight_sum,
    bias_sum,
    n,
):
    """backward_block for the one example in column n: numbers, not rows."""
    for j in range(z.shape[0] - 1, n_inputs - 1, -1):
        slot = output_slot[j]
        total = output_error[slot, n] if slot >= 0 else 0.0
        for q in range(out_start[j], out_start[j + 1]):
            total += weight[out_edge[q]] * delta[out_target[q], n]
        delta_j = total * derivative(activation[j], s[j, n], z[j, n])
        delta[j, n] = delta_j
        bias_sum[j] = delta_j
        for p in range(in_start[j], in_start[j + 1]):
            weight_sum[p] = delta_j * z[in_source[p], n]
    bias_sum[:n_inputs] = 0.0
    delta[:n_inputs, n] = 0.0


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


@njit(cache=True, fastmath={"reassoc", "contract"})
def dots(a, b0, b1, b2, b3, out):
    """out[k] = Σ_n a[n] b_k[n] for four rows b_k, reading ``a`` once."""
    t0 = t1 = t2 = t3 = 0.0
    for n in range(a.shape[0]):
        t0 += a[n] * b0[n]
        t1 += a[n] * b1[n]
        t2 += a[n] * b2[n]
        t3 += a[n] * b3[n]
    out[0], out[1], out[2], out[3] = t0, t1, t2, t3


@njit(cache=True, fastmath={"reassoc"})
def total(a):
    """Σ_n a[n]."""
    result = 0.0
    for n in range(a.shape[0]):
        result += a[n]
    return result


BLOCK_ALIGNMENT = 16
"""Block bounds are multiples of this many columns, so blocks do not share cache lines."""


def column_blocks(batch: int, threads: int, min_columns: int = 32) -> np.ndarray:
    """Bounds of at most ``threads`` column blocks of about equal width, none narrower than
    ``min_columns`` (below that, starting a thread costs more than it saves)."""
    n_blocks = max(1, min(threads, batch // min_columns))
    width = -(-batch // n_blocks)
    width = -(-width // BLOCK_ALIGNMENT) * BLOCK_ALIGNMENT
    bounds = np.minimum(np.arange(n_blocks + 1) * width, batch)
    bounds[-1] = batch
    return np.unique(bounds)
