"""``dagnet export``: an ONNX file whose outputs are those of ``dagnet predict``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
import onnxruntime

import dagnet
from dagnet.graph.data import load_data
from dagnet.graph.reading import load_graph
from tests.cli.helpers import read_predictions, run, snapshot
from tests.conftest import GRAPHS


def outputs(model: Path, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(None, {"inputs": x})[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("dtype, tolerance", [(None, 1e-9), ("float32", 1e-5)])
def test_the_model_predicts_what_dagnet_predict_prints(
    runner: CliRunner, bump: Path, tmp_path: Path, dtype: str | None, tolerance: float
) -> None:
    trained = tmp_path / "trained.json"
    assert run(runner, "train", bump, "-o", trained, "--epochs", "20", "-q").exit_code == 0
    model = tmp_path / "bump.onnx"
    options = ["--dtype", dtype] if dtype else []
    result = run(runner, "export", trained, "-o", model, *options)
    assert result.exit_code == 0, result.stderr
    assert f"wrote {model}" in result.stderr
    onnx.checker.check_model(onnx.load(str(model)), full_check=True)
    predicted = run(runner, "predict", trained, *options)
    _, y = read_predictions(predicted.stdout)
    x = load_data(load_graph(trained), base=tmp_path).inputs
    y_onnx = outputs(model, x.astype(dtype or "float64"))
    assert y_onnx.dtype == np.dtype(dtype or "float64")
    np.testing.assert_allclose(y_onnx, y, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-9), ("float32", 1e-5)])
def test_a_softmax_groups_probabilities_are_the_models_outputs(
    runner: CliRunner, tmp_path: Path, dtype: str, tolerance: float
) -> None:
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "digits.json"), seed=0)
    trained = tmp_path / "digits.trained.json"
    dagnet.save_graph(net.to_graph(), trained)
    model = tmp_path / "digits.onnx"
    assert run(runner, "export", trained, "-o", model, "--dtype", dtype).exit_code == 0
    data = GRAPHS / "digits_test.npz"
    predicted = run(runner, "predict", trained, "--data", data, "--dtype", dtype)
    _, y = read_predictions(predicted.stdout)
    x = load_data(load_graph(trained), data).inputs
    y_onnx = outputs(model, x.astype(dtype))
    np.testing.assert_allclose(y_onnx.sum(axis=1), 1.0, rtol=tolerance)
    np.testing.assert_allclose(y_onnx, y, rtol=tolerance, atol=tolerance)


@pytest.fixture
def trained_xor(runner: CliRunner, xor: Path, tmp_path: Path) -> Path:
    trained = tmp_path / "xor.trained.json"
    assert run(runner, "train", xor, "-o", trained, "--epochs", "5", "-q").exit_code == 0
    return trained


def test_an_existing_output_needs_force(
    runner: CliRunner, trained_xor: Path, tmp_path: Path
) -> None:
    xor = trained_xor
    model = tmp_path / "xor.onnx"
    model.write_bytes(b"old")
    result = run(runner, "export", xor, "-o", model)
    assert result.exit_code == 1
    assert "exists; add --force" in result.stderr
    assert model.read_bytes() == b"old"
    assert run(runner, "export", xor, "-o", model, "--force").exit_code == 0
    assert onnx.load(str(model)).graph.input[0].name == "inputs"


def test_an_untrained_graph_is_refused(runner: CliRunner, bump: Path, tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    result = run(runner, "export", bump, "-o", tmp_path / "m.onnx")
    assert result.exit_code == 1
    assert "no weight" in result.stderr and "train first" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before


def test_an_invalid_graph_is_one_message(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 1, "units": [], "edges": []', encoding="utf-8")
    result = run(runner, "export", bad, "-o", tmp_path / "m.onnx")
    assert result.exit_code == 1
    assert "DAG003" in result.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_the_name_must_end_in_onnx(runner: CliRunner, xor: Path, tmp_path: Path) -> None:
    result = run(runner, "export", xor, "-o", tmp_path / "m.json")
    assert result.exit_code == 2
    assert "must end in .onnx" in result.stderr


def test_without_onnx_the_message_names_the_extra(
    runner: CliRunner, trained_xor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    result = run(runner, "export", trained_xor, "-o", tmp_path / "m.onnx")
    assert result.exit_code == 1
    assert "pip install 'dagnet[onnx]'" in result.stderr
