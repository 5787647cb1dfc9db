"""The compiled loops: the derivation itself, run over a Plan for a whole minibatch at once.

State is unit-major, shaped (units, N): row j holds s_j, z_j or δ_j for every example, so each
edge touches two contiguous rows. The forward pass visits units in execution order and sums each
unit's in-edges; the backward pass visits them in reverse and pulls δ from each unit's actual
out-edges, forming ∂E/∂w of those same edges from the δ rows it has just read, and ∂E/∂b.
Both take the units in the Plan's groups (:func:`~dagnet.engine.plan.groups`: consecutive units
of one activation that do not feed each other), whose rows, whole, are one row: a group's f(s_j),
f'(s_j) and zeroed δ_j are one loop and one dispatch, not one per unit.

The kernels take their arrays bundled as numba types a NamedTuple: the Plan's ``wiring``
(:class:`~dagnet.engine.plan.Wiring`), the network's :class:`Parameters`, the pass's
:class:`State` and the :class:`Gradient` it fills. Where the Plan found dense blocks (whole
layers feeding whole layers), the sums over a block's edges are matrix products
(:mod:`dagnet.engine.dense`), taken at the point of the pass where their factors are known.

Examples are independent, so a minibatch is cut into column blocks (``bounds``) and each thread
runs the whole graph over its own block: no locks, no per-level barriers. The only shared
results are the gradients, which each block sums into a private row that is added up at the end.
One block runs on the calling thread with no thread start-up at all, which is what batch 1
(online learning) needs. The loops are written once for float64 and float32 state; their
literals and sums take the state's type (:func:`~dagnet.functions.activations.like`), so
float32 state is computed in float32, on twice as many SIMD lanes.

Run with ``NUMBA_DISABLE_JIT=1`` to step through these loops in a Python debugger.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit, prange

from dagnet.engine.copies import add_vector, copy_block, one_row
from dagnet.engine.dense import dense_backward, dense_forward, width
from dagnet.functions.activations import (
    activate,
    activate_row,
    derivative,
    like,
    scale_by_derivative,
)

__all__ = [
    "Gradient",
    "Parameters",
    "State",
    "backward",
    "backward_split",
    "backward_whole",
    "block_sums",
    "forward",
    "forward_outputs",
    "forward_split",
    "forward_whole",
    "forward_z_outputs",
    "mean_of_sums",
]

CHUNK_BYTES = 2048
"""The longest row of state a pass takes at once (256 float64 columns): a wider pass is taken
in chunks, each in rows of its own (:func:`scratch`), so that the rows of units a few levels
apart stay in the core's cache between their uses (measured on FANN's two networks at 1024
columns, one thread: a step in chunks of 256 took 0.55-0.62 of its time at once; chunks of 128
and 64 were slower again)."""

Array = Any  # float64 or float32 arrays: numba compiles one version of each kernel per dtype


class Parameters(NamedTuple):
    """The weight of every edge (Plan edge order) and the bias of every unit (Plan order)."""

    weight: Array
    bias: Array


class State(NamedTuple):
    """One pass's unit-major arrays: s, z and δ (units, N), and the loss's part of each
    output's δ (outputs, N)."""

    s: Array
    z: Array
    delta: Array
    output_error: Array


class Gradient(NamedTuple):
    """∂E/∂w per edge and ∂E/∂b per unit, or a column block's sums of them."""

    weight: Array
    bias: Array


def forward(wiring, parameters, state, bounds):
    """Fill s_j = b_j + Σ_{i∈ins(j)} w_{i→j} z_i and z_j = f_j(s_j) for every non-input unit.

    ``wiring`` is :attr:`Plan.wiring <dagnet.engine.plan.Plan.wiring>`. Rows ``0 .. n_inputs-1``
    of ``state.z`` (and ``state.s``) must hold the inputs on entry. Column block b is
    ``bounds[b] .. bounds[b+1]-1``; blocks run in parallel. (One block runs here, on the calling
    thread: a run that never needs threads never loads the parallel code.)
    """
    if len(bounds) == 2:
        forward_block(wiring, parameters, state, bounds[0], bounds[1])
    else:
        _forward_blocks(wiring, parameters, state, bounds)


@njit(cache=True)
def forward_whole(wiring, parameters, x, state):
    """The inputs ``x`` (inputs, N) into state, then :func:`forward` as one block."""
    s, z = state.s, state.z  # (see forward_split for why not through the tuple)
    _inputs_into(s, z, x, 0, x.shape[1])
    forward_block(wiring, parameters, state, 0, z.shape[1])


@njit(cache=True)
def _inputs_into(s, z, x, start, m):
    """Columns ``start .. start+m-1`` of the inputs ``x`` into the input rows' first m columns
    of s and z (an input's s and z are its value)."""
    n_inputs = x.shape[0]
    copy_block(s, 0, 0, x, 0, start, n_inputs, m)
    copy_block(z, 0, 0, x, 0, start, n_inputs, m)


@njit(cache=True)
def forward_outputs(wiring, parameters, x, state, outputs, s_out, z_out):
    """:func:`forward_whole` over the columns of ``x`` (inputs, N), as many at a time as state
    has, and each time the s and z of the units at positions ``outputs`` into rows of ``s_out``
    and ``z_out`` (outputs, N): any N through a state of a few hundred columns, in one call (a
    Population's forward pass: its units' state for all of N would be new pages and out of the
    cache)."""
    width, n = state.z.shape[1], x.shape[1]
    s, z = state.s, state.z
    for start in range(0, n, width):
        m = min(width, n - start)
        _inputs_into(s, z, x, start, m)
        forward_block(wiring, parameters, state, 0, m)
        _copy_rows(s, outputs, s_out, start, m)
        _copy_rows(z, outputs, z_out, start, m)


@njit(cache=True, fastmath={"contract"})
def forward_z_outputs(wiring, parameters, x, z, outputs, z_out):
    """:func:`forward_outputs` with z alone, for a Plan without dense blocks: each unit's s_j
    in one row, reused unit after unit, as nothing reads s_j after z_j = f(s_j). The state
    then moves half the bytes (150 NEAT genomes' first pass over 200 examples after other work:
    1.19 ms against 1.44)."""
    weight, bias = parameters
    n_inputs, width, n = wiring.n_inputs, z.shape[1], x.shape[1]
    in_start, in_source, activation = wiring.in_start, wiring.in_source, wiring.activation
    s = np.empty((1, width), z.dtype)  # s_j, in row 0
    for start in range(0, n, width):
        m = min(width, n - start)
        copy_block(z, 0, 0, x, 0, start, n_inputs, m)
        for j in range(n_inputs, z.shape[0]):
            _set_row(s, 0, 0, m, bias[j])
            _sum_in_edges(s, 0, weight, in_source, z, in_start[j], in_start[j + 1], 0, m)
            activate_row(activation[j], s, 0, z, j, 0, m)
        _copy_rows(z, outputs, z_out, start, m)


@njit(cache=True)
def _copy_rows(rows, outputs, out, start, m):
    """Rows ``outputs`` of ``rows``' first m columns into columns ``start .. start+m-1`` of
    ``out``, row r from row ``outputs[r]``."""
    for r in range(len(outputs)):
        copy_block(out, r, start, rows, outputs[r], 0, 1, m)


@njit(cache=True, parallel=True)
def _forward_blocks(wiring, parameters, state, bounds):
    for b in prange(len(bounds) - 1):
        forward_block(wiring, parameters, state, bounds[b], bounds[b + 1])


@njit(cache=True)
def chunk(state):
    """How many columns a pass takes at a time: rows of :data:`CHUNK_BYTES`."""
    return max(1, CHUNK_BYTES // state.z.itemsize)


@njit(cache=True, fastmath={"contract"})
def forward_block(wiring, parameters, state, lo, hi):
    """The forward pass over columns ``lo .. hi-1``, :func:`chunk` columns at a time."""
    if hi - lo == 1:  # one example (online learning): numbers, not rows
        _forward_one(wiring, parameters, state, lo)
        return
    step = chunk(state)
    if hi - lo <= step:
        _forward_columns(wiring, parameters, state, lo, hi)
        return
    own, n_inputs = scratch(state, step), wiring.n_inputs
    for first in range(lo, hi, step):
        last = min(first + step, hi)
        m, rest = last - first, own.z.shape[0] - n_inputs
        copy_block(own.s, 0, 0, state.s, 0, first, n_inputs, m)
        copy_block(own.z, 0, 0, state.z, 0, first, n_inputs, m)
        _forward_columns(wiring, parameters, own, 0, m)
        copy_block(state.s, n_inputs, first, own.s, n_inputs, 0, rest, m)
        copy_block(state.z, n_inputs, first, own.z, n_inputs, 0, rest, m)


@njit(cache=True)
def scratch(state, columns):
    """State of ``columns`` columns, rows of their own, for a chunk of a wider pass: in the
    wide arrays, a chunk's part of each row lies a row apart from the next one's, a power of two
    bytes when N is, so the chunks of all rows fall in a few of the cache's sets (see
    :data:`CHUNK_BYTES`)."""
    units, outputs = state.z.shape[0], state.output_error.shape[0]
    dtype = state.z.dtype
    return State(
        np.empty((units, columns), dtype),
        np.empty((units, columns), dtype),
        np.empty((units, columns), dtype),
        np.empty((outputs, columns), dtype),
    )


@njit(cache=True, fastmath={"contract"})
def _forward_one(wiring, parameters, state, n):
    """forward_block for the one example in column n: numbers, not rows."""
    weight, bias = parameters
    s, z = state.s, state.z
    in_start, in_source = wiring.in_start, wiring.in_source
    for j in range(wiring.n_inputs, z.shape[0]):
        s_j = _sum_in_edges_one(bias[j], weight, in_source, z, in_start[j], in_start[j + 1], n)
        s[j, n] = s_j
        z[j, n] = activate(wiring.activation[j], s_j)


@njit(cache=True, fastmath={"contract"})
def _forward_columns(wiring, parameters, state, lo, hi):
    """The forward pass over columns ``lo .. hi-1`` at once, group by group (see
    :func:`~dagnet.engine.plan.groups`)."""
    # The arrays are taken out of the tuples once, and the loop over units makes no views of
    # rows: it passes whole arrays and a row's place (see activations' row functions for why).
    weight, bias = parameters
    s, z = state.s, state.z
    in_start, in_source, in_row = wiring.in_start, wiring.in_source, wiring.in_row
    target_block, dense_targets = wiring.target_block, wiring.dense_targets
    dense_sources, activation = wiring.dense_sources, wiring.activation
    group_start = wiring.group_start
    s_flat, z_flat = one_row(s), one_row(z)
    n = z.shape[1]
    whole = lo == 0 and hi == n and s_flat.size == s.size and z_flat.size == z.size
    for g in range(len(group_start) - 1):
        first, end = group_start[g], group_start[g + 1]
        block = target_block[first]
        if block < 0:
            for j in range(first, end):
                _set_row(s, j, lo, hi, bias[j])
                _sum_in_edges(s, j, weight, in_source, z, in_start[j], in_start[j + 1], lo, hi)
        else:  # (a group alone) the block's part of s_j is a product, taken for all its
            j = first  # targets at the first
            if j == dense_targets[block, 0]:
                dense_forward(wiring, block, weight, state, lo, hi)
            _add_to_row(s, j, lo, hi, bias[j])
            row = in_row[j]
            after = row + width(dense_sources, block)
            _sum_in_edges_around(s, j, weight, in_source, z, in_start[j], row, after,
                                 in_start[j + 1], lo, hi)  # fmt: skip
        # The group's rows as one row, else row by row, through one call of the dispatch
        # (LLVM copies the dispatch into each place that calls it: 9 s more to compile for two).
        for j in range(first, first + 1 if whole else end):
            rows_s, rows_z, r = (s_flat, z_flat, 0) if whole else (s, z, j)
            columns = (first * n, end * n) if whole else (lo, hi)
            activate_row(activation[j], rows_s, r, rows_z, r, columns[0], columns[1])


# The loops over a unit's row index the unit-major arrays with unsigned places instead of
# taking views of rows (a view made in a pass's loop over units is a new reference, two atomic
# updates of its count), and the sum of in-edges is inlined into the forward pass (numba's
# inline="always"; a call passes each array as some ten numbers). On 1000 levels of 4 units at
# 32 columns, the forward pass took 0.8 of its time (259-268 against 328-331 µs). Inlining
# _row_total, or the short loops, made nothing faster, so they stay calls; the backward pass's
# sweep over out-edges is written into its loop over units (see there).


@njit(cache=True)
def _set_row(a, j, lo, hi, value):
    """a[j, lo:hi] = value."""
    j = np.uint64(j)
    for n in range(np.uint64(lo), np.uint64(hi)):
        a[j, n] = value


@njit(cache=True)
def _add_to_row(a, j, lo, hi, value):
    """a[j, lo:hi] += value."""
    j = np.uint64(j)
    for n in range(np.uint64(lo), np.uint64(hi)):
        a[j, n] += value


@njit(cache=True, inline="always", fastmath={"contract"})
def _sum_in_edges(s, j, weight, in_source, z, p, end, lo, hi):
    """s[j, lo:hi] += Σ w_{i→j} z_i over in-edges ``p .. end-1``."""
    # Four in-edges per sweep over the row, so s_j is loaded and stored a quarter as often;
    # the last sweep is padded with weight 0 (one sweep, not up to three, for a short rest;
    # 0 × inf makes NaN only where a value has overflowed, and that run has diverged anyway).
    zero = like(weight, 0.0)
    j, lo, hi = np.uint64(j), np.uint64(lo), np.uint64(hi)
    while p < end:
        w0 = weight[p]
        w1 = weight[p + 1] if p + 1 < end else zero
        w2 = weight[p + 2] if p + 2 < end else zero
        w3 = weight[p + 3] if p + 3 < end else zero
        i0 = np.uint64(in_source[p])
        i1 = np.uint64(in_source[min(p + 1, end - 1)])
        i2 = np.uint64(in_source[min(p + 2, end - 1)])
        i3 = np.uint64(in_source[min(p + 3, end - 1)])
        for n in range(lo, hi):
            s[j, n] += (w0 * z[i0, n] + w1 * z[i1, n]) + (w2 * z[i2, n] + w3 * z[i3, n])
        p += 4


@njit(cache=True, fastmath={"contract"})
def _sum_in_edges_around(s, j, weight, in_source, z, p, row, after, end, lo, hi):
    """:func:`_sum_in_edges` over in-edges ``p .. end-1`` but ``row .. after-1``: the edges from
    a dense block, whose sum is a product (see :func:`~dagnet.engine.dense.dense_forward`)."""
    _sum_in_edges(s, j, weight, in_source, z, p, row, lo, hi)
    _sum_in_edges(s, j, weight, in_source, z, after, end, lo, hi)


@njit(cache=True, fastmath={"contract", "reassoc"})
def _sum_in_edges_one(s_j, weight, in_source, z, p, end, n):
    """s_j + Σ w_{i→j} z_i over in-edges ``p .. end-1`` of the one example in column n."""
    # Indices counted from 0 over slices, and sources read as unsigned (positions are never
    # negative), let numba drop its test for negative indices on every read; the reassociated
    # sum keeps several partial sums on SIMD lanes (one chain of additions would wait on each):
    # 2.7x faster than a plain loop over p.
    w, source = weight[p:end], in_source[p:end]
    total = like(weight, 0.0)
    for k in range(w.shape[0]):
        total += w[k] * z[np.uint64(source[k]), n]
    return s_j + total


def backward(wiring, parameters, state, gradient, bounds, sums=None):
    """Fill δ_j = f'_j(s_j) Σ_{k∈outs(j)} δ_k w_{j→k} (+ the loss's part, at an output), ∂E/∂w
    and ∂E/∂b.

    ``state.output_error[r]`` is the loss's own part of δ for the output in row r, ∂E/∂s of
    that output's loss terms (see :mod:`dagnet.functions.losses`); the sum is there only for
    units with out-edges (an output may have both). Gradients
    are means over the N examples: ∂E/∂w_{i→j} = (1/N) Σ_n δ_j z_i, ∂E/∂b_j = (1/N) Σ_n δ_j.
    With several blocks, each sums into its own rows of ``sums`` (see :func:`block_sums`).
    """
    batch = state.z.shape[1]
    if len(bounds) == 2:
        backward_block(wiring, parameters.weight, state, gradient, 0, batch)
        if batch > 1:
            gradient.weight[:] *= 1.0 / batch
            gradient.bias[:] *= 1.0 / batch
    else:
        if sums is None:
            sums = block_sums(len(bounds) - 1, gradient)
        _backward_blocks(wiring, parameters.weight, state, gradient, bounds, sums)


@njit(cache=True)
def backward_whole(wiring, parameters, state, gradient):
    """:func:`backward` as one block (gradients scaled as there, so the same numbers)."""
    batch = state.z.shape[1]
    backward_block(wiring, parameters.weight, state, gradient, 0, batch)
    if batch > 1:
        scale = 1.0 / batch
        weight, bias = gradient.weight, gradient.bias
        for p in range(weight.shape[0]):
            weight[p] *= scale
        for j in range(bias.shape[0]):
            bias[j] *= scale


def block_sums(n_blocks: int, gradient: Gradient) -> Gradient:
    """The private rows each column block sums its gradients into (kept in a workspace)."""
    return Gradient(
        np.empty((n_blocks, len(gradient.weight)), gradient.weight.dtype),
        np.empty((n_blocks, len(gradient.bias)), gradient.bias.dtype),
    )


@njit(cache=True, parallel=True)
def _backward_blocks(wiring, weight, state, gradient, bounds, sums):
    for b in prange(len(bounds) - 1):
        block_sum = Gradient(sums.weight[b], sums.bias[b])
        backward_block(wiring, weight, state, block_sum, bounds[b], bounds[b + 1])
    mean_of_sums(sums, state.z.shape[1], gradient)


@njit(cache=True)
def backward_block(wiring, weight, state, sums, lo, hi):
    """δ for columns ``lo .. hi-1``, and the sums Σ_n δ_j z_i and Σ_n δ_j over those columns
    into ``sums`` (a :class:`Gradient`), :func:`chunk` columns at a time."""
    if hi - lo == 1:
        _backward_one(wiring, weight, state, sums, lo)
        return
    step = chunk(state)
    if hi - lo <= step:
        _backward_columns(wiring, weight, state, sums, lo, hi)
        return
    own = scratch(state, step)
    more = Gradient(np.empty_like(sums.weight), np.empty_like(sums.bias))  # a later chunk's
    for first in range(lo, hi, step):
        last = min(first + step, hi)
        m, units, outputs = last - first, own.z.shape[0], own.output_error.shape[0]
        copy_block(own.s, 0, 0, state.s, 0, first, units, m)
        copy_block(own.z, 0, 0, state.z, 0, first, units, m)
        copy_block(own.output_error, 0, 0, state.output_error, 0, first, outputs, m)
        _backward_columns(wiring, weight, own, sums if first == lo else more, 0, m)
        if first > lo:
            add_vector(sums.weight, more.weight)
            add_vector(sums.bias, more.bias)
        copy_block(state.delta, 0, first, own.delta, 0, 0, units, m)


@njit(cache=True, fastmath={"reassoc", "contract"})
def _backward_columns(wiring, weight, state, sums, lo, hi):
    """backward_block over columns ``lo .. hi-1`` at once, group by group in reverse (see
    :func:`~dagnet.engine.plan.groups`), then the inputs one by one."""
    s, z, delta, output_error = state
    weight_sum, bias_sum = sums
    n_inputs, output_slot, activation = wiring.n_inputs, wiring.output_slot, wiring.activation
    out_start, out_edge, out_target = wiring.out_start, wiring.out_edge, wiring.out_target
    out_row, source_block, target_block = wiring.out_row, wiring.source_block, wiring.target_block
    dense_targets, group_start = wiring.dense_targets, wiring.group_start
    s_flat, z_flat, delta_flat = one_row(s), one_row(z), one_row(delta)
    n = z.shape[1]
    whole = lo == 0 and hi == n and s_flat.size == s.size and z_flat.size == z.size
    whole = whole and delta_flat.size == delta.size
    zero, first_column, end_column = like(delta, 0.0), np.uint64(lo), np.uint64(hi)
    # Each unit's out-edges give both its δ and the ∂E/∂w of those edges: the δ_k rows are
    # loaded once for the two. The sweep over them is written here, in the loop over units,
    # not in a function: a call passes each array as some ten numbers, and numba's inlining of
    # one makes a new reference of each array it is handed, two atomic updates of its count
    # per unit (on 1000 levels of 4 units at 32 columns, 206-211 µs against 261-267 called and
    # 291-322 inlined by numba). Span t is group t - n_inputs, or for t < n_inputs input t.
    for t in range(len(group_start) - 2 + n_inputs, -1, -1):
        first, end = (
            (group_start[t - n_inputs], group_start[t - n_inputs + 1])
            if t >= n_inputs
            else (t, t + 1)
        )
        is_input = t < n_inputs
        if source_block[first] < 0 or is_input:  # (else δ_j holds the sum over the block's edges)
            if whole:
                _set_row(delta_flat, 0, first * n, end * n, 0.0)
            else:
                for j in range(first, end):
                    _set_row(delta, j, lo, hi, 0.0)
        for j in range(end - 1, first - 1, -1):
            # Entries q .. end_j-1 but row .. after-1, the edges into a dense block, which are
            # done as a product (see dense_backward).
            block, q, end_j = source_block[j], out_start[j], out_start[j + 1]
            row = end_j if block < 0 else out_row[j]
            after = end_j if block < 0 else row + width(dense_targets, block)
            u = np.uint64(j)
            for part in range(2):
                q, last = (q, row) if part == 0 else (after, end_j)
                # Four out-edges per sweep, the last sweep padded as in _sum_in_edges (a padded
                # entry repeats the last edge, whose sum is written last).
                while q < last:
                    e0 = out_edge[q]
                    e1 = out_edge[min(q + 1, last - 1)]
                    e2 = out_edge[min(q + 2, last - 1)]
                    e3 = out_edge[min(q + 3, last - 1)]
                    w0 = weight[e0]
                    w1 = weight[e1] if q + 1 < last else zero
                    w2 = weight[e2] if q + 2 < last else zero
                    w3 = weight[e3] if q + 3 < last else zero
                    k0 = np.uint64(out_target[q])
                    k1 = np.uint64(out_target[min(q + 1, last - 1)])
                    k2 = np.uint64(out_target[min(q + 2, last - 1)])
                    k3 = np.uint64(out_target[min(q + 3, last - 1)])
                    g0 = g1 = g2 = g3 = zero
                    for c in range(first_column, end_column):
                        x0, x1, x2, x3 = delta[k0, c], delta[k1, c], delta[k2, c], delta[k3, c]
                        x = z[u, c]
                        delta[u, c] += (w0 * x0 + w1 * x1) + (w2 * x2 + w3 * x3)
                        g0 += x0 * x
                        g1 += x1 * x
                        g2 += x2 * x
                        g3 += x3 * x
                    weight_sum[e3] = g3
                    weight_sum[e2] = g2
                    weight_sum[e1] = g1
                    weight_sum[e0] = g0
                    q += 4
        if is_input:  # inputs need no δ, only ∂E/∂w of their out-edges
            _set_row(delta, first, lo, hi, 0.0)
            bias_sum[first] = 0.0
            continue
        for j in range(first, first + 1 if whole else end):  # (as in _forward_columns)
            rows_s, rows_z, rows_delta, r = (
                (s_flat, z_flat, delta_flat, 0) if whole else (s, z, delta, j)
            )
            columns = (first * n, end * n) if whole else (lo, hi)
            scale_by_derivative(activation[j], rows_s, rows_z, r, rows_delta, r, columns[0],
                                columns[1])  # fmt: skip
        for j in range(end - 1, first - 1, -1):
            slot = output_slot[j]
            if slot >= 0:  # the loss's own part of an output's δ, f'(s) already in it
                _add_row(delta, j, output_error, slot, lo, hi)
            bias_sum[j] = _row_total(delta, j, lo, hi)
        block = target_block[first]
        if block >= 0 and first == dense_targets[block, 0]:  # the block's last δ is known
            dense_backward(wiring, block, weight, state, weight_sum, lo, hi)


@njit(cache=True)
def _add_row(a, j, b, r, lo, hi):
    """a[j, lo:hi] += b[r, lo:hi]."""
    j, r = np.uint64(j), np.uint64(r)
    for n in range(np.uint64(lo), np.uint64(hi)):
        a[j, n] += b[r, n]


@njit(cache=True, fastmath={"contract"})
def _backward_one(wiring, weight, state, sums, n):
    """backward_block for the one example in column n: numbers, not rows."""
    s, z, delta, output_error = state
    for j in range(z.shape[0] - 1, -1, -1):
        error = _out_edges_one(wiring, weight, sums.weight, z, delta, j, n)
        if j < wiring.n_inputs:  # inputs need no δ, only ∂E/∂w of their out-edges
            delta[j, n] = 0.0
            sums.bias[j] = 0.0
            continue
        delta_j = error * derivative(wiring.activation[j], s[j, n], z[j, n])
        slot = wiring.output_slot[j]
        if slot >= 0:
            delta_j += output_error[slot, n]
        delta[j, n] = delta_j
        sums.bias[j] = delta_j


@njit(cache=True, fastmath={"contract", "reassoc"})
def _out_edges_one(wiring, weight, weight_sum, z, delta, j, n):
    """Σ_{k∈outs(j)} δ_k w_{j→k} for the one example in column n, and ∂E/∂w_{j→k} = δ_k z_j
    into ``weight_sum`` (as :func:`_backward_columns` has them, so in either order of edges;
    read as in :func:`_sum_in_edges_one`)."""
    q, end = wiring.out_start[j], wiring.out_start[j + 1]
    edges, targets = wiring.out_edge[q:end], wiring.out_target[q:end]
    z_j, total = z[j, n], like(delta, 0.0)
    for k in range(edges.shape[0]):
        e, delta_k = np.uint64(edges[k]), delta[np.uint64(targets[k]), n]
        total += weight[e] * delta_k
        weight_sum[e] = delta_k * z_j
    return total


# A workspace split by column block holds its state as (slots, units, width) arrays, one slot
# per thread, so the two threads never share a cache line or a page of state. The minibatch's
# blocks (chunks, where it is wide) are taken ``count`` at a time, block first + b in slot b,
# each forward then backward while its state is still in the core's cache; the sums of every
# block have rows of their own, added up by :func:`mean_of_sums` after the last.


@njit(cache=True, parallel=True)
def forward_split(wiring, parameters, x, state, bounds, first, count):
    """:func:`forward` over inputs ``x`` (inputs, N) into split state: blocks ``first ..
    first+count-1`` (those there are), block c holding columns ``bounds[c] .. bounds[c+1]-1``."""
    # The arrays are taken out of the tuple before the loop: numba 0.68 drops a slice assignment
    # made through a NamedTuple field inside prange, which left the inputs unset.
    s, z = state.s, state.z
    for b in prange(min(count, len(bounds) - 1 - first)):
        lo, hi = bounds[first + b], bounds[first + b + 1]
        _inputs_into(s[b], z[b], x, lo, hi - lo)
        own = State(s[b], z[b], state.delta[b], state.output_error[b])
        forward_block(wiring, parameters, own, 0, hi - lo)


@njit(cache=True, parallel=True)
def backward_split(wiring, parameters, state, bounds, sums, first, count):
    """:func:`backward` over split state, for the blocks :func:`forward_split` took, into their
    rows of ``sums``."""
    for b in prange(min(count, len(bounds) - 1 - first)):
        own = State(state.s[b], state.z[b], state.delta[b], state.output_error[b])
        block_sum = Gradient(sums.weight[first + b], sums.bias[first + b])
        width = bounds[first + b + 1] - bounds[first + b]
        backward_block(wiring, parameters.weight, own, block_sum, 0, width)


@njit(cache=True)
def mean_of_sums(sums, batch, gradient, order=None):
    """The gradient: the blocks' sums added up, over the ``batch`` examples; the weights' sums
    are those of edges ``order`` where given (held in out-edge order, see
    :attr:`~dagnet.engine.workspace.Workspace.out_weight`)."""
    _mean_of_sums(sums.weight, batch, gradient.weight, order)
    _mean_of_sums(sums.bias, batch, gradient.bias, None)


@njit(cache=True, parallel=True)
def _mean_of_sums(sums, batch, mean, order):
    scale = 1.0 / batch
    for p in prange(sums.shape[1]):
        added = 0.0
        for b in range(sums.shape[0]):
            added += sums[b, p]
        if order is None:  # (numba compiles a version for each, without the test)
            mean[p] = added * scale
        else:
            mean[order[p]] = added * scale


# Reassociating this sum lets the compiler use SIMD lanes (3x faster here); the order of a sum
# of N numbers is no part of the derivation.


@njit(cache=True, fastmath={"reassoc"})
def _row_total(a, j, lo, hi):
    """Σ_n a[j, n] over columns ``lo .. hi-1``."""
    j = np.uint64(j)
    result = like(a, 0.0)
    for n in range(np.uint64(lo), np.uint64(hi)):
        result += a[j, n]
    return result
