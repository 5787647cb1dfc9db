"""dagnet gradcheck on the command line: the table, the verdict and the exit code."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import dagnet
from dagnet.cli import main
from dagnet.engine.network import Network
from tests.conftest import EXAMPLES, GRAPHS


def run(runner: CliRunner, *args: str | os.PathLike[str]) -> Result:
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


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
    loose = run(runner, "gradcheck", GRAPHS / "xor.json", "--tolerance", "0.5", "--step", "1e-2")
    assert loose.exit_code == 0, loose.stderr
    # The error counts only what the finite difference's own error cannot explain: a correct
    # engine passes even the strictest tolerance.
    strict = run(runner, "gradcheck", GRAPHS / "xor.json", "--tolerance", "1e-300")
    assert strict.exit_code == 0, strict.stderr
    for bad in ("0", "-1", "nan"):
        assert run(runner, "gradcheck", GRAPHS / "xor.json", "--tolerance", bad).exit_code == 2
    assert run(runner, "gradcheck", GRAPHS / "xor.json", "--step", "1").exit_code == 2


def test_a_sample_and_random_directions(runner: CliRunner) -> None:
    sample = run(runner, "gradcheck", GRAPHS / "multi_output.json", "--sample", "3")
    assert sample.exit_code == 0, sample.stderr
    assert "(3 parameters checked)" in sample.stderr
    directions = run(runner, "gradcheck", GRAPHS / "multi_output.json", "--directions", "2")
    assert directions.exit_code == 0, directions.stderr
    header, *rows = directions.stdout.splitlines()
    assert header.split()[0] == "direction" and len(rows) == 2
    both = run(runner, "gradcheck", GRAPHS / "xor.json", "--sample", "2", "--directions", "2")
    assert both.exit_code == 2


def test_a_sabotaged_gradient_fails_along_random_directions(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    honest = Network.backpropagate

    def sabotaged(self: Network, s, z, y, workspace=None):  # type: ignore[no-untyped-def]
        loss, weight_gradient, bias_gradient = honest(self, s, z, y, workspace)
        weight_gradient[:] *= 1.01
        return loss, weight_gradient, bias_gradient

    monkeypatch.setattr(Network, "backpropagate", sabotaged)
    result = run(runner, "gradcheck", GRAPHS / "multi_output.json", "--directions", "2")
    assert result.exit_code == 1
    assert "gradient check failed: " in result.stderr


def test_kinked_parameters_are_counted_not_failed(runner: CliRunner, write_json: Any) -> None:
    # A relu unit whose net input is exactly 0 for an example: every step crosses its kink.
    document = {
        "format_version": 1,
        "units": [
            {"id": "x", "role": "input"},
            {"id": "h", "activation": "relu"},
            {"id": "y", "role": "output"},
        ],
        "edges": [
            {"source": "x", "target": "h", "weight": 1.0},
            {"source": "h", "target": "y", "weight": 1.0},
        ],
        "data": {"columns": {"x": [0.0, 1.0], "y": [0.5, 0.5]}},
    }
    result = run(runner, "gradcheck", write_json(document))
    assert result.exit_code == 0, result.stderr
    assert "1 parameter not checked: a kink of relu, leaky_relu or elu" in result.stderr
