"""Check the engine's gradients against finite differences that know their own error.

For a parameter θ (a weight or a bias) the mean loss E over a batch is differenced at θ ± h,
θ ± 2h and θ ± 4h, and the central differences D(h), D(2h), D(4h) are combined by Richardson
extrapolation, ĝ = (4 D(h) − D(2h)) / 3, whose truncation error is O(h⁴). The step is chosen per
parameter, so that it moves the unit's net input s_j by ``step`` × (1 + RMS of s_j) whatever the
scale of the weight's source. The finite difference's own error is *estimated*, not assumed:
its truncation by the disagreement of the two extrapolations (from h, 2h and from 2h, 4h) and
its rounding from the size of the loss terms and of the outputs at float64. A parameter's
*relative error* is the part of |g − ĝ| that this estimate does not explain, over the
gradient: max(0, |g − ĝ| − uncertainty) / max(|g|, |ĝ|); a correct engine scores 0 up to the
tolerance, and a gradient wrong by a fraction r scores about r wherever float64 can tell.
Perturbing θ only changes the units downstream of its unit, so each difference recomputes only
those (their change, from the perturbed in-edges), for all perturbations of a unit in one
compiled, threaded call; the loss differences are taken example by example, so the loss terms
of outputs and examples the step does not reach cancel exactly. Where a kink (a place the
activation's table entry names, where f, f' or f'' jumps: relu's 0) lies between θ − 4h and
θ + 4h for some example, the difference means nothing: the step is shrunk tenfold, up to four
times, and a parameter still astride a kink is counted and reported, not checked.
:func:`directional_check` checks random directions instead, one difference pair each for all the
parameters at once, for networks too large to check parameter by parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import get_num_threads, njit, prange
from numpy.typing import ArrayLike, NDArray

from dagnet.engine.network import Network, unit_major
from dagnet.errors import ArgumentError
from dagnet.functions.activations import ACTIVATIONS, activate
from dagnet.functions.losses import head_delta, head_terms

__all__ = [
    "STEP",
    "TOLERANCE",
    "Differences",
    "DirectionCheck",
    "UnitCheck",
    "directional_check",
    "finite_differences",
    "gradcheck",
    "relative_error",
]

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

STEP = 1e-3
"""The default step h, as a change of the unit's net input relative to 1 + its RMS."""

TOLERANCE = 1e-5
"""The default largest relative error (beyond the finite difference's own) a check accepts."""

SHRINK, RETRIES = 10.0, 4
"""A step astride a kink is divided by SHRINK, up to RETRIES times."""

MULTIPLES = (1.0, 2.0, 4.0)
"""The steps differenced, as multiples of h."""

ROUNDING = 10 * np.finfo(np.float64).eps
"""The rounding of one output, per level of the network, relative to (1 + |ŷ|)."""


def _knots() -> NDArray[np.float64]:
    """Each activation's kinks (its table entry's), by code, padded with NaN, which no value
    crosses."""
    kinks = [entry.kinks for entry in ACTIVATIONS.values()]
    table = np.full((len(kinks), max(1, *map(len, kinks))), np.nan)
    for code, knots in enumerate(kinks):
        table[code, : len(knots)] = knots
    return table


KNOTS = _knots()
"""(activations, most kinks): where each activation's f, f' or f'' jumps."""
"""Per activation code: whether a step may cross s = 0."""

CHUNK = 1 << 22
"""At most this many perturbed output values are held at once."""


@dataclass(frozen=True)
class UnitCheck:
    """The worst parameter of one unit: its weights in and its bias.

    ``parameter`` names it as ``(source, target)`` for a weight or the unit id for the bias;
    ``uncertainty`` is the estimated error of its finite difference; ``kinks`` counts the
    unit's parameters left unchecked because a kink of its activation lay in every step.
    """

    unit: str
    parameters: int
    parameter: tuple[str, str] | str
    engine: float
    finite_difference: float
    relative_error: float
    uncertainty: float = 0.0
    kinks: int = 0


@dataclass(frozen=True)
class Differences:
    """Finite differences of the mean loss per weight and per bias (Plan order).

    ``*_uncertainty`` is each one's estimated error; ``*_kinked`` marks those whose every step
    crossed a kink (their estimate is NaN). Input units have no bias: 0, uncertainty 0.
    """

    weight: Array
    bias: Array
    weight_uncertainty: Array
    bias_uncertainty: Array
    weight_kinked: NDArray[np.bool_]
    bias_kinked: NDArray[np.bool_]


@dataclass(frozen=True)
class DirectionCheck:
    """One random direction v: the engine's g·v against the finite difference along v."""

    engine: float
    finite_difference: float
    uncertainty: float
    relative_error: float
    kinked: bool = False


def relative_error(
    engine: ArrayLike, finite_difference: ArrayLike, uncertainty: ArrayLike = 0.0
) -> Array:
    """max(0, |g − ĝ| − uncertainty) / max(|g|, |ĝ|), elementwise; 0 where both are 0.

    Examples
    --------
    >>> relative_error([1.0, 1e-12, 0.0], [1.001, 0.0, 0.0]).round(6).tolist()
    [0.000999, 1.0, 0.0]
    >>> relative_error([1e-12], [0.0], [1e-11]).tolist()  # within the difference's own error
    [0.0]
    """
    g, g_hat = np.asarray(engine, dtype=np.float64), np.asarray(finite_difference, np.float64)
    excess = np.maximum(np.abs(g - g_hat) - np.asarray(uncertainty, np.float64), 0.0)
    scale = np.maximum(np.abs(g), np.abs(g_hat))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(excess > 0, excess / np.where(scale > 0, scale, 1.0), 0.0)


@njit(cache=True)
def _own_outputs(activation, n_inputs, s, z):  # type: ignore[no-untyped-def]
    """z_j = f(s_j) for every non-input unit, computed as the perturbed passes compute it."""
    for k in range(n_inputs, s.shape[0]):
        for n in range(s.shape[1]):
            z[k, n] = activate(activation[k], s[k, n])


@njit(cache=True, parallel=True)
def _perturbed(  # type: ignore[no-untyped-def]
    in_start,
    in_source,
    activation,
    output_slot,
    knots,
    weight,
    s,
    z,
    j,
    sources,
    steps,
    out,
    out_s,
    threads,
):
    """For each perturbation t of unit j's net input, s_j += steps[t] · z[sources[t]] (or
    steps[t] for the bias, source −1), the outputs ŷ into out[t] (outputs, N) and their net
    inputs into out_s[t] (the losses that compute E from s need them), recomputing
    only the units downstream of j from the change of their perturbed in-edges. Returns a flag
    per perturbation: whether a unit's net input crossed a kink of its activation."""
    n_units, n = z.shape
    local = np.full(n_units, -1, np.int64)
    local[j] = 0
    count = 1
    for k in range(j + 1, n_units):
        for p in range(in_start[k], in_start[k + 1]):
            if local[in_source[p]] >= 0:
                local[k] = count
                count += 1
                break
    down = np.empty(count, np.int64)
    for k in range(j, n_units):
        if local[k] >= 0:
            down[local[k]] = k
    total = len(steps)
    kinked = np.zeros(total, np.bool_)
    threads = max(1, min(total, threads))
    for c in prange(threads):
        dz = np.empty((count, n))
        ds = np.empty(n)
        for t in range(c * total // threads, (c + 1) * total // threads):
            for a in range(count):
                k = down[a]
                if a == 0:
                    src = sources[t]
                    for m in range(n):
                        ds[m] = steps[t] * (z[src, m] if src >= 0 else 1.0)
                else:
                    ds[:] = 0.0
                    for p in range(in_start[k], in_start[k + 1]):
                        b = local[in_source[p]]
                        if b >= 0:
                            w = weight[p]
                            for m in range(n):
                                ds[m] += w * dz[b, m]
                code = activation[k]
                slot = output_slot[k]
                for m in range(n):
                    s_new = s[k, m] + ds[m]
                    z_new = activate(code, s_new)
                    dz[a, m] = z_new - z[k, m]
                    if slot >= 0:
                        out[t, slot, m] = z_new
                        out_s[t, slot, m] = s_new
                    for knot in knots[code]:  # NaN pads: never crossed
                        if (s_new > knot) != (s[k, m] > knot):
                            kinked[t] = True
    return kinked


class _Checker:
    """The base state of one batch, and the perturbed passes over it."""

    def __init__(self, net: Network, inputs: ArrayLike, targets: ArrayLike) -> None:
        if net.dtype != np.float64:
            raise ArgumentError(
                "a gradient check needs a float64 network: float32 gradients are only good "
                "to about 1e-7, far coarser than the check"
            )
        plan = self.plan = net.plan
        self.net = net
        self.x = unit_major(inputs, net.input_ids, "inputs")
        self.y = unit_major(targets, net.output_ids, "targets")
        s, _ = net.evaluate(self.x.astype(net.dtype))
        self.s = np.ascontiguousarray(s, dtype=np.float64)
        self.z = np.empty_like(self.s)
        self.z[: plan.n_inputs] = self.x
        self.weight = np.ascontiguousarray(net.weight, dtype=np.float64)
        self.bias = np.ascontiguousarray(net.bias, dtype=np.float64)
        _own_outputs(plan.activation, plan.n_inputs, self.s, self.z)
        self.y_hat = self.z[plan.output_positions]
        self.s_out = self.s[plan.output_positions]
        heads = net.heads
        self.base_terms = np.sum(head_terms(heads, self.s_out, self.y_hat, self.y, np), axis=0)
        # The rounding of a loss difference: each example's share, at most ε (1 + |ŷ|) per
        # level for every output, weighted by the size of its error; independent from example
        # to example.
        error = head_delta(heads, self.s_out, self.y_hat, np.ones_like(self.y_hat), self.y, np)
        share = np.sum(np.abs(error) * (1 + np.abs(self.y_hat)), axis=0)
        depth = int(plan.levels().max()) + 1
        n = self.x.shape[1]
        self.rounding = ROUNDING * depth * float(np.sqrt(np.sum(share**2) + share.max() ** 2)) / n
        rms = np.sqrt(np.mean(self.s**2, axis=1))
        self.scale = 1.0 + rms
        rms_z = np.sqrt(np.mean(self.z**2, axis=1))
        self.rms_z = np.where(rms_z > 0, rms_z, 1.0)
        self.edge_target = np.repeat(np.arange(plan.n_units), np.diff(plan.in_start))

    def steps(self, parameters: IntArray, step: float) -> Array:
        """h per parameter (flat: weights in Plan order, then biases) for the relative step."""
        plan = self.plan
        is_weight = parameters < plan.n_edges
        edge = np.where(is_weight, parameters, 0)
        unit = np.where(is_weight, self.edge_target[edge], parameters - plan.n_edges)
        source_size = np.where(is_weight, self.rms_z[plan.in_source[edge]], 1.0)
        return np.asarray(step * self.scale[unit] / source_size, np.float64)

    def differences(
        self, parameters: IntArray, step: float
    ) -> tuple[Array, Array, NDArray[np.bool_]]:
        """Estimate, uncertainty and kinked flag for each flat parameter index."""
        estimate = np.full(len(parameters), np.nan)
        uncertainty = np.zeros(len(parameters))
        pending = np.arange(len(parameters))
        for attempt in range(RETRIES + 1):
            kinked = self._differences(parameters[pending], step, estimate, uncertainty, pending)
            pending = pending[kinked]
            if not len(pending):
                break
            step /= SHRINK
            if attempt == RETRIES:
                break
        flags = np.zeros(len(parameters), np.bool_)
        flags[pending] = True
        estimate[pending] = np.nan
        uncertainty[pending] = np.nan
        return estimate, uncertainty, flags

    def _differences(
        self, parameters: IntArray, step: float, estimate: Array, uncertainty: Array, at: IntArray
    ) -> NDArray[np.bool_]:
        plan = self.plan
        h = self.steps(parameters, step)
        is_weight = parameters < plan.n_edges
        unit = np.where(
            is_weight,
            self.edge_target[np.where(is_weight, parameters, 0)],
            parameters - plan.n_edges,
        )
        source = np.where(is_weight, plan.in_source[np.where(is_weight, parameters, 0)], -1)
        kinked = np.zeros(len(parameters), np.bool_)
        n_outputs, n = self.y_hat.shape
        chunk = max(1, CHUNK // (len(MULTIPLES) * 2 * n_outputs * n))
        heads = self.net.heads
        multiples = np.array(MULTIPLES)
        signs = np.repeat(multiples, 2) * np.tile([1.0, -1.0], len(MULTIPLES))
        for j in np.unique(unit):
            mine = np.flatnonzero(unit == j)
            for lo in range(0, len(mine), chunk):
                part = mine[lo : lo + chunk]
                sources = np.repeat(source[part], len(signs)).astype(np.int64)
                steps = (h[part][:, None] * signs[None, :]).ravel()
                out = np.empty((len(steps), n_outputs, n))
                out[:] = self.y_hat
                out_s = np.empty_like(out)
                out_s[:] = self.s_out
                flags = _perturbed(
                    plan.in_start,
                    plan.in_source,
                    plan.activation,
                    plan.output_slot,
                    KNOTS,
                    self.weight,
                    self.s,
                    self.z,
                    int(j),
                    sources,
                    steps,
                    out,
                    out_s,
                    get_num_threads(),
                )
                # The heads' formulas take the outputs along axis 0: (outputs, steps, N).
                terms = head_terms(
                    heads,
                    out_s.transpose(1, 0, 2),
                    out.transpose(1, 0, 2),
                    np.broadcast_to(self.y[:, None, :], (n_outputs, len(steps), n)),
                    np,
                )
                terms = np.sum(terms, axis=0).reshape(len(part), len(MULTIPLES), 2, n)
                # (E(θ + kh) − E(θ − kh)) / 2kh, differenced example by example
                d = np.mean(terms[:, :, 0] - terms[:, :, 1], axis=2) / (
                    2 * h[part][:, None] * multiples
                )
                first = (4 * d[:, 0] - d[:, 1]) / 3
                second = (4 * d[:, 1] - d[:, 2]) / 3
                rounding = self.rounding * 5 / 3 / h[part]
                estimate[at[part]] = first
                uncertainty[at[part]] = np.abs(first - second) + rounding
                kinked[part] = flags.reshape(len(part), -1).any(axis=1)
        return kinked


def finite_differences(
    net: Network,
    inputs: ArrayLike,
    targets: ArrayLike,
    step: float = STEP,
    parameters: ArrayLike | None = None,
) -> Differences:
    """Richardson-extrapolated central differences of the mean loss, with their error.

    Parameters
    ----------
    net : Network
        Left as it was found.
    inputs, targets : array_like, shapes (N, input units), (N, output units)
    step : float
        h, as the change of the unit's net input relative to 1 + its RMS.
    parameters : array_like of int, optional
        Which to difference, numbered flat: the weights in Plan order, then the biases by Plan
        position; the others are NaN. Default: every one.

    Returns
    -------
    Differences

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "y", "weight": 2.0}]})
    >>> d = finite_differences(dagnet.Network(graph), [[1.0]], [[0.5]])
    >>> d.weight.round(10).tolist(), d.bias.round(10).tolist()  # δ_y z_x = (2 − 0.5) · 1
    ([1.5], [0.0, 1.5])
    """
    checker = _Checker(net, inputs, targets)
    plan = checker.plan
    everything = np.concatenate(
        [np.arange(plan.n_edges), plan.n_edges + np.arange(plan.n_inputs, plan.n_units)]
    )
    chosen = everything if parameters is None else np.asarray(parameters, np.int64)
    if chosen.ndim != 1 or np.any(chosen < 0) or np.any(chosen >= plan.n_edges + plan.n_units):
        raise ArgumentError("parameters must be flat indices of weights, then biases")
    estimate, uncertainty, kinked = checker.differences(chosen, step)
    size = plan.n_edges + plan.n_units
    values, errors, flags = np.full(size, np.nan), np.full(size, np.nan), np.zeros(size, bool)
    values[plan.n_edges : plan.n_edges + plan.n_inputs] = 0.0
    errors[plan.n_edges : plan.n_edges + plan.n_inputs] = 0.0
    values[chosen], errors[chosen], flags[chosen] = estimate, uncertainty, kinked
    e = plan.n_edges
    return Differences(values[:e], values[e:], errors[:e], errors[e:], flags[:e], flags[e:])


def gradcheck(
    net: Network,
    inputs: ArrayLike,
    targets: ArrayLike,
    step: float = STEP,
    *,
    sample: int | None = None,
    seed: int = 0,
) -> list[UnitCheck]:
    """Compare backpropagation with finite differences; the worst parameter of each unit.

    Parameters
    ----------
    net : Network
    inputs : array_like, shape (N, input units)
    targets : array_like, shape (N, output units)
    step : float
        h, as the change of the unit's net input relative to 1 + its RMS.
    sample : int, optional
        Check only this many parameters, drawn at random (from ``seed``); units none of whose
        parameters were drawn are left out.

    Returns
    -------
    list of UnitCheck
        One per non-input unit, in execution order.

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "y", "weight": 2.0}]})
    >>> [check] = gradcheck(dagnet.Network(graph), [[1.0], [2.0]], [[0.5], [3.0]])
    >>> check.unit, check.parameters, check.relative_error
    ('y', 2, 0.0)
    """
    plan = net.plan
    checker = _Checker(net, inputs, targets)  # refuses a float32 network before any work
    s, z = net.evaluate(checker.x)
    _, weight_gradient, bias_gradient = net.backpropagate(s, z, checker.y)
    g = np.concatenate([weight_gradient, bias_gradient]).astype(np.float64)
    chosen = None
    if sample is not None:
        every = np.concatenate(
            [np.arange(plan.n_edges), plan.n_edges + np.arange(plan.n_inputs, plan.n_units)]
        )
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(every, size=min(sample, len(every)), replace=False))
    d = finite_differences(net, inputs, targets, step, chosen)
    g_hat = np.concatenate([d.weight, d.bias])
    uncertainty = np.concatenate([d.weight_uncertainty, d.bias_uncertainty])
    kinked = np.concatenate([d.weight_kinked, d.bias_kinked])
    checked = ~np.isnan(g_hat) & ~kinked
    error = np.where(checked, relative_error(g, np.nan_to_num(g_hat), uncertainty), 0.0)
    checks = []
    for j in range(plan.n_inputs, plan.n_units):
        # The bias first, then the in-edges: on a tie the bias is named.
        indices = np.concatenate(
            [[plan.n_edges + j], np.arange(plan.in_start[j], plan.in_start[j + 1])]
        ).astype(np.int64)
        looked = indices[checked[indices] | kinked[indices]]
        if not len(looked):
            continue
        ok = indices[checked[indices]]
        # The largest error; among parameters within tolerance of their own uncertainty (error
        # 0), the one whose finite difference strays furthest from the engine's gradient.
        raw = relative_error(g[ok], g_hat[ok])
        worst = int(ok[np.lexsort((-raw, -error[ok]))[0]]) if len(ok) else int(looked[0])
        parameter: tuple[str, str] | str = (
            (plan.unit_ids[plan.in_source[worst]], plan.unit_ids[j])
            if worst < plan.n_edges
            else plan.unit_ids[j]
        )
        checks.append(
            UnitCheck(
                plan.unit_ids[j],
                len(looked),
                parameter,
                float(g[worst]),
                float(g_hat[worst]),
                float(error[worst]),
                float(uncertainty[worst]),
                int(np.sum(kinked[indices])),
            )
        )
    return checks


def directional_check(
    net: Network,
    inputs: ArrayLike,
    targets: ArrayLike,
    directions: int,
    step: float = STEP,
    seed: int = 0,
) -> list[DirectionCheck]:
    """Check the gradient along random directions: g·v against the difference along v.

    Each direction v moves every weight and bias at once, by a random sign times that
    parameter's step scale (as :func:`finite_differences` chooses it), so one Richardson
    triple of difference pairs checks all the parameters together: a wrong ∂E/∂θ anywhere shows
    unless the random signs happen to hide it. The passes are the engine's full forward passes.

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.load_graph("graphs/xor.json")
    >>> net, data = dagnet.Network(graph), dagnet.load_data(graph, base="graphs")
    >>> [check.relative_error for check in directional_check(net, data.inputs,
    ...     data.targets, directions=2)]
    [0.0, 0.0]
    """
    checker = _Checker(net, inputs, targets)
    plan, x, y = checker.plan, checker.x, checker.y
    every = np.concatenate(
        [np.arange(plan.n_edges), plan.n_edges + np.arange(plan.n_inputs, plan.n_units)]
    )
    scale = checker.steps(every, 1.0)
    s, z = net.evaluate(x.astype(net.dtype))
    _, weight_gradient, bias_gradient = net.backpropagate(s, z, y.astype(net.dtype))
    g = np.concatenate([weight_gradient, bias_gradient[plan.n_inputs :]]).astype(np.float64)
    weight, bias = net.weight.copy(), net.bias.copy()
    base_s = checker.s
    unit_knots = KNOTS[plan.activation][:, :, None]  # (units, kinks, 1): NaN never crosses
    rng = np.random.default_rng(seed)
    results = []
    try:
        for _ in range(directions):
            v = rng.choice([-1.0, 1.0], size=len(every)) * scale
            eta = step
            for _attempt in range(RETRIES + 2):
                terms, kinked = [], False
                for multiple in MULTIPLES:
                    for sign in (1.0, -1.0):
                        t = sign * multiple * eta
                        net.weight[:] = weight + t * v[: plan.n_edges]
                        net.bias[plan.n_inputs :] = bias[plan.n_inputs :] + t * v[plan.n_edges :]
                        s_t, z_t = net.evaluate(x.astype(net.dtype))
                        crossed = (s_t[:, None, :] > unit_knots) != (
                            base_s[:, None, :] > unit_knots
                        )
                        if np.any(crossed[plan.n_inputs :]):
                            kinked = True
                        terms.append(np.sum(net.output_terms(s_t, z_t, y), axis=0))
                if not kinked:
                    break
                eta /= SHRINK
            d = [
                float(np.mean(terms[2 * k] - terms[2 * k + 1])) / (2 * MULTIPLES[k] * eta)
                for k in range(len(MULTIPLES))
            ]
            first, second = (4 * d[0] - d[1]) / 3, (4 * d[1] - d[2]) / 3
            uncertainty = abs(first - second) + checker.rounding * 5 / 3 / eta
            engine = float(g @ v)
            error = 0.0 if kinked else float(relative_error(engine, first, uncertainty))
            results.append(DirectionCheck(engine, first, uncertainty, error, kinked))
    finally:
        net.weight[:] = weight
        net.bias[:] = bias
    return results
