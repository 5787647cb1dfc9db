"""The table of activations: names, formulas, derivatives, extreme inputs, compiled dispatch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from dagnet.functions.activations import (
    ACTIVATION_NAMES,
    ACTIVATIONS,
    CODES,
    FANN_SIGMOID_STEPS,
    FANN_SIGMOID_SYMMETRIC_STEPS,
    activate,
    activate_row,
    derivative,
    exp_lanes,
    scale_by_derivative,
)

# The formulas of the README's file format section, written with numpy.
FORMULAS = {
    "identity": lambda s: s,
    "sigmoid": lambda s: 1.0 / (1.0 + np.exp(-s)),
    "tanh": np.tanh,
    "relu": lambda s: np.maximum(s, 0.0),
    "leaky_relu": lambda s: np.where(s > 0, s, 0.01 * s),
    "elu": lambda s: np.where(s > 0, s, np.expm1(s)),
    "softplus": lambda s: np.log1p(np.exp(s)),
    "gaussian": lambda s: np.exp(-(s**2)),
    "sin": np.sin,
    "selu": lambda s: np.where(s > 0, 1.0507009873554805 * s,
                               1.0507009873554805 * 1.6732632423543772 * np.expm1(s)),
    "gelu": lambda s: 0.5 * s * (1.0 + np.vectorize(math.erf)(s / math.sqrt(2.0))),
    "silu": lambda s: s / (1.0 + np.exp(-s)),
    "softsign": lambda s: s / (1.0 + np.abs(s)),
    "abs": np.abs,
    "square": lambda s: s**2,
    "cube": lambda s: s**3,
    "exp": np.exp,
    "clamped": lambda s: np.clip(s, -1.0, 1.0),
    "cos": np.cos,
    "hat": lambda s: np.maximum(0.0, 1.0 - np.abs(s)),
    # neat-python's own (neat/activations.py), scale factors and clamps included.
    "neat_sigmoid": lambda s: 1.0 / (1.0 + np.exp(-np.clip(5.0 * s, -60.0, 60.0))),
    "neat_tanh": lambda s: np.tanh(np.clip(2.5 * s, -60.0, 60.0)),
    "neat_sin": lambda s: np.sin(np.clip(5.0 * s, -60.0, 60.0)),
    "neat_gauss": lambda s: np.exp(-5.0 * np.clip(s, -3.4, 3.4) ** 2),
    "neat_softplus": lambda s: 0.2 * np.log(1.0 + np.exp(np.clip(5.0 * s, -60.0, 60.0))),
    "neat_lelu": lambda s: np.where(s > 0, s, 0.005 * s),
    "neat_exp": lambda s: np.exp(np.clip(s, -60.0, 60.0)),
    "neat_inv": lambda s: np.array([0.0 if v == 0 else 1.0 / v for v in s]),
    "neat_log": lambda s: np.log(np.maximum(s, 1e-7)),
    # libfann's (fann_activation.h), written with the sum already multiplied by the steepness.
    "step": lambda s: np.where(s < 0, 0.0, 1.0),
    "step_symmetric": lambda s: np.where(s < 0, -1.0, 1.0),
    "gaussian_symmetric": lambda s: 2.0 * np.exp(-(s**2)) - 1.0,
    "elliot": lambda s: (s / 2.0) / (1.0 + np.abs(s)) + 0.5,
    "linear_piece": lambda s: np.clip(s, 0.0, 1.0),
    "fann_sin": lambda s: np.sin(s) / 2.0 + 0.5,
    "fann_cos": lambda s: np.cos(s) / 2.0 + 0.5,
    "fann_sigmoid_stepwise": lambda s: np.interp(
        s, FANN_SIGMOID_STEPS[0], FANN_SIGMOID_STEPS[1], left=0.0, right=1.0),
    "fann_sigmoid_symmetric_stepwise": lambda s: np.interp(
        s, FANN_SIGMOID_SYMMETRIC_STEPS[0], FANN_SIGMOID_SYMMETRIC_STEPS[1], left=-1.0, right=1.0),
}  # fmt: skip
KINKED = ("relu", "leaky_relu", "selu", "abs", "neat_lelu")
KINKS: dict[str, tuple[float, ...]] = {
    **dict.fromkeys(KINKED, (0.0,)),
    "clamped": (-1.0, 1.0),
    "hat": (-1.0, 0.0, 1.0),
    "neat_sin": (-12.0, 12.0),
    "neat_gauss": (-3.4, 3.4),
    "neat_softplus": (-12.0, 12.0),
    "neat_inv": (0.0,),
    "neat_log": (1e-7,),
    "step": (0.0,),
    "step_symmetric": (0.0,),
    "linear_piece": (0.0, 1.0),
    "fann_sigmoid_stepwise": FANN_SIGMOID_STEPS[0],
    "fann_sigmoid_symmetric_stepwise": FANN_SIGMOID_SYMMETRIC_STEPS[0],
}
"""Where f' jumps (or f itself, for step): central differences must keep away from these."""

GRID = np.concatenate([np.linspace(-20.0, 20.0, 401), [0.0, 1e-8, -1e-8, 0.5, -0.5]])
EXTREMES = [-1e3, -700.0, 0.0, 700.0, 1e3]


def apply(function, s: np.ndarray) -> np.ndarray:
    return np.array([function(float(value)) for value in s])


def pair(name: str, compiled: bool = True):
    """(f, f') of an activation as functions of s alone, compiled or as plain Python."""
    entry = ACTIVATIONS[name]
    f, d = (entry.f, entry.derivative) if compiled else (entry.f.py_func, entry.derivative.py_func)
    return f, lambda s: d(s, f(s))


def test_every_entry_has_its_formula_and_its_code_is_its_place() -> None:
    assert tuple(FORMULAS) == ACTIVATION_NAMES
    assert tuple(CODES) == ACTIVATION_NAMES
    assert list(CODES.values()) == list(range(len(ACTIVATION_NAMES)))


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_f_is_the_formula(name: str) -> None:
    f = ACTIVATIONS[name].f
    assert_allclose(apply(f, GRID), FORMULAS[name](GRID), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_derivative_matches_central_differences(name: str) -> None:
    f, f_prime = pair(name)
    kinks = np.array(KINKS.get(name, ()))
    s = GRID[np.all(np.abs(GRID[:, None] - kinks[None, :]) > 1e-3, axis=1)] if kinks.size else GRID
    if name == "neat_inv":  # 1/s changes too fast near 0 for a step of 1e-6
        s = s[np.abs(s) > 0.05]
    h = 1e-6
    numeric = (apply(f, s + h) - apply(f, s - h)) / (2 * h)
    assert_allclose(apply(f_prime, s), numeric, rtol=1e-6, atol=1e-8)


JUMPS = ("step", "step_symmetric", "fann_sigmoid_stepwise", "fann_sigmoid_symmetric_stepwise")
"""Where f itself jumps (libfann's stepwise sigmoids start at their first breakpoint's value)."""


@pytest.mark.parametrize("name", [n for n in KINKS if n not in JUMPS])
def test_derivative_at_each_kink_is_the_left_slope(name: str) -> None:
    f, f_prime = pair(name)
    h = 1e-7
    for kink in KINKS[name]:
        if name == "neat_inv":
            continue  # f' is −1/s², unbounded on both sides of 0
        left = (f(kink) - f(kink - h)) / h
        assert f_prime(kink) == pytest.approx(left, rel=1e-5, abs=1e-6), kink


@pytest.mark.parametrize("name", ("relu", "leaky_relu", "abs", "neat_lelu"))
def test_derivative_at_the_kink_is_the_left_slope(name: str) -> None:
    f, f_prime = pair(name)
    assert f(0.0) == 0.0
    assert f_prime(0.0) == f_prime(-1.0)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "plain-python"])
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_f_and_derivative_stay_finite(name: str, compiled: bool) -> None:
    # The reference engine calls the plain-Python functions, where math.exp can overflow.
    f, f_prime = pair(name, compiled)
    for s in EXTREMES:
        assert math.isfinite(f(s)), s
        assert math.isfinite(f_prime(s)), s


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_plain_python_functions_agree_with_compiled(name: str) -> None:
    # f' from z (tanh' = 1 − z²) cancels where z is near 1, so the compiler's fused
    # multiply-add may differ from Python's rounding there by an ulp of 1, no more.
    for compiled, plain in zip(pair(name), pair(name, compiled=False), strict=True):
        assert_allclose(apply(plain, GRID), apply(compiled, GRID), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_compiled_dispatch_agrees_with_the_table(name: str) -> None:
    f, f_prime = pair(name)
    code = CODES[name]
    s = np.concatenate([GRID, EXTREMES])
    z = apply(f, s)
    assert_array_equal([activate(code, value) for value in s], z)
    # The dispatch may compute f' from z = f(s) (elu' = z + 1 for s ≤ 0): equal up to rounding.
    dispatched = np.array([derivative(code, a, b) for a, b in zip(s, z, strict=True)])
    assert np.all(np.isfinite(dispatched))
    assert_allclose(dispatched, apply(f_prime, s), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_array_formulas_agree_with_the_compiled_scalars(name: str) -> None:
    # The rivals and exporters compute f over arrays; they must compute the same f and f'.
    # f' from z (neat_sigmoid' = 5 z (1 − z)) turns z's last bit near 1, where the two ways of
    # computing z may round apart by an ulp or two, into up to 5 · 2 · 1.1e-16 of f'.
    entry, (f, f_prime) = ACTIVATIONS[name], pair(name)
    s = np.concatenate([GRID, EXTREMES])
    z = entry.array(s, np)
    assert_allclose(z, apply(f, s), rtol=1e-13, atol=1e-300)
    assert_allclose(entry.array_derivative(s, z, np), apply(f_prime, s), rtol=1e-12, atol=1.2e-15)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_row_dispatch_agrees_with_the_scalars(name: str) -> None:
    code, (_, f_prime) = CODES[name], pair(name)
    s = np.concatenate([GRID, EXTREMES])
    rows = np.stack([np.zeros_like(s), s, np.zeros_like(s)])  # row 1 of three, a part of it
    z, delta = np.full_like(rows, 7.0), np.full_like(rows, 2.0)
    activate_row(code, rows, 1, z, 2, 1, len(s))
    scale_by_derivative(code, rows, np.roll(z, -1, axis=0), 1, delta, 0, 1, len(s))
    assert_array_equal(z[2, 1:], [activate(code, value) for value in s[1:]])
    assert (z[:2] == 7.0).all() and z[2, 0] == 7.0  # nothing outside the row's part
    assert_allclose(delta[0, 1:], 2.0 * apply(f_prime, s[1:]), rtol=1e-12, atol=1e-15)
    assert (delta[1:] == 2.0).all() and delta[0, 0] == 2.0


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_autograd_of_the_array_form_is_the_tables_derivative(name: str) -> None:
    # PyTorch (the rivals, the exporter) differentiates the array form itself; at a kink it must
    # take the same side as f' (relu'(0) = 0, elu'(0) = 1).
    torch = pytest.importorskip("torch")
    entry = ACTIVATIONS[name]
    s = torch.tensor([-3.0, -1.0, -1e-9, 0.0, 1e-9, 0.5, 3.0], dtype=torch.float64)
    s.requires_grad_(True)
    z = entry.array(s, torch)
    (slope,) = torch.autograd.grad(z.sum(), s)
    expected = entry.array_derivative(s.detach(), z.detach(), torch)
    assert_allclose(slope.numpy(), expected.numpy(), rtol=1e-12, atol=1e-15)


def ulps_apart(a: float, b: float, dtype: type = np.float64) -> int:
    """How many floats of ``dtype`` lie between a and b (both ≥ 0, or both ≤ 0)."""
    bits = np.int64 if dtype is np.float64 else np.int32
    pair = np.array([a, b], dtype).view(bits).astype(np.int64)
    return int(abs(pair[0] - pair[1]))


# Over the whole range, from where e^t is 0 (below −745.13) through the subnormal results
# (below −708.4) to where it is inf (above 709.7827); and near 0 on a finer scale.
EXP_ARGUMENTS = st.one_of(st.floats(-800.0, 800.0), st.floats(-746.0, -700.0), st.floats(-1.0, 1.0))


@settings(max_examples=3000, deadline=None)
@given(EXP_ARGUMENTS)
@example(709.78125)  # the largest results: finite, just under the largest float
@example(709.7827128933841)  # the first argument whose e^t overflows
def test_exp_lanes_is_within_2_ulp_of_math_exp(t: float) -> None:
    try:
        expected = math.exp(t)
    except OverflowError:  # above ln(max float) = 709.7827...
        expected = math.inf
    assert ulps_apart(exp_lanes(t), expected) <= 2, t


@settings(max_examples=2000, deadline=None)
@given(st.floats(-110.0, 95.0, width=32))
def test_exp_lanes_in_float32_is_within_2_ulp_of_exp_rounded_to_float32(t: float) -> None:
    found = exp_lanes(np.float32(t))
    with np.errstate(over="ignore"):
        expected = np.float32(np.exp(np.float64(t)))
    assert ulps_apart(found, expected, np.float32) <= 2, t


def test_exp_lanes_at_the_ends() -> None:
    assert exp_lanes(-math.inf) == 0.0 and exp_lanes(math.inf) == math.inf
    assert exp_lanes(-1e300) == 0.0 and exp_lanes(1e300) == math.inf
    assert math.isnan(exp_lanes(math.nan))
    assert exp_lanes(0.0) == 1.0 and exp_lanes(-745.1) == math.exp(-745.1) == 5e-324


@settings(max_examples=2000, deadline=None)
@given(st.floats(-30.0, 30.0))
def test_tanh_is_within_2_ulp_of_math_tanh(s: float) -> None:
    found, expected = ACTIVATIONS["tanh"].f(s), math.tanh(s)
    assert ulps_apart(abs(found), abs(expected)) <= 2, s
    assert (found > 0.0) == (expected > 0.0) and (found < 0.0) == (expected < 0.0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gaussian", "neat_sigmoid", "neat_tanh"])
def test_float32_rows_compute_in_float32(name: str) -> None:
    s = np.linspace(-5.0, 5.0, 101, dtype=np.float32)
    z = np.empty_like(s)
    activate_row(CODES[name], s[np.newaxis], 0, z[np.newaxis], 0, 0, len(s))
    assert_allclose(z, FORMULAS[name](s.astype(np.float64)), rtol=3e-7, atol=1e-7)
