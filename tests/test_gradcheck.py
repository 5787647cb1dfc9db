"""dagnet gradcheck: backpropagation against central finite differences, worst error per unit."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

import dagnet
from dagnet.cli import main
from dagnet.showing.gradcheck import FLOOR, finite_differences, gradcheck, relative_error
from dagnet.engine.network import Network
from tests.conftest import EXAMPLES, GRAPHS, small_graph


def run(runner: CliRunner, *args: str | os.PathLike[str]) -> Result:
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_relative_error_is_a_ratio_above_the_floor_and_absolute_below_it() -> None:
    assert relative_error(2.0, 2.002)[()] == pytest.approx(0.001 / 1.001)
    assert relative_error(-1.0, 1.0)[()] == pytest.approx(2.0)
    # Two rounding errors near zero are not a 100% error: the floor scales them.
    assert relative_error(1e-15, -1e-15)[()] == pytest.approx(2e-15 / FLOOR)
    assert relative_error(0.0, 0.0)[()] == 0.0


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_engine_passes_on_every_example(name: str) -> None:
    graph = dagnet.load_graph(GRAPHS / f"{name}.json")
    net = Network(graph, seed=1)
    data = dagnet.load_data(graph, base=GRAPHS)
    weight, bias = net.weight.copy(), net.bias.copy()
    checks = gradcheck(net, data.inputs, data.targets)
    assert [check.unit for check in checks] == list(net.plan.unit_ids[net.plan.n_inputs :])
    assert max(check.relative_error for check in checks) < 1e-6
    # The check perturbs the parameters in place and must put every one back exactly.
    assert np.array_equal(net.weight, weight) and np.array_equal(net.bias, bias)


def test_finite_differences_match_a_hand_computed_gradient() -> None:
    # y = 2x + b, E = ½ (y − t)² averaged: ∂E/∂w = mean((2x − t) x), ∂E/∂b = mean(2x − t).
    graph = dagnet.Graph.model_validate(
        small_graph(units=small_graph()["units"][::2], edges=[small_graph()["edges"][2]])
    )
    net = Network(graph)
    net.weights = [2.0]
    x, t = np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])
    weight, bias = finite_differences(net, x, t)
    assert weight[0] == pytest.approx(((2 * x - t) * x).mean(), rel=1e-8)
    assert bias[1] == pytest.approx((2 * x - t).mean(), rel=1e-8)
    assert bias[0] == 0.0  # the input unit has no bias


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_command_passes_on_every_example(runner: CliRunner, name: str) -> None:
    result = run(runner, "gradcheck", GRAPHS / f"{name}.json")
    assert result.exit_code == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:3] == ["unit", "parameters", "worst"]
    graph = dagnet.load_graph(GRAPHS / f"{name}.json")
    assert len(rows) == sum(unit.role != "input" for unit in graph.units)
    assert all(float(row.split()[-1]) < 1e-5 for row in rows)
    assert "gradient check passed" in result.stderr


def test_a_sabotaged_gradient_fails_with_exit_1(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    honest = Network.backpropagate

    def sabotaged(self: Network, s, z, y):  # type: ignore[no-untyped-def]
        loss, weight_gradient, bias_gradient = honest(self, s, z, y)
        weight_gradient[self.plan.in_start[-2]] *= 1.01  # the first in-edge of the last unit
        return loss, weight_gradient, bias_gradient

    monkeypatch.setattr(Network, "backpropagate", sabotaged)
    result = run(runner, "gradcheck", GRAPHS / "multi_output.json")
    assert result.exit_code == 1
    assert "gradient check failed: 1 of 4 units above the tolerance 1e-05" in result.stderr
    assert "(unit o, w[j->o])" in result.stderr
    [row] = [row for row in result.stdout.splitlines() if row.startswith("o ")]
    assert float(row.split()[-1]) == pytest.approx(0.01 / 1.01, rel=1e-3)


def test_the_tolerance_can_be_loosened_and_is_checked(runner: CliRunner, tmp_path: Path) -> None:
    loose = run(runner, "gradcheck", GRAPHS / "xor.json", "--tolerance", "0.5", "--epsilon", "1e-4")
    assert loose.exit_code == 0, loose.stderr
    strict = run(runner, "gradcheck", GRAPHS / "xor.json", "--tolerance", "1e-300")
    assert strict.exit_code == 1
    for bad in ("0", "-1", "nan"):
        assert run(runner, "gradcheck", GRAPHS / "xor.json", "--tolerance", bad).exit_code == 2
