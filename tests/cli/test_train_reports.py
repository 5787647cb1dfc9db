"""dagnet train's reports: --history (.csv, .jsonl), --plot, and the --json summary."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import dagnet
from dagnet.cli import main
from dagnet.graph.writing import graph_to_text
from tests.training.test_fit import two_outputs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(runner: CliRunner, *args: str | os.PathLike[str]) -> Result:
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def graph(tmp_path: Path) -> Path:
    """The two-output graph with inline data and short training settings."""
    xs = [i / 5 - 1 for i in range(11)]
    document = two_outputs().model_copy(
        update={
            "data": dagnet.graph.model.Data(
                columns={"x": xs, "y1": [x * x for x in xs], "y2": [0.5 + 0.3 * x for x in xs]}
            ),
            "training": dagnet.graph.model.Training(epochs=7, learning_rate=0.2, seed=0),
        }
    )
    path = tmp_path / "two.json"
    path.write_text(graph_to_text(document), encoding="utf-8")
    return path


def test_history_csv_has_a_row_per_epoch_with_each_outputs_share(
    runner: CliRunner, graph: Path
) -> None:
    history = graph.with_name("loss.csv")
    result = run(runner, "train", graph, "-q", "--history", history, "--json")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(history.read_text())))
    assert rows[0] == ["epoch", "loss", "loss_y1", "loss_y2"]
    assert [int(row[0]) for row in rows[1:]] == list(range(1, 8))
    for row in rows[1:]:
        loss, y1, y2 = map(float, row[1:])
        assert y1 + y2 == pytest.approx(loss, rel=1e-12)
    summary = json.loads(result.stdout)  # one document, nothing else on stdout
    assert [float(row[1]) for row in rows[1:]] == summary["epoch_loss"]
    assert sum(summary["final_output_loss"].values()) == pytest.approx(summary["final_loss"])
    assert list(summary["final_output_loss"]) == ["y1", "y2"]


def test_history_jsonl_has_one_object_per_epoch(runner: CliRunner, graph: Path) -> None:
    history = graph.with_name("loss.jsonl")
    assert run(runner, "train", graph, "-q", "--history", history).exit_code == 0
    records = [json.loads(line) for line in history.read_text().splitlines()]
    assert [record["epoch"] for record in records] == list(range(1, 8))
    assert all(set(record["output_loss"]) == {"y1", "y2"} for record in records)
    assert records[-1]["loss"] == pytest.approx(sum(records[-1]["output_loss"].values()))


def test_plot_draws_the_loss_curve(runner: CliRunner, graph: Path) -> None:
    plot = graph.with_name("loss.png")
    result = run(runner, "train", graph, "--plot", plot)
    assert result.exit_code == 0, result.stderr
    assert plot.read_bytes().startswith(PNG_MAGIC)
    assert f"wrote {plot}" in result.stderr


@pytest.mark.parametrize(("option", "name"), [("--history", "loss.txt"), ("--plot", "loss.jpg")])
def test_a_report_with_an_unknown_suffix_is_a_usage_error(
    runner: CliRunner, graph: Path, option: str, name: str
) -> None:
    result = run(runner, "train", graph, option, graph.with_name(name))
    assert result.exit_code == 2
    assert "the file name must end in" in result.stderr
    assert not graph.with_name("two.trained.json").exists()


def test_report_paths_are_checked_before_training(runner: CliRunner, graph: Path) -> None:
    history = graph.with_name("loss.csv")
    history.write_text("mine")
    result = run(runner, "train", graph, "--history", history)
    assert result.exit_code == 1
    assert "loss.csv exists; add --force" in result.stderr
    assert history.read_text() == "mine"
    assert not graph.with_name("two.trained.json").exists()  # no training happened
    assert run(runner, "train", graph, "-q", "--history", history, "--force").exit_code == 0
    assert history.read_text().startswith("epoch,loss")
    onto_output = run(runner, "train", graph, "--history", graph.with_name("two.trained.json"))
    assert onto_output.exit_code == 2  # .json is not a history format
    missing_folder = run(runner, "train", graph, "--plot", graph.parent / "no" / "loss.png")
    assert missing_folder.exit_code == 1
    assert "does not exist" in missing_folder.stderr


def test_plot_without_matplotlib_fails_before_training(
    runner: CliRunner, graph: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run(runner, "train", graph, "--plot", graph.with_name("loss.png"))
    assert result.exit_code == 1
    assert "pip install 'dagnet[plot]'" in result.stderr
    assert not graph.with_name("two.trained.json").exists()
