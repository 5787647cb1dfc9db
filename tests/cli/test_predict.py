"""``dagnet predict``, after the command line contract in README.md: the CSV of the outputs,
--data and --output, refusals, and the round trip from train to predict.

Every command runs through Click's ``CliRunner`` (stdout and stderr kept apart) in a fresh
``tmp_path``; the example graphs are copied there first, so no test writes into the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner

import dagnet
from tests.cli.helpers import read_predictions, run
from tests.conftest import GRAPHS, small_graph


def two_output_graph(**overrides: Any) -> dict[str, Any]:
    """small_graph() plus an output z = h listed before y, so the outputs' file order is z, y."""
    document = small_graph(**overrides)
    document["units"].insert(2, {"id": "z", "role": "output"})
    document["edges"].append({"source": "h", "target": "z", "weight": 1.0})
    return document


def expected_outputs(x: np.ndarray) -> np.ndarray:
    h = np.tanh(0.5 * x + 0.1)
    return np.column_stack([h, -0.3 * h + 0.2 * x])  # z, y


def test_predict_writes_a_csv_of_the_outputs(
    runner: CliRunner, write_json: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_json(two_output_graph())
    x = np.array([-1.0, 0.0, 0.25, 2.0, 3.5])
    data = tmp_path / "inputs.csv"
    data.write_text("x\n" + "".join(f"{v}\n" for v in x), encoding="utf-8")
    result = run(runner, "predict", path, "--data", data)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    header, values = read_predictions(result.stdout)
    assert header == ["z", "y"]
    assert values.shape == (5, 2)
    np.testing.assert_allclose(values, expected_outputs(x), rtol=1e-12, atol=1e-15)


def test_predict_ignores_target_columns_and_needs_none(
    runner: CliRunner, write_json: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_json(two_output_graph())
    data = tmp_path / "with_targets.csv"
    data.write_text("y,x,z\n9,1,9\n9,2,9\n", encoding="utf-8")
    result = run(runner, "predict", path, "--data", data)
    assert result.exit_code == 0, result.stderr
    _, values = read_predictions(result.stdout)
    np.testing.assert_allclose(values, expected_outputs(np.array([1.0, 2.0])), rtol=1e-12)


def test_predict_output_file_needs_force_to_be_replaced(
    runner: CliRunner, write_json: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_json(two_output_graph(data={"columns": {"x": [0.0, 1.0, 2.0]}}))
    output = tmp_path / "predictions.csv"
    result = run(runner, "predict", path, "-o", output)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"wrote {output} (3 rows)\n"
    header, values = read_predictions(output.read_text(encoding="utf-8"))
    assert header == ["z", "y"] and values.shape == (3, 2)

    output.write_text("keep me", encoding="utf-8")
    result = run(runner, "predict", path, "-o", output)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {output} exists; add --force to replace it\n"
    assert output.read_text(encoding="utf-8") == "keep me"

    result = run(runner, "predict", path, "--output", output, "--force")
    assert result.exit_code == 0
    assert output.read_text(encoding="utf-8").startswith("z,y\n")


def test_predict_refuses_an_untrained_graph(runner: CliRunner, bump: Path) -> None:
    result = run(runner, "predict", bump)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {bump}: 5 edges have no weight, so the predictions would be random; "
        f"train first (dagnet train {bump}) and predict with the trained file\n"
    )


def test_evaluate_refuses_an_untrained_graph_as_predict_does(runner: CliRunner, bump: Path) -> None:
    result = run(runner, "evaluate", bump)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {bump}: 5 edges have no weight, so the figures would be those of random "
        f"weights; train first (dagnet train {bump}) and evaluate the trained file\n"
    )


def test_predict_data_option_overrides_the_files_data(
    runner: CliRunner, write_json: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_json(two_output_graph(data={"columns": {"x": [0.0, 1.0, 2.0]}}))
    data = tmp_path / "other.csv"
    data.write_text("x\n5\n", encoding="utf-8")
    result = run(runner, "predict", path, "--data", data)
    assert result.exit_code == 0
    _, values = read_predictions(result.stdout)
    np.testing.assert_allclose(values, expected_outputs(np.array([5.0])), rtol=1e-12)


def test_predict_refuses_to_write_over_the_graph(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    path = write_json(two_output_graph(data={"columns": {"x": [0.0]}}))
    before = path.read_bytes()
    result = run(runner, "predict", path, "-o", path, "--force")
    assert result.exit_code == 1
    assert "refusing to write over" in result.stderr
    assert path.read_bytes() == before


def test_predict_refuses_output_that_is_the_graphs_own_data_file(
    runner: CliRunner, bump: Path
) -> None:
    assert run(runner, "train", bump, "--epochs", "2", "-q").exit_code == 0
    data = bump.with_name("multi_output.csv")
    before = data.read_bytes()
    result = run(
        runner, "predict", bump.with_name("multi_output.trained.json"), "-o", data, "--force"
    )
    assert result.exit_code == 1
    assert "refusing to write over" in result.stderr
    assert data.read_bytes() == before


# round trip --------------------------------------------------------------------------------------


def test_predict_on_a_trained_file_equals_the_library(runner: CliRunner, bump: Path) -> None:
    assert run(runner, "train", bump, "--epochs", "20", "-q").exit_code == 0
    trained = bump.with_name("multi_output.trained.json")
    first = run(runner, "predict", trained)
    assert first.exit_code == 0, first.stderr
    header, values = read_predictions(first.stdout)

    graph = dagnet.load_graph(trained)
    inputs = dagnet.load_data(graph, base=trained.parent).inputs
    expected = dagnet.Network(graph).forward(inputs)
    assert header == ["o"]
    assert np.array_equal(values, expected)

    second = run(runner, "predict", trained)
    assert second.stdout.encode() == first.stdout.encode()


def test_a_float32_run_predicts_in_float32_unless_told_otherwise(
    runner: CliRunner, bump: Path
) -> None:
    assert run(runner, "train", bump, "--epochs", "20", "--dtype", "float32", "-q").exit_code == 0
    trained = bump.with_name("multi_output.trained.json")
    graph = dagnet.load_graph(trained)
    assert graph.training is not None and graph.training.dtype == "float32"
    inputs = dagnet.load_data(graph, base=trained.parent).inputs
    for option, dtype in [(), np.float32], [("--dtype", "float64"), np.float64]:
        result = run(runner, "predict", trained, *option)
        assert result.exit_code == 0, result.stderr
        expected = dagnet.Network(graph, dtype=dtype).forward(inputs)
        assert np.array_equal(read_predictions(result.stdout)[1], expected)
    single, double = (
        read_predictions(run(runner, "predict", trained, "--dtype", d).stdout)[1]
        for d in ("float32", "float64")
    )
    assert not np.array_equal(single, double)
    assert np.allclose(single, double, rtol=1e-5, atol=1e-6)


def test_save_and_load_keep_predictions_identical(tmp_path: Path) -> None:
    graph = dagnet.load_graph(GRAPHS / "multi_output.json")
    data = dagnet.load_data(graph, base=GRAPHS)
    net = dagnet.Network(graph, seed=3)
    dagnet.fit(net, data.inputs, data.targets, epochs=5, learning_rate=0.5, batch_size=8, seed=3)
    path = tmp_path / "saved.json"
    dagnet.save_graph(net.to_graph(), path)
    reloaded = dagnet.Network(dagnet.load_graph(path))
    assert np.array_equal(reloaded.forward(data.inputs), net.forward(data.inputs))
    assert np.array_equal(reloaded.weights, net.weights)
    assert np.array_equal(reloaded.biases, net.biases)


def test_predict_runs_on_the_threads_it_is_given(
    runner: CliRunner, write_json: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_json(two_output_graph())
    data = tmp_path / "inputs.csv"
    data.write_text("x\n1\n2\n", encoding="utf-8")
    outputs = []
    for threads in ("1", "auto"):
        result = run(runner, "predict", path, "--data", data, "--threads", threads)
        assert result.exit_code == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert "--threads N|auto" in run(runner, "predict", "--help").stdout
