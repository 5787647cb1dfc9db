"""``dagnet train``, after the command line contract in README.md: where the trained graph
goes, what it records, the options, refusals, progress, failures.

Every command runs through Click's ``CliRunner`` (stdout and stderr kept apart) in a fresh
``tmp_path``; the example graphs are copied there first, so no test writes into the repository.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import dagnet
from tests.cli.helpers import SCHEMA_FILE, read_json, run, snapshot
from tests.conftest import small_graph


def test_train_writes_the_trained_graph_beside_the_input(runner: CliRunner, xor: Path) -> None:
    before = snapshot(xor.parent)
    result = run(runner, "train", xor, "--epochs", "5")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    trained = xor.with_name("xor.trained.json")
    assert trained.exists()
    assert f"wrote {trained}\n" in result.stderr
    assert "replaced" not in result.stderr

    graph = dagnet.load_graph(trained)
    assert all(edge.weight is not None for edge in graph.edges)
    assert all(unit.bias is not None for unit in graph.units if unit.role != "input")
    assert graph.training is not None and graph.training.seed == 0
    assert graph.trained is not None
    assert graph.trained.epochs == 5
    assert graph.trained.examples == 4
    # The recorded loss is that of the weights written, over the whole data: not of a
    # minibatch, of the last epoch's running mean, or of the weights before training.
    # (final_loss >= 0 needs no test: the schema and load_graph refuse anything else.)
    data = dagnet.load_data(graph, base=trained.parent)
    assert graph.trained.final_loss == dagnet.Network(graph).loss(data.inputs, data.targets)
    assert f"final loss {graph.trained.final_loss:.6g} after 5 epochs" in result.stderr
    assert [unit.id for unit in graph.units] == ["x1", "x2", "h1", "h2", "y"]
    # only the new file appeared; the input is untouched
    after = snapshot(xor.parent)
    assert {name: after[name] for name in before} == before
    assert set(after) - set(before) == {"xor.trained.json"}


def test_trained_file_validates_against_the_json_schema(runner: CliRunner, bump: Path) -> None:
    assert run(runner, "train", bump, "--epochs", "2", "-q").exit_code == 0
    trained = read_json(bump.with_name("multi_output.trained.json"))
    jsonschema.validate(trained, read_json(SCHEMA_FILE))
    assert trained["data"] == {"path": "multi_output.csv"}


def test_train_replaces_the_default_output_and_says_so(runner: CliRunner, xor: Path) -> None:
    trained = xor.with_name("xor.trained.json")
    assert run(runner, "train", xor, "--epochs", "2").exit_code == 0
    first = trained.read_bytes()
    result = run(runner, "train", xor, "--epochs", "3")
    assert result.exit_code == 0
    assert f"wrote {trained} (replaced the previous one)" in result.stderr
    assert trained.read_bytes() != first


def test_train_refuses_an_existing_explicit_output_without_force(
    runner: CliRunner, xor: Path
) -> None:
    output = xor.with_name("out.json")
    output.write_text("keep me", encoding="utf-8")
    result = run(runner, "train", xor, "--epochs", "2", "-o", output)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {output} exists; add --force to replace it\n"
    assert output.read_text(encoding="utf-8") == "keep me"
    assert not xor.with_name("xor.trained.json").exists()

    result = run(runner, "train", xor, "--epochs", "2", "-o", output, "--force")
    assert result.exit_code == 0
    assert dagnet.load_graph(output).trained is not None
    assert not xor.with_name("xor.trained.json").exists()


def test_train_output_that_is_a_folder_says_so(runner: CliRunner, xor: Path) -> None:
    folder = xor.parent / "runs"
    folder.mkdir()
    for extra in ([], ["--force"]):
        result = run(runner, "train", xor, "--epochs", "2", "-o", folder, *extra)
        assert result.exit_code == 1
        # --force cannot help here, so the message must not suggest it
        assert result.stderr == f"Error: {folder} is a folder; --output needs a file name\n"


def test_train_output_in_a_missing_folder(runner: CliRunner, xor: Path) -> None:
    output = xor.parent / "missing" / "out.json"
    # Refused before training, not after it.
    result = run(runner, "train", xor, "--epochs", "100000", "-q", "-o", output)
    assert result.exit_code == 1
    expected = f"Error: cannot write {output}: the folder {output.parent} does not exist\n"
    assert result.stderr == expected


def test_train_output_in_another_folder_keeps_the_data_path_working(
    runner: CliRunner, bump: Path
) -> None:
    output = bump.parent / "runs" / "bump.json"
    output.parent.mkdir()
    assert run(runner, "train", bump, "--epochs", "2", "-q", "-o", output).exit_code == 0
    assert read_json(output)["data"] == {"path": "../multi_output.csv"}
    assert run(runner, "validate", output).exit_code == 0
    assert run(runner, "predict", output).exit_code == 0


def test_train_refuses_to_write_over_its_input_without_in_place(
    runner: CliRunner, xor: Path
) -> None:
    before = xor.read_bytes()
    result = run(runner, "train", xor, "--epochs", "2", "-o", xor, "--force")
    assert result.exit_code == 1
    assert "refusing to write over" in result.stderr
    assert "--in-place" in result.stderr
    assert xor.read_bytes() == before


def test_train_never_writes_the_input_graph_or_data(runner: CliRunner, bump: Path) -> None:
    folder = bump.parent
    data = folder / "multi_output.csv"
    inputs = {bump: bump.read_bytes(), data: data.read_bytes()}
    commands = [
        ["validate", bump],
        ["train", bump, "--epochs", "2"],
        ["train", bump, "--epochs", "2"],
        ["train", bump, "--epochs", "2", "-o", folder / "out.json"],
        ["train", bump, "--epochs", "2", "-o", folder / "out.json", "--force", "--json"],
        ["train", bump, "--epochs", "2", "--data", data, "-q"],
        ["train", bump, "--epochs", "2", "-o", data],  # refused: exists
        ["train", bump, "--epochs", "2", "--data", data, "-o", data, "--force"],  # refused
        ["train", bump, "--epochs", "2", "-o", bump, "--force"],  # refused: the input
        ["predict", folder / "multi_output.trained.json"],
        ["predict", folder / "multi_output.trained.json", "--data", data, "-o", folder / "p.csv"],
        ["predict", folder / "multi_output.trained.json", "--data", data, "-o", data, "--force"],
        ["predict", bump],  # refused: untrained
    ]
    for command in commands:
        run(runner, *command)
        for path, content in inputs.items():
            assert path.read_bytes() == content, f"dagnet {command} changed {path.name}"


def test_train_refuses_output_that_is_the_data_file(runner: CliRunner, bump: Path) -> None:
    data = bump.with_name("multi_output.csv")
    before = data.read_bytes()
    result = run(runner, "train", bump, "--epochs", "2", "--data", data, "-o", data, "--force")
    assert result.exit_code == 1
    assert "refusing to write over" in result.stderr
    assert data.read_bytes() == before


def test_train_refuses_output_that_is_the_graphs_own_data_file(
    runner: CliRunner, bump: Path
) -> None:
    # The graph's "data": {"path": "multi_output.csv"} is input data too (the command line
    # contract in README.md: "the input graph and data are never written unless `--in-place`
    # asks for it").
    data = bump.with_name("multi_output.csv")
    before = data.read_bytes()
    result = run(runner, "train", bump, "--epochs", "2", "-o", data, "--force")
    assert result.exit_code == 1
    assert "refusing to write over" in result.stderr
    assert data.read_bytes() == before


def test_train_in_place_overwrites_the_input(runner: CliRunner, xor: Path) -> None:
    result = run(runner, "train", xor, "--epochs", "2", "--in-place")
    assert result.exit_code == 0
    assert f"wrote {xor}" in result.stderr
    graph = dagnet.load_graph(xor)
    assert graph.trained is not None
    assert all(edge.weight is not None for edge in graph.edges)
    assert not xor.with_name("xor.trained.json").exists()


def test_train_in_place_with_output_is_a_usage_error(runner: CliRunner, xor: Path) -> None:
    before = snapshot(xor.parent)
    result = run(runner, "train", xor, "--in-place", "-o", xor.with_name("out.json"))
    assert result.exit_code == 2
    assert "--in-place" in result.stderr and "--output" in result.stderr
    assert snapshot(xor.parent) == before


def test_train_options_override_the_training_section(runner: CliRunner, xor: Path) -> None:
    result = run(
        runner, "train", xor, "--epochs", "3", "--batch-size", "2", "--learning-rate", "0.05",
        "--seed", "11", "--no-shuffle", "--dtype", "float32", "-q",
    )  # fmt: skip
    assert result.exit_code == 0
    written = read_json(xor.with_name("xor.trained.json"))
    assert written["training"] == {
        "loss": "squared_error",
        "optimizer": "sgd",
        "learning_rate": 0.05,
        "epochs": 3,
        "batch_size": 2,
        "seed": 11,
        "shuffle": False,
        "dtype": "float32",
        "init": "glorot_uniform",
    }
    assert written["trained"]["epochs"] == 3


@pytest.mark.parametrize(
    ("optimizer", "rate"), [("adam", 0.001), ("rprop", 0.01), ("nesterov", 0.01), ("sgd", 0.1)]
)
def test_train_takes_an_optimizer_and_records_its_default_learning_rate(
    runner: CliRunner, write_json: Callable[..., Path], optimizer: str, rate: float
) -> None:
    data = {"columns": {"x": [0.0, 0.5, 1.0], "y": [1.0, 0.0, 1.0]}}
    graph = write_json(small_graph(training={"epochs": 20, "seed": 3}, data=data))
    result = run(runner, "train", graph, "--optimizer", optimizer, "-q")
    assert result.exit_code == 0, result.stderr
    training = read_json(graph.with_name("graph.trained.json"))["training"]
    assert (training["optimizer"], training["learning_rate"]) == (optimizer, rate)


def test_train_draws_missing_weights_by_the_scheme_it_is_told(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    data = {"columns": {"x": [0.0, 0.5, 2.0], "y": [1.0, 0.0, 1.0]}}
    document = small_graph(training={"epochs": 1, "seed": 3}, data=data)
    for edge in document["edges"]:
        del edge["weight"]
    graph = write_json(document)
    result = run(runner, "train", graph, "--init", "widrow_nguyen", "--learning-rate", "1e-9", "-q")
    assert result.exit_code == 0, result.stderr
    written = read_json(graph.with_name("graph.trained.json"))
    assert written["training"]["init"] == "widrow_nguyen"
    beta = 0.7 / 2.0  # one hidden unit, one input, inputs in [0, 2]
    assert all(0 <= edge["weight"] <= beta + 1e-6 for edge in written["edges"])


def test_train_draws_prints_and_records_a_seed(runner: CliRunner, xor: Path) -> None:
    document = read_json(xor)
    del document["training"]["seed"]
    xor.write_text(json.dumps(document, indent=2), encoding="utf-8")
    result = run(runner, "train", xor, "--epochs", "2")
    assert result.exit_code == 0
    match = re.search(r"^seed (\d+) \(drawn; recorded in the output\)$", result.stderr, flags=re.M)
    assert match, result.stderr
    written = dagnet.load_graph(xor.with_name("xor.trained.json"))
    assert written.training is not None
    assert written.training.seed == int(match.group(1))

    # the recorded seed reproduces the run
    again = xor.with_name("again.json")
    assert (
        run(runner, "train", xor, "--epochs", "2", "--seed", match.group(1), "-o", again).exit_code
        == 0
    )
    assert again.read_bytes() == xor.with_name("xor.trained.json").read_bytes()


def test_train_without_any_training_section_records_the_seed(runner: CliRunner, xor: Path) -> None:
    document = read_json(xor)
    del document["training"]
    xor.write_text(json.dumps(document, indent=2), encoding="utf-8")
    result = run(runner, "train", xor, "--epochs", "2")
    assert result.exit_code == 0
    written = dagnet.load_graph(xor.with_name("xor.trained.json"))
    assert written.training is not None and written.training.seed is not None
    assert f"seed {written.training.seed} (drawn" in result.stderr


def test_train_with_the_same_seed_writes_identical_bytes(runner: CliRunner, bump: Path) -> None:
    trained = bump.with_name("multi_output.trained.json")
    assert run(runner, "train", bump, "--epochs", "3", "--seed", "5", "-q").exit_code == 0
    first = trained.read_bytes()
    assert run(runner, "train", bump, "--epochs", "3", "--seed", "5", "-q").exit_code == 0
    assert trained.read_bytes() == first
    assert run(runner, "train", bump, "--epochs", "3", "--seed", "6", "-q").exit_code == 0
    assert trained.read_bytes() != first


def test_train_json_prints_one_document_on_stdout(runner: CliRunner, xor: Path) -> None:
    result = run(runner, "train", xor, "--epochs", "4", "--json")
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    summary = json.loads(result.stdout)
    trained = xor.with_name("xor.trained.json")
    assert summary["file"] == str(xor)
    assert summary["output"] == str(trained)
    assert summary["examples"] == 4
    assert summary["epochs"] == 4
    assert summary["seed"] == 0
    assert len(summary["epoch_loss"]) == 4
    assert summary["final_loss"] == read_json(trained)["trained"]["final_loss"]
    assert "wrote" in result.stderr  # messages stay on stderr


def test_train_quiet_prints_nothing(runner: CliRunner, xor: Path) -> None:
    result = run(runner, "train", xor, "--epochs", "4", "-q")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == ""
    assert xor.with_name("xor.trained.json").exists()


def test_train_quiet_json_prints_only_the_document(runner: CliRunner, xor: Path) -> None:
    result = run(runner, "train", xor, "--epochs", "4", "-q", "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert json.loads(result.stdout)["epochs"] == 4


def test_train_reports_progress_every_tenth_of_the_epochs(runner: CliRunner, xor: Path) -> None:
    result = run(runner, "train", xor, "--epochs", "20")
    assert result.exit_code == 0
    progress = re.findall(r"^epoch +(\d+)/20  loss (\S+)$", result.stderr, flags=re.M)
    assert [int(epoch) for epoch, _ in progress] == list(range(2, 21, 2))
    assert all(float(loss) >= 0 for _, loss in progress)


def test_train_progress_always_reports_the_last_epoch(runner: CliRunner, xor: Path) -> None:
    result = run(runner, "train", xor, "--epochs", "25")
    epochs = [int(e) for e in re.findall(r"^epoch +(\d+)/25 ", result.stderr, flags=re.M)]
    assert epochs == [3, 6, 9, 12, 15, 18, 21, 24, 25]


def test_train_learns_xor(runner: CliRunner, xor: Path) -> None:
    result = run(runner, "train", xor, "--epochs", "400", "-q", "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["final_loss"] < summary["epoch_loss"][0] / 10


def test_train_without_data_says_how_to_give_it(runner: CliRunner, xor: Path) -> None:
    document = read_json(xor)
    del document["data"]
    xor.write_text(json.dumps(document, indent=2), encoding="utf-8")
    result = run(runner, "train", xor, "--epochs", "2")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no data")
    assert "--data" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not xor.with_name("xor.trained.json").exists()


def test_train_takes_data_from_the_data_option(runner: CliRunner, xor: Path) -> None:
    document = read_json(xor)
    del document["data"]
    xor.write_text(json.dumps(document, indent=2), encoding="utf-8")
    data = xor.with_name("xor.csv")
    data.write_text("x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n0,0,0\n", encoding="utf-8")
    result = run(runner, "train", xor, "--epochs", "2", "--data", data, "--json", "-q")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["examples"] == 5


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--epochs", "0", "'--epochs'"),
        ("--epochs", "2.5", "'--epochs'"),
        ("--batch-size", "0", "'--batch-size'"),
        ("--learning-rate", "-1", "'--learning-rate'"),
        ("--learning-rate", "0", "'--learning-rate'"),
        ("--learning-rate", "nan", "'--learning-rate'"),
        ("--learning-rate", "inf", "'--learning-rate'"),
        ("--seed", "-1", "'--seed'"),
    ],
)
def test_train_bad_option_values_are_usage_errors(
    runner: CliRunner, xor: Path, option: str, value: str, fragment: str
) -> None:
    result = run(runner, "train", xor, option, value)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert not xor.with_name("xor.trained.json").exists()


def test_train_an_invalid_graph_prints_its_problems(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    document = small_graph()
    document["units"][1]["activation"] = "sigmoyd"
    document["edges"].append({"source": "h", "target": "h"})
    path = write_json(document)
    result = run(runner, "train", path, "--epochs", "2")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:10:7: /units/1/activation: unknown activation 'sigmoyd'")
    assert lines[1].startswith(f"{path}:34:5: /edges/3: edge from unit 'h' to itself")
    assert lines[2] == f"Error: {path} is not a valid dagnet graph (2 errors above)"
    assert len(lines) == 3
    assert not path.with_name("graph.trained.json").exists()


def test_train_a_missing_graph_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    result = run(runner, "train", path)
    assert result.exit_code == 1
    assert f"{path}: cannot read the file: no such file" in result.stderr


def test_train_prints_warnings_and_goes_on(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    document = small_graph(data={"columns": {"x": [0.0, 1.0], "y": [1.0, 0.0]}})
    document["units"].append({"id": "z"})
    document["edges"].append({"source": "x", "target": "z"})
    path = write_json(document)
    result = run(runner, "train", path, "--epochs", "2")
    assert result.exit_code == 0
    assert "warning: unit 'z' reaches no output" in result.stderr
    assert "[DAG102]" in result.stderr


def test_train_a_diverging_run_fails_cleanly(runner: CliRunner, bump: Path) -> None:
    before = snapshot(bump.parent)
    result = run(runner, "train", bump, "--learning-rate", "1e6", "--epochs", "50")
    assert result.exit_code == 1
    message = result.stderr.splitlines()[-1]
    assert re.fullmatch(
        r"Error: training diverged in epoch \d+: .*unit '\w+' was the first whose values blew up; "
        r"try a smaller learning rate than 1e\+06; nothing was written \(--save-on-failure .*\)",
        message,
    ), message
    assert "Warning" not in result.stderr  # no numpy noise around the one clear message
    assert snapshot(bump.parent) == before


def test_train_gives_the_same_parameters_on_one_thread_or_auto(
    runner: CliRunner, xor: Path, tmp_path: Path
) -> None:
    trained = []
    for threads in ("1", "auto"):
        output = tmp_path / f"threads_{threads}.json"
        result = run(
            runner, "train", xor, "--epochs", "20", "--threads", threads, "-o", output, "-q"
        )
        assert result.exit_code == 0, result.stderr
        trained.append(dagnet.load_graph(output).edges.weights)
    assert trained[0] == trained[1]  # xor's minibatch is one block: no sums to round apart


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5", "100000"])
def test_train_refuses_a_thread_count_that_is_not_one(
    runner: CliRunner, xor: Path, bad: str
) -> None:
    result = run(runner, "train", xor, "--threads", bad)
    assert result.exit_code == 2
    assert "is neither a number of threads from 1 to" in result.stderr
    assert "nor 'auto'" in result.stderr


def test_train_help_says_what_threads_auto_does(runner: CliRunner) -> None:
    text = " ".join(run(runner, "train", "--help").stdout.split())
    assert "--threads N|auto" in text
    assert "keeps the faster" in text and "bit for bit" in text
