"""dagnet explain on the command line: a network's equations, and one step with numbers."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

import dagnet
from dagnet.cli import main
from tests.conftest import EXAMPLES, GRAPHS, small_graph

# The derivation's case 3 (graphs/derivation.md, graphs/multi_output.json): δ_o = ŷ−y,
# δ_k = δ_o w_{k→o} σ'(s_k), δ_j = δ_o w_{j→o} σ'(s_j), δ_i = σ'(s_i)(δ_j w_{i→j} + δ_k w_{i→k}),
# Δw = −(η/N) Σ_n δ_j z_i.
MULTI_OUTPUT = """\
multi_output: 5 units (1 input, 3 hidden, 1 output), 5 edges; E = ½ Σ_o (ŷ_o − y_o)² per example.
s_j is the net input of unit j, z_j = f_j(s_j) its output, δ_j = ∂E/∂s_j its error signal;
η is the learning rate, N the minibatch size.

Forward pass, in topological order:
  s_i = b_i + w_{x→i} · z_x,  z_i = σ(s_i)
  s_j = b_j + w_{i→j} · z_i,  z_j = σ(s_j)
  s_k = b_k + w_{i→k} · z_i,  z_k = σ(s_k)
  s_o = b_o + w_{j→o} · z_j + w_{k→o} · z_k,  ŷ_o = z_o = s_o

Error signals, in reverse topological order:
  δ_o = ŷ_o − y_o
  δ_k = σ'(s_k) · δ_o · w_{k→o}
  δ_j = σ'(s_j) · δ_o · w_{j→o}
  δ_i = σ'(s_i) · (δ_j · w_{i→j} + δ_k · w_{i→k})
  where σ'(s) = σ(s)(1 − σ(s))
  and f'(s) = 1 for the linear (identity) unit o

Updates, for a minibatch of N examples:
  Δw_{x→i} = −(η/N) Σ_n δ_i z_x
  Δw_{i→j} = −(η/N) Σ_n δ_j z_i
  Δw_{i→k} = −(η/N) Σ_n δ_k z_i
  Δw_{j→o} = −(η/N) Σ_n δ_o z_j
  Δw_{k→o} = −(η/N) Σ_n δ_o z_k
  Δb_i = −(η/N) Σ_n δ_i
  Δb_j = −(η/N) Σ_n δ_j
  Δb_k = −(η/N) Σ_n δ_k
  Δb_o = −(η/N) Σ_n δ_o
"""


def run(runner: CliRunner, *args: str | os.PathLike[str]) -> Result:
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_multi_output_prints_the_equations_of_backprop_case_3(runner: CliRunner) -> None:
    result = run(runner, "explain", GRAPHS / "multi_output.json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == MULTI_OUTPUT.splitlines()


@pytest.mark.parametrize("name", EXAMPLES)
def test_ascii_output_is_pure_ascii(runner: CliRunner, name: str) -> None:
    result = run(runner, "explain", GRAPHS / f"{name}.json", "--ascii", "--example", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.isascii()
    assert "d_" in result.stdout and "eta" in result.stdout and "Dw[" in result.stdout


def _single(net: dagnet.Network, x: np.ndarray, y: np.ndarray) -> dagnet.Gradients:
    return net.gradients(x[None, :], y[None, :])


def _value(stdout: str, symbol: str) -> float:
    """The number the step's line for ``symbol`` ends with."""
    numbers = stdout.split("One training step", 1)[1]
    [line] = [line for line in numbers.splitlines() if line.startswith(f"  {symbol} = ")]
    return float(line.rsplit(" = ", 1)[1])


def test_the_printed_step_uses_the_weights_train_would_draw(runner: CliRunner) -> None:
    result = run(runner, "explain", GRAPHS / "multi_output.json", "--example", "3")
    assert result.exit_code == 0, result.stderr
    assert "One training step on example 3 of" in result.stdout
    assert "5 weights missing from the file, drawn from seed 0" in result.stdout
    graph = dagnet.load_graph(GRAPHS / "multi_output.json")
    net = dagnet.Network(graph, seed=0)  # what dagnet train does with the file's seed
    data = dagnet.load_data(graph, base=GRAPHS)
    assert data.targets is not None
    grads = _single(net, data.inputs[2], data.targets[2])
    for index, unit in enumerate(net.unit_ids):
        if unit != "x":
            assert _value(result.stdout, f"δ_{unit}") == pytest.approx(
                grads.biases[index], rel=1e-5
            )
    for index, (source, target) in enumerate(net.edges):
        change = _value(result.stdout, f"Δw_{{{source}→{target}}}")
        assert change == pytest.approx(-0.5 * grads.weights[index], rel=1e-5)
    assert _value(result.stdout, "E") == pytest.approx(grads.loss, rel=1e-5)


def test_the_step_uses_the_files_weights_and_says_nothing_of_a_seed(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    document = small_graph(data={"columns": {"x": [1.0, 2.0], "y": [0.0, 1.0]}})
    path = write_json(document)
    result = run(runner, "explain", path, "--example", "2")
    assert result.exit_code == 0, result.stderr
    assert "seed" not in result.stdout
    # s_h = 0.1 + 0.5 · 2 = 1.1, written out with the file's weights.
    assert "  s_h = b_h + w_{x→h} · z_x = 0.1 + 0.5 · 2 = 1.1" in result.stdout
    assert re.search(r"^  z_h = tanh\(s_h\) = tanh\(1\.1\) = 0\.800499$", result.stdout, re.M)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--example", "42"], 1, "example 42 is out of range: graphs/multi_output.csv has 41"),
        (["--example", "0"], 2, "0 is not in the range x>=1"),
        (["--data", "missing.csv", "--example", "1"], 1, "missing.csv"),
    ],
)
def test_bad_examples_are_refused_with_a_message(
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    message: str,
) -> None:
    monkeypatch.chdir(GRAPHS.parent)
    result = run(runner, "explain", "graphs/multi_output.json", *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_readme_shows_the_real_output(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (GRAPHS.parent / "README.md").read_text(encoding="utf-8")
    command = "$ dagnet explain graphs/multi_output.json\n"
    shown = readme.split(command, 1)[1].split("```", 1)[0]
    monkeypatch.chdir(GRAPHS.parent)
    assert run(runner, "explain", "graphs/multi_output.json").stdout == shown


def test_data_from_another_file(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "points.csv"
    data.write_text("o,x\n0.25,0.5\n1,-2\n")
    first = run(runner, "explain", GRAPHS / "multi_output.json", "--data", data)
    assert first.exit_code == 0, first.stderr
    assert f"One training step on example 1 of {data}" in first.stdout
    assert "  z_x = 0.5" in first.stdout
    second = run(runner, "explain", GRAPHS / "multi_output.json", "--data", data, "--example", "2")
    assert "  E = ½ (ŷ_o − y_o)² = ½ (" in second.stdout and " − 1)² = " in second.stdout
    assert "  z_x = -2" in second.stdout


def test_one_unit_of_a_large_network(runner: CliRunner, write_json: Any) -> None:
    from tests.showing.networks import local_net

    document = local_net()
    x, y = np.random.default_rng(0).random((3, 64)), np.eye(10)[:3]
    columns = {f"p{i}": x[:, i].tolist() for i in range(64)}
    columns |= {f"d{o}": y[:, o].tolist() for o in range(10)}
    document["data"] = {"columns": columns}
    path = write_json(document)
    result = runner.invoke(main, ["explain", str(path), "--unit", "h5"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Unit h5 (hidden, sigmoid): 22 in-edges, 10 out-edges." in lines
    assert sum(line.startswith("  via h5→d") for line in lines) == 10
    assert sum(line.startswith("  Δw_{") for line in lines) == 22
    assert len(lines) < 60  # not the whole network's 1,400 lines
    numbered = runner.invoke(main, ["explain", str(path), "--unit", "d3", "--example", "2"])
    assert numbered.exit_code == 0, numbered.stderr
    [delta] = [line for line in numbered.stdout.splitlines() if line.startswith("  δ_{d3} = ")]
    assert delta.count("=") == 3  # symbols, numbers, value
    unknown = runner.invoke(main, ["explain", str(path), "--unit", "h99"])
    assert unknown.exit_code == 1
    assert "there is no unit 'h99'" in unknown.stderr and "(117 units)" in unknown.stderr
