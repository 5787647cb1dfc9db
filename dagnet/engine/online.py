"""Online learning: a run of steps of one example each, every step of the run in one compiled
call.

A step on one example is the derivation's three steps on numbers rather than rows: s_j and z_j
forward, δ_j backward, then Δw_{i→j} = −η δ_j z_i and Δb_j = −η δ_j (plain gradient descent,
with L2 weight decay λ as :class:`~dagnet.training.optimizers.SGD` has it). Taken as a Python
loop of kernel calls (forward, loss, backward, update, a snapshot of the parameters), a step on
FANN's 140k-edge shortcut network cost 0.76 ms; here it costs 0.057 ms.

At batch 1 a step is bound by loading the weights and indices, three or four numbers per edge
and pass, so the loops here read as few as they can:

- The backward pass *pushes* each δ_j back along j's in-edges, in the Plan's in-edge order:
  when j's turn comes (reverse execution order), every δ_k of its out-edges has already added
  δ_k w_{j→k} into row j of ``delta``, so δ_j = f'_j(s_j) · delta_j (+ the loss's part). It then
  adds δ_j w_{i→j} into each source's row and updates w_{i→j} in the same sweep: the sum of
  pulling over the out-edges, in another order, with the weights read once, in place.
- A unit whose in-edges come from runs of consecutive sources (layers, FANN's shortcut and
  fully connected networks) sweeps each run as two contiguous rows, on SIMD lanes, with no index
  per edge (:class:`Sweep`); the others read source indices of 16 bits when the network has at
  most 65,536 units (32 bits otherwise: an epoch of FANN's sparse network took 1.07× as long).
- Both passes go through the units in groups: consecutive units of one kind (by runs, or
  indexed) and one activation, none fed by another of its group (a layer, in a layered
  network). A loop for each kind, since a loop whose every unit chose between the two compiled
  neither well (on FANN's sparse network, 1.0 against 0.6 ns an edge forward); and the forward
  pass activates a group's s_j at once, on SIMD lanes (0.57 against 0.48 ns an edge there).

Updating in place leaves no copy of the parameters before the latest update, which is what a
failed step must put back (the last parameters whose loss passed the divergence watch): each
call keeps the parameters it started from and, when a step fails, replays the steps before it
from them (the same loops in the same order give the same numbers).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from dagnet.engine.calls import array_key, call
from dagnet.engine.compiled import CompiledNetwork
from dagnet.engine.copies import copy_vector
from dagnet.engine.kernels import Parameters
from dagnet.engine.plan import Plan, groups
from dagnet.functions.activations import activate_row, derivative, like
from dagnet.functions.losses import LOSS_CODES, Head, signal_of

__all__ = [
    "CALL_WORK",
    "MIN_RUN",
    "Objective",
    "OnlineSteps",
    "Sweep",
    "Watch",
    "descend_one_by_one",
    "objective_of",
    "sweep_of",
]

Array = NDArray[Any]

MIN_RUN = 4
"""A unit's in-edges are swept by runs when they average at least this many edges per run of
consecutive sources: shorter, the run's bounds cost more loads than the indices they save."""


class Objective(NamedTuple):
    """A network's heads as compiled code reads them: head h is loss ``codes[h]``
    (:data:`~dagnet.functions.losses.LOSS_CODES`) of weight ``weights[h]`` over the outputs
    ``slots[starts[h]:starts[h + 1]]``; output r is at position ``positions[r]``."""

    positions: NDArray[np.int64]
    codes: NDArray[np.int64]
    weights: NDArray[np.float64]
    starts: NDArray[np.int64]
    slots: NDArray[np.int64]


def objective_of(heads: tuple[Head, ...], positions: NDArray[np.int64]) -> Objective:
    """The compiled form of ``heads`` over the outputs at ``positions``."""
    slots = [np.asarray(head.slots, np.int64) for head in heads]
    return Objective(
        np.asarray(positions, np.int64),
        np.array([LOSS_CODES[head.loss] for head in heads], np.int64),
        np.array([head.weight for head in heads], np.float64),
        np.cumsum([0, *map(len, slots)]).astype(np.int64),
        np.concatenate(slots),
    )


class Sweep(NamedTuple):
    """A Plan's in-edges as the one-example loops read them. Unit j's in-edges are ``in_start[j]
    .. in_start[j+1]-1`` (the Plan's edge order). If ``run_start[j] < run_start[j+1]``, they are
    the runs r in that range: edges ``run_edge[r] .. run_end[r]-1``, from the consecutive sources
    ``run_source[r]``, ``run_source[r]+1``, …; otherwise edge p comes from ``source[p]``
    (unsigned, see :func:`_indexed_sum`; uint16 when there are at most 2^16 units, else uint32).
    The units from ``n_inputs`` on lie in groups (see the module docstring): group g is units
    ``group_start[g] .. group_start[g+1]-1``, by runs if ``group_by_runs[g]``, of activation
    ``group_activation[g]``."""

    activation: NDArray[np.int8]
    output_slot: NDArray[np.int64]
    n_inputs: int
    in_start: NDArray[np.int64]
    source: NDArray[np.unsignedinteger[Any]]
    run_start: NDArray[np.int64]
    run_edge: NDArray[np.int64]
    run_end: NDArray[np.int64]
    run_source: NDArray[np.int64]
    group_start: NDArray[np.int64]
    group_by_runs: NDArray[np.bool_]
    group_activation: NDArray[np.int8]


def sweep_of(plan: Plan, min_run: int | None = None) -> Sweep:
    """The :class:`Sweep` of ``plan``: by runs, the units whose runs average at least
    ``min_run`` edges (default :data:`MIN_RUN`; 1 sweeps every unit with in-edges by runs)."""
    min_run = MIN_RUN if min_run is None else min_run
    in_start, in_source = plan.in_start, plan.in_source
    degree = np.diff(in_start)
    target = np.repeat(np.arange(plan.n_units), degree)
    begins = np.ones(plan.n_edges, bool)  # where a run begins: a unit's first edge, or a gap
    begins[1:] = (in_source[1:] != in_source[:-1] + 1) | (target[1:] != target[:-1])
    run_edge = np.flatnonzero(begins)
    run_end = np.append(run_edge[1:], plan.n_edges)  # the next run's, or next unit's, first
    runs = np.bincount(target[run_edge], minlength=plan.n_units)
    by_runs = (runs > 0) & (runs * min_run <= degree)
    kept = by_runs[target[run_edge]]
    run_start = np.zeros(plan.n_units + 1, np.int64)
    np.cumsum(np.where(by_runs, runs, 0), out=run_start[1:])
    group_start = groups(plan, by_runs)
    assert plan.n_units < 2**32
    return Sweep(
        plan.activation,
        plan.output_slot,
        plan.n_inputs,
        in_start,
        in_source.astype(np.uint16 if plan.n_units <= 2**16 else np.uint32),  # (fewer bytes)
        run_start,
        run_edge[kept],
        run_end[kept],
        in_source[run_edge[kept]],
        group_start,
        by_runs[group_start[:-1]],
        plan.activation[group_start[:-1]],
    )


class Watch(NamedTuple):
    """The divergence watch a run keeps (see :mod:`dagnet.training.divergence`), in arrays the
    compiled steps update: ``line[0]`` is the loss above which a step has diverged (inf until
    the first step sets it), ``line[1]`` the loss that set it; ``factor`` sets the line at
    factor × max(first loss, 1), as :func:`~dagnet.training.divergence.divergence_line` does."""

    line: NDArray[np.float64]
    factor: float


@njit(cache=True)
def descend_one_by_one(
    sweep, parameters, start, spare, state, objective, x, y, rate, decay, frozen, watch, losses,
    output_total,
):  # fmt: skip
    """Steps of plain gradient descent on the examples in the columns of ``x`` (inputs, N) and
    ``y`` (outputs, N), one example each, in column order; returns how many passed the watch.

    ``parameters`` are the network's weights and biases, updated in place; ``start`` and
    ``spare`` are arrays of their shapes, ``state`` a one-column
    :class:`~dagnet.engine.kernels.State`. Step n computes E_n, checks it against ``watch`` (see
    :class:`Watch`; the first step of a run sets the line), writes it to ``losses[n]``, adds
    each output's share into ``output_total``, and updates every parameter p by Δp =
    −η(∂E_n/∂p + λp) (η = ``rate``, λ = ``decay``) but the edges and units in ``frozen`` (a pair
    of index arrays). The steps stop before the update of a step whose loss is not finite or
    above the line.

    On return, after k steps have passed, ``parameters`` hold the parameters after the k-th
    update (those the next step, or the failed one, started from) and, when k ≥ 1, ``spare``
    those before it, the last parameters whose loss passed; when k = 0, ``spare`` is as it was.
    ``start`` holds the parameters the call started from.
    """
    n_steps = x.shape[1]
    _copy(parameters, start)
    by_output = np.zeros(output_total.shape[0])
    passed = 0
    while passed < n_steps:
        loss = _forward_loss(sweep, parameters, state, objective, x, y, passed, by_output)
        losses[passed] = loss
        if not np.isfinite(loss) or loss > watch.line[0]:
            break
        if np.isinf(watch.line[0]):
            watch.line[0] = watch.factor * max(loss, 1.0)  # (divergence_line's)
            watch.line[1] = loss
        for r in range(by_output.shape[0]):
            output_total[r] += by_output[r]
        if passed == n_steps - 1:  # the last parameters that passed, once the call is over
            _copy(parameters, spare)
        _backward_update(sweep, parameters, start, state, rate, decay, frozen)
        passed += 1
    if 1 <= passed < n_steps:  # the parameters the failed step's predecessor passed with
        _copy(start, spare)
        for n in range(passed - 1):
            _forward_loss(sweep, spare, state, objective, x, y, n, by_output)
            _backward_update(sweep, spare, start, state, rate, decay, frozen)
    return passed


@njit(cache=True)
def _forward_loss(sweep, parameters, state, objective, x, y, n, by_output):
    """The forward pass for example n (column n of ``x``) into ``state``, then every head's
    loss signal against column n of ``y``: each output's direct part of δ into
    ``state.output_error``, its share of E_n into ``by_output``; returns E_n."""
    weight, bias = parameters
    units = state.s.shape[0]
    s, z = state.s.reshape(units), state.z.reshape(units)
    s_row, z_row = state.s.reshape(1, units), state.z.reshape(1, units)  # (the same numbers)
    for i in range(sweep.n_inputs):
        s[i] = z[i] = x[i, n]
    for g in range(sweep.group_by_runs.shape[0]):
        first, end = sweep.group_start[g], sweep.group_start[g + 1]
        if sweep.group_by_runs[g]:
            _forward_runs(sweep, weight, bias, s, z, first, end)
        else:
            _forward_indexed(sweep, weight, bias, s, z, first, end)
        activate_row(sweep.group_activation[g], s_row, 0, z_row, 0, first, end)
    total = 0.0
    for h in range(objective.codes.shape[0]):
        slots = objective.slots[objective.starts[h] : objective.starts[h + 1]]
        total += signal_of(
            objective.codes[h], state.s, state.z, sweep.activation, objective.positions, slots,
            y[:, n : n + 1], state.output_error, by_output, objective.weights[h],
        )  # fmt: skip
    return total


@njit(cache=True)
def _forward_runs(sweep, weight, bias, s, z, first, end):
    """s_j of units first .. end-1, each of whose in-edges are swept by runs."""
    for j in range(first, end):
        s[j] = bias[j] + _runs_sum(sweep, weight, z, j)


@njit(cache=True)
def _forward_indexed(sweep, weight, bias, s, z, first, end):
    """s_j of units first .. end-1, whose in-edges are read by source index."""
    for j in range(first, end):
        s[j] = bias[j] + _indexed_sum(sweep, weight, z, j)


# The order of these sums (Σ_{i∈ins(j)} w_{i→j} z_i) is no part of the derivation:
# reassociating them lets the compiler keep several partial sums (one chain of additions
# would wait on each) on SIMD lanes.


@njit(cache=True, fastmath={"contract", "reassoc"})
def _runs_sum(sweep, weight, z, j):
    total = like(weight, 0.0)
    for r in range(sweep.run_start[j], sweep.run_start[j + 1]):
        total += _run_sum(weight, z, sweep.run_edge[r], sweep.run_end[r], sweep.run_source[r])
    return total


@njit(cache=True, fastmath={"contract", "reassoc"})
def _indexed_sum(sweep, weight, z, j):
    # Indices from slices (counted from 0) and unsigned sources: numba then knows none is
    # negative, and adds no test for Python's negative indices to every read (3x slower).
    w, source = weight[sweep.in_start[j] : sweep.in_start[j + 1]], _sources(sweep, j)
    total = like(weight, 0.0)
    for k in range(w.shape[0]):
        total += w[k] * z[source[k]]
    return total


@njit(cache=True)
def _sources(sweep, j):
    return sweep.source[sweep.in_start[j] : sweep.in_start[j + 1]]


@njit(cache=True, fastmath={"contract", "reassoc"})
def _run_sum(weight, z, p, end, first):
    """Σ w_p z_i over edges p .. end-1 from sources first, first+1, …"""
    w, z_run = weight[p:end], z[first : first + (end - p)]
    total = like(weight, 0.0)
    for k in range(w.shape[0]):
        total += w[k] * z_run[k]
    return total


@njit(cache=True, fastmath={"contract"})
def _backward_update(sweep, parameters, start, state, rate, decay, frozen):
    """The backward pass for the one example in ``state``, pushing δ as the module docstring
    says, and each parameter's update, in place; the frozen ones are put back from ``start``."""
    weight, bias = parameters
    units = state.s.shape[0]
    s, z, delta = state.s.reshape(units), state.z.reshape(units), state.delta.reshape(units)
    output_error = state.output_error
    for j in range(units):
        delta[j] = 0.0  # row j collects Σ_k δ_k w_{j→k} as the δ_k arrive
    for g in range(sweep.group_by_runs.shape[0] - 1, -1, -1):
        first, end = sweep.group_start[g], sweep.group_start[g + 1]
        _backward_group(sweep, weight, bias, s, z, delta, output_error, rate, decay, first, end,
                        sweep.group_by_runs[g])  # fmt: skip
    for p in frozen[0]:
        weight[p] = start.weight[p]
    for j in frozen[1]:
        bias[j] = start.bias[j]


@njit(cache=True, fastmath={"contract"})
def _backward_group(sweep, weight, bias, s, z, delta, output_error, rate, decay, first, end,
                    by_runs):  # fmt: skip
    """δ_j of units end-1 .. first, pushed back: by runs if ``by_runs``, else by index (a
    choice the compiler takes out of the loop, since it is the same for every unit)."""
    for j in range(end - 1, first - 1, -1):
        slot = sweep.output_slot[j]
        own = output_error[slot, 0] if slot >= 0 else like(rate, 0.0)
        delta_j, bias[j] = _delta_and_bias(sweep.activation[j], s[j], z[j], delta[j], own,
                                           bias[j], rate, decay)  # fmt: skip
        delta[j] = delta_j
        if by_runs:
            for r in range(sweep.run_start[j], sweep.run_start[j + 1]):
                _push_run(weight, delta, z, sweep.run_edge[r], sweep.run_end[r],
                          sweep.run_source[r], delta_j, rate, decay)  # fmt: skip
        else:
            _push_indexed(sweep, weight, delta, z, j, delta_j, rate, decay)


# Numbers in and out: an array passed to an inlined function is a new reference to it, two
# atomic updates of its count per unit (with the Sweep's arrays passed, 0.90 against 0.79 ns
# an edge on FANN's sparse network); not inlined, the call itself cost 30 ns a unit.


@njit(cache=True, inline="always", fastmath={"contract"})
def _delta_and_bias(code, s_j, z_j, sum_j, own, b_j, rate, decay):
    """δ_j = f'_j(s_j) Σ_k δ_k w_{j→k} + the loss's own part (``own``, 0 but for an output),
    and b_j after its update."""
    delta_j = sum_j * derivative(code, s_j, z_j) + own
    return delta_j, b_j - rate * (delta_j + decay * b_j)


# Weight decay enters as the factor (1 − ηλ) on w, which is exactly 1 when λ = 0, and η δ_j is
# taken once per unit: one loop, where a test of λ = 0 choosing between two loops had made the
# compiled pass 1.4× slower on FANN's sparse network.


@njit(cache=True, fastmath={"contract"})
def _push_indexed(sweep, weight, delta, z, j, delta_j, rate, decay):
    """δ_j w_{i→j} into the δ row of each source i of j, and the update of j's in-edges."""
    w, source = weight[sweep.in_start[j] : sweep.in_start[j + 1]], _sources(sweep, j)
    step, shrink = rate * delta_j, 1 - rate * decay
    for k in range(w.shape[0]):
        i, w_k = source[k], w[k]
        delta[i] += delta_j * w_k
        w[k] = shrink * w_k - step * z[i]


@njit(cache=True, fastmath={"contract"})
def _push_run(weight, delta, z, p, end, first, delta_j, rate, decay):
    """δ_j w_p into the δ rows of sources first, first+1, …, and the update of edges p ..
    end-1."""
    last = first + (end - p)
    w, delta_run, z_run = weight[p:end], delta[first:last], z[first:last]
    step, shrink = rate * delta_j, 1 - rate * decay
    for k in range(w.shape[0]):
        w_k = w[k]
        delta_run[k] += delta_j * w_k
        w[k] = shrink * w_k - step * z_run[k]


@njit(cache=True)
def _copy(source, target):
    copy_vector(target.weight, 0, source.weight, 0, source.weight.shape[0])
    copy_vector(target.bias, 0, source.bias, 0, source.bias.shape[0])


CALL_WORK = 16_000_000
"""About how many edges and units a compiled call of online steps goes through (some 10 to
20 ms): a training loop answers Ctrl-C between calls, and each call copies the parameters
twice."""


class OnlineSteps:
    """What a run of one-example steps of plain gradient descent keeps: a one-column
    workspace, the network's in-edges and objective as the compiled steps read them, the
    parameters each call starts from, and room for the losses of a call's steps.

    Parameters
    ----------
    net : CompiledNetwork
    learning_rate, weight_decay : float
        η and λ, taken in the parameters' precision (as SGD takes them).
    """

    def __init__(self, net: CompiledNetwork, learning_rate: float, weight_decay: float) -> None:
        self.net = net
        self.workspace = net.workspace(1)
        self.sweep = sweep_of(net.plan)
        self.objective = objective_of(net.heads, net.plan.output_positions)
        self.start = Parameters(np.empty_like(net.weight), np.empty_like(net.bias))
        self.steps_per_call = max(1, CALL_WORK // (net.plan.n_edges + net.plan.n_units))
        self.losses = np.empty(self.steps_per_call)
        kind = net.weight.dtype.type
        self.rate, self.decay = kind(learning_rate), kind(weight_decay)

    def steps(
        self,
        x: NDArray[Any],
        y: NDArray[Any],
        spare: Parameters,
        watch: Watch,
        totals: NDArray[Any],
    ) -> int:
        """:func:`descend_one_by_one` on the examples of unit-major ``x`` and ``y`` (at most
        :attr:`steps_per_call` of them), the network's parameters updated in place."""
        net = self.net
        return call(  # type: ignore[no-any-return]
            self.workspace.calls, ("online", *array_key(x), *array_key(y)), descend_one_by_one,
            self.sweep, net.parameters, self.start, spare, self.workspace.state, self.objective,
            x, y, self.rate, self.decay, net.frozen, watch, self.losses, totals,
        )  # fmt: skip
