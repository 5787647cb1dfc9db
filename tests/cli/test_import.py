"""``dagnet import``: format detection, the output rules of ``train``, refusals as messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import dagnet
from dagnet.interop.fann import read_fann
from tests.cli.helpers import read_predictions, run

FANN = Path(__file__).parents[1] / "interop" / "fixtures" / "fann"

NEAT_EXPORT = {
    "format_version": "1.0",
    "network_type": "feedforward",
    "metadata": {"neat_python_version": "2.0.0"},
    "topology": {"num_inputs": 2, "num_outputs": 1, "input_keys": [-1, -2], "output_keys": [0]},
    "nodes": [
        {"id": 3, "type": "hidden", "bias": 0.25, "response": 1.0,
         "activation": {"name": "tanh", "custom": False},
         "aggregation": {"name": "sum", "custom": False}},
        {"id": 0, "type": "output", "bias": -0.5, "response": 1.0,
         "activation": {"name": "sigmoid", "custom": False},
         "aggregation": {"name": "sum", "custom": False}},
        {"id": -1, "type": "input"},
        {"id": -2, "type": "input"},
    ],
    "connections": [
        {"from": -1, "to": 3, "weight": 0.7, "enabled": True},
        {"from": -2, "to": 3, "weight": -1.2, "enabled": True},
        {"from": 3, "to": 0, "weight": 1.5, "enabled": True},
        {"from": -2, "to": 0, "weight": 0.3, "enabled": True},
    ],
}  # fmt: skip


def neat_value(x1: float, x2: float) -> float:
    """What neat-python's FeedForwardNetwork.activate computes for NEAT_EXPORT."""
    h = np.tanh(max(-60.0, min(60.0, 2.5 * (0.25 + (x1 * 0.7 + x2 * -1.2)))))
    s = max(-60.0, min(60.0, 5.0 * (-0.5 + (h * 1.5 + x2 * 0.3))))
    return float(1.0 / (1.0 + np.exp(-s)))


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "winner.json"
    path.write_text(json.dumps(NEAT_EXPORT))
    return path


def test_a_neat_export_is_detected_and_predicts_as_neat_python(
    runner: CliRunner, export: Path, tmp_path: Path
) -> None:
    out = tmp_path / "net.json"
    result = run(runner, "import", export, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    graph = dagnet.load_graph(out)
    assert [u.id for u in graph.units if u.role == "input"] == ["i_1", "i_2"]
    data = tmp_path / "x.csv"
    x = np.random.default_rng(0).uniform(-2, 2, (20, 2)).tolist()
    data.write_text("i_1,i_2\n" + "\n".join(f"{a!r},{b!r}" for a, b in x) + "\n")
    predicted = run(runner, "predict", out, "--data", data)
    assert predicted.exit_code == 0, predicted.stderr
    columns, values = read_predictions(predicted.stdout)
    assert columns == ["o0"]
    expected = np.array([[neat_value(a, b)] for a, b in x])
    assert np.max(np.abs(values - expected)) < 1e-12


def test_a_fann_file_is_detected_and_predicts_as_fann_run(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "net.json"
    assert run(runner, "import", FANN / "shortcut_5.net", "-o", out).exit_code == 0
    document = json.loads((FANN / "shortcut_5.outputs.json").read_text())
    net = dagnet.Network(dagnet.load_graph(out))
    ours = net.forward(np.array(document["inputs"]))
    assert np.max(np.abs(ours - np.array(document["float_outputs"]))) < 1e-5


@pytest.mark.parametrize("precision", [None, "double", "float"])
def test_both_readings_of_a_fann_file_run_as_floatfann_runs(
    runner: CliRunner, tmp_path: Path, precision: str | None
) -> None:
    # The steepest fixture. floatfann's fann_run gets its inputs as float32s; given the same
    # inputs, either reading is within 7.4e-6 of it (the readings differ by at most 6e-8 per
    # weight). On the inputs as written, the gap is the inputs' rounding: 1.35e-5.
    out = tmp_path / "net.json"
    option = [] if precision is None else ["--precision", precision]
    assert run(runner, "import", FANN / "clipped_standard.net", "-o", out, *option).exit_code == 0
    graph = dagnet.load_graph(out)
    assert graph == read_fann(FANN / "clipped_standard.net", precision=precision or "double")
    document = json.loads((FANN / "clipped_standard.outputs.json").read_text())
    x = np.array(document["inputs"]).astype(np.float32).astype(np.float64)
    theirs = np.array(document["float_outputs"])
    ours = dagnet.Network(graph).forward(x)
    assert np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))) < 1e-5


def test_precision_is_for_fann_files_only(runner: CliRunner, export: Path, tmp_path: Path) -> None:
    result = run(runner, "import", export, "-o", tmp_path / "a.json", "--precision", "float")
    assert result.exit_code == 2
    assert "--precision is for FANN files" in result.stderr
    assert not (tmp_path / "a.json").exists()


def test_from_names_the_format(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "net.txt"
    shutil.copyfile(FANN / "sparse_0.net", source)
    result = run(runner, "import", source, "-o", tmp_path / "a.json", "--from", "neat")
    assert result.exit_code == 1
    assert "not JSON" in result.stderr
    assert run(runner, "import", source, "-o", tmp_path / "b.json", "--from", "fann").exit_code == 0


def test_an_existing_output_needs_force(runner: CliRunner, export: Path, tmp_path: Path) -> None:
    out = tmp_path / "net.json"
    out.write_text("keep me")
    result = run(runner, "import", export, "-o", out)
    assert result.exit_code == 1
    assert "exists; add --force to replace it" in result.stderr
    assert out.read_text() == "keep me"
    assert run(runner, "import", export, "-o", out, "--force").exit_code == 0
    assert dagnet.load_graph(out).name == "neat"


def test_the_source_is_never_overwritten(runner: CliRunner, export: Path) -> None:
    result = run(runner, "import", export, "-o", export, "--force")
    assert result.exit_code == 1
    assert "it is the source" in result.stderr


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(network_type="recurrent"), "a recurrent network cannot be imported"),
    (lambda d: d["nodes"][0]["aggregation"].update(name="product"),
     r"node 3 \(h3\): aggregation 'product' cannot be imported exactly"),
    (lambda d: d["nodes"][1].update(activation={"name": "mine", "custom": True}),
     r"node 0 \(o0\): custom activation 'mine'"),
])  # fmt: skip
def test_what_cannot_be_imported_exactly_is_refused_in_one_line(
    runner: CliRunner, tmp_path: Path, change, message: str
) -> None:
    document = json.loads(json.dumps(NEAT_EXPORT))
    change(document)
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(document))
    out = tmp_path / "out.json"
    result = run(runner, "import", source, "-o", out)
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(source) in result.stderr
    assert pytest.importorskip("re").search(message, result.stderr)
    assert not out.exists()


@pytest.mark.parametrize(("content", "message"), [
    (b"hello", "neither a FANN .net file"),
    (b'{"a": 1}', "not a neat-python network export"),
    (b"\xff\xfe", "not UTF-8 text"),
])  # fmt: skip
def test_other_files_are_refused(
    runner: CliRunner, tmp_path: Path, content: bytes, message: str
) -> None:
    source = tmp_path / "thing"
    source.write_bytes(content)
    result = run(runner, "import", source, "-o", tmp_path / "out.json")
    assert result.exit_code == 1
    assert message in result.stderr


def test_a_missing_source_is_a_message(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "import", tmp_path / "nope.net", "-o", tmp_path / "out.json")
    assert result.exit_code == 1
    assert "cannot read the file" in result.stderr
