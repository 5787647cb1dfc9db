"""Right advice: a smaller learning rate is suggested only when it can help. Parameters or
inputs that overflow before any update are said to, numeric warnings are one line of words,
and predict never prints inf or nan with exit code 0."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import dagnet
from dagnet.cli import info as info_command
from tests.cli.helpers import run
from tests.conftest import small_graph


def _huge(weight: float = 1e300) -> dict[str, Any]:
    document = small_graph()
    document["units"][1]["activation"] = "identity"
    document["edges"][0]["weight"] = weight
    document["data"] = {"columns": {"x": [1.0, 2.0, 3.0], "y": [0.0, 1.0, 0.0]}}
    return document


def test_a_weight_that_overflows_before_any_update_is_said_to() -> None:
    net = dagnet.Network(dagnet.Graph.model_validate(_huge()))
    with pytest.raises(dagnet.TrainingError) as caught:
        dagnet.fit(net, [[1.0], [2.0]], [[0.0], [1.0]], epochs=3, learning_rate=0.1)
    message = str(caught.value)
    assert message.startswith("the loss is not a finite number before any update: ")
    assert "the largest weight is 1e+300, on edge x -> h" in message
    assert "a smaller learning rate cannot help" in message
    assert "try a smaller learning rate" not in message


def test_a_run_that_diverges_after_updates_still_suggests_a_smaller_learning_rate() -> None:
    document = small_graph()
    for unit in document["units"][1:]:
        unit["activation"] = "identity"
    net = dagnet.Network(dagnet.Graph.model_validate(document))
    x = np.linspace(-1, 1, 20)[:, None]
    with pytest.raises(dagnet.TrainingError, match="try a smaller learning rate than 1000"):
        dagnet.fit(net, x, 3 * x, epochs=50, learning_rate=1e3, batch_size=20)


@pytest.mark.parametrize("where", ["weight", "bias"])
def test_a_float32_run_refuses_parameters_beyond_float32(where: str) -> None:
    document = _huge(1e39 if where == "weight" else 0.5)
    if where == "bias":
        document["units"][1]["bias"] = -1e39
    graph = dagnet.Graph.model_validate(document)
    with pytest.raises(dagnet.ArgumentError, match="beyond float32's range") as caught:
        dagnet.Network(graph, dtype=np.float32)
    assert "overflows before any update" in str(caught.value)
    dagnet.Network(graph)  # float64 holds it


def test_train_says_the_weight_overflows_not_to_lower_the_learning_rate(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(_huge()), encoding="utf-8")
    result = run(runner, "train", path, "-q")
    assert result.exit_code == 1
    assert "before any update" in result.stderr
    assert "try a smaller learning rate" not in result.stderr
    result = run(runner, "train", path, "-q", "--dtype", "float32", "--epochs", "1")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: edge x -> h has weight 1e+300, beyond float32's")


def test_train_refuses_inputs_too_large_for_float32(runner: CliRunner, tmp_path: Path) -> None:
    document = small_graph(data={"columns": {"x": [0.0, 1e39], "y": [0.0, 1.0]}})
    path = tmp_path / "big.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run(runner, "train", path, "-q", "--dtype", "float32")
    assert result.exit_code == 1
    assert "inputs: row 2, column 1 (unit x) is 1e+39, beyond float32's range" in result.stderr
    assert "learning rate" not in result.stderr


def test_predict_never_prints_inf_or_nan(runner: CliRunner, tmp_path: Path) -> None:
    document = _huge()
    document["edges"][1]["weight"] = 1e10
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    output = tmp_path / "out.csv"
    for args in ([], ["-o", output]):
        result = run(runner, "predict", path, *args)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.startswith(f"Error: {path}: output 'y' is inf at row 1 of the data")
    assert not output.exists()


def test_a_numeric_warning_is_one_line_without_source(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = info_command.describe

    def overflowing(graph: dagnet.Graph) -> Any:
        warnings.simplefilter("always")  # (pytest makes warnings errors; the CLI shows them)
        with np.errstate(over="warn"):
            np.exp(np.float64(1000.0))
        return real(graph)

    monkeypatch.setattr(info_command, "describe", overflowing)
    result = run(runner, "info", "graphs/xor.json")
    assert result.exit_code == 0
    assert result.stderr == "warning: overflow encountered in exp\n"
