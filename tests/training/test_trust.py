"""Nothing the user owns is lost: training faults, interruptions, failed writes, limits.

A diverging run and Ctrl-C stop cleanly and write only when asked (``--save-on-failure``); a
write that fails (no permission, a full disk) leaves the old output byte for byte and no
temporary file; no command ever changes its input graph or data.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

import dagnet
from dagnet.cli import main
from dagnet.errors import TrainingError, TrainingInterrupted
from dagnet.graph import reading as files
from dagnet.graph import upgrades
from dagnet.training import fit as train
from tests.conftest import GRAPHS, ROOT, small_graph


def invoke(runner: CliRunner, *args: Any) -> Result:
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"dagnet {args} raised {result.exception!r}") from result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


def everything_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def one_path(tmp_path: Path) -> Path:
    for name in ("one_path.json", "one_path.csv"):
        shutil.copyfile(GRAPHS / name, tmp_path / name)
    return tmp_path / "one_path.json"


def linear_net() -> dagnet.Network:
    """x -> h -> y, all identity: with a large learning rate, the loss grows without overflow."""
    document = small_graph()
    document["units"][1] = {"id": "h", "activation": "identity"}
    return dagnet.Network(dagnet.Graph.model_validate(document))


X = np.linspace(-1, 1, 20)[:, None]


# training faults: the library -------------------------------------------------------------------


def test_a_loss_that_grows_a_millionfold_is_divergence_even_while_finite() -> None:
    net = linear_net()
    epochs: list[float] = []
    with pytest.raises(TrainingError) as caught:
        dagnet.fit(
            net, X, 3 * X, epochs=100, learning_rate=3, batch_size=20, shuffle=False,
            progress=lambda epoch, loss, held: epochs.append(loss),
        )  # fmt: skip
    error = caught.value
    message = str(error)
    assert message.startswith(f"training diverged in epoch {error.epoch}: the loss grew")
    # h and y both grow; which crosses the line first depends on the last bits of the arithmetic
    assert re.search(
        r"more than 1e\+06 times; unit '[hy]' was the first whose values blew up", message
    )
    assert message.endswith("try a smaller learning rate than 3")
    # the epochs before it stayed under the rule, and the network is left as the last of them was
    assert error.epochs_done == error.epoch - 1 == len(epochs)
    if epochs:  # (in epoch 1 the first minibatch's loss sets the line)
        assert max(epochs) <= train.divergence_line(epochs[0])
    assert np.isclose(net.loss(X, 3 * X), epochs[-1]) or net.loss(X, 3 * X) < 1e12
    assert np.all(np.isfinite(net.weights))


@pytest.mark.parametrize("batch_size", [1, 4])
def test_a_first_loss_of_zero_does_not_make_an_ordinary_loss_divergence(batch_size) -> None:
    # XOR's first example is (0, 0): with biases starting at 0 every unit is 0 on it, and so is
    # its loss; the next example's ordinary loss (above 1) is no divergence. In order, not
    # shuffled, the first step at batch size 1 is on that example.
    graph = dagnet.load_graph(GRAPHS / "xor.json")
    x, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float), np.array([[0], [1], [1], [0]], float)
    for seed in range(4):
        net = dagnet.Network(graph, seed=seed)
        assert net.loss(x[:1], y[:1]) == 0.0
        history = dagnet.fit(net, x, y, epochs=3, batch_size=batch_size, shuffle=False,
                             learning_rate=0.3)  # fmt: skip
        assert len(history.epoch_loss) == 3
    assert train.divergence_line(0.0) == train.DIVERGENCE_FACTOR


def test_a_loss_that_overflows_restores_the_last_finite_step() -> None:
    net = linear_net()
    with pytest.raises(TrainingError) as caught:
        dagnet.fit(net, X * 1e3, 3e3 * X, epochs=50, learning_rate=1e6, batch_size=5, seed=0)
    # Caught as it grows past a million times the first minibatch's loss, before it overflows.
    assert "training diverged in epoch 1" in str(caught.value)
    assert "smaller learning rate" in str(caught.value)
    assert np.isfinite(net.loss(X * 1e3, 3e3 * X))


@pytest.fixture
def ctrl_c_interrupts() -> Iterator[None]:
    """Python's own SIGINT handler, whatever the test run inherited: a run started in the
    background by a shell ignores SIGINT, and then no Ctrl-C reaches dagnet at all."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_interrupts")
def test_ctrl_c_stops_after_the_step_under_way(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.linspace(-1, 1, 8)[:, None]
    y = np.sin(x)
    settings: dict[str, Any] = {"learning_rate": 0.1, "batch_size": 4, "shuffle": False}

    def ctrl_c_after_epoch_2(epoch: int, loss: float, held: float | None) -> None:
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real signal, as a terminal sends it

    net = linear_net()
    with pytest.raises(TrainingInterrupted) as caught:
        dagnet.fit(net, x, y, epochs=10, progress=ctrl_c_after_epoch_2, **settings)
    assert (caught.value.epoch, caught.value.steps, caught.value.epochs_done) == (3, 1, 2)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handed back

    # The same two epochs, then exactly one whole step by hand: the same parameters.
    expected = linear_net()
    dagnet.fit(expected, x, y, epochs=2, **settings)
    gradients = expected.gradients(x[:4], y[:4])
    assert np.allclose(net.weights, expected.weights - 0.1 * gradients.weights, atol=1e-15)
    assert np.allclose(net.biases, expected.biases - 0.1 * gradients.biases, atol=1e-15)


# training faults: the command line --------------------------------------------------------------


def test_a_diverging_run_writes_nothing_without_the_flag(runner: CliRunner, one_path: Path) -> None:
    before = everything_in(one_path.parent)
    result = invoke(runner, "train", one_path, "--learning-rate", "50", "-q")
    assert result.exit_code == 1
    [message] = result.stderr.splitlines()
    assert message.startswith("Error: training diverged in epoch 1: the loss grew")
    assert "was the first whose values blew up; try a smaller learning rate than 50" in message
    assert message.endswith(
        "nothing was written (--save-on-failure keeps the last good parameters)"
    )
    assert everything_in(one_path.parent) == before


def test_save_on_failure_writes_the_last_good_parameters(runner: CliRunner, one_path: Path) -> None:
    result = invoke(runner, "train", one_path, "--learning-rate", "50", "-q", "--save-on-failure")
    assert result.exit_code == 1
    output = one_path.with_name("one_path.trained.json")
    # It blows up in epoch 1: the last good parameters are those of the steps before, and with
    # no whole epoch done the file records no result.
    assert result.stderr.rstrip().endswith(
        f"0 whole epochs done, loss {_loss(result)}) to {output}"
    )
    saved = dagnet.load_graph(output)  # a complete, valid file
    assert saved.trained is None
    assert saved.training is not None and saved.training.epochs == 2000  # what was asked
    assert all(np.isfinite(edge.weight) for edge in saved.edges)  # type: ignore[arg-type]
    assert sorted(p.name for p in one_path.parent.iterdir()) == [
        "one_path.csv", "one_path.json", "one_path.trained.json"
    ]  # fmt: skip


def _loss(result: Result) -> str:
    return result.stderr.split(", loss ")[1].split(")")[0]


@pytest.mark.usefixtures("ctrl_c_interrupts")
@pytest.mark.parametrize("save", [False, True], ids=["plain", "save-on-failure"])
def test_ctrl_c_in_train_exits_130(
    runner: CliRunner, one_path: Path, monkeypatch: pytest.MonkeyPatch, save: bool
) -> None:
    def ctrl_c_at_epoch_3(epochs: int) -> Any:
        return lambda epoch, loss, held: epoch == 3 and os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr("dagnet.cli.train._every_tenth", ctrl_c_at_epoch_3)
    before = everything_in(one_path.parent)
    result = invoke(runner, "train", one_path, *(["--save-on-failure"] if save else []))
    assert result.exit_code == 130
    output = one_path.with_name("one_path.trained.json")
    if save:
        assert result.stderr.startswith("interrupted in epoch 4 after 1 step; wrote the last good")
        assert result.stderr.rstrip().endswith(
            f"3 whole epochs done, loss {_loss(result)}) to {output}"
        )
        assert dagnet.load_graph(output).trained.epochs == 3  # type: ignore[union-attr]
    else:
        assert result.stderr == (
            "interrupted in epoch 4 after 1 step; nothing was written "
            "(--save-on-failure keeps the last good parameters)\n"
        )
        assert everything_in(one_path.parent) == before


# atomic writes -----------------------------------------------------------------------------------


def _no_permission(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` unwritable: by its mode, or, for root (whom modes do not stop), by a fake."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return
    real_open = os.open

    def refused(path: Any, *args: Any, **kwargs: Any) -> int:
        if Path(path).parent.resolve() == folder.resolve() and args and args[0] & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refused)


def _disk_full(monkeypatch: pytest.MonkeyPatch, call: str) -> None:
    def full(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, call, full)


FAULTS = {
    "no-permission": lambda mp, folder: _no_permission(mp, folder),
    "disk-full-at-write": lambda mp, folder: _disk_full(mp, "write"),
    "disk-full-at-fsync": lambda mp, folder: _disk_full(mp, "fsync"),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_failed_write_leaves_the_old_output_and_says_so(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str, command: str
) -> None:
    graph = tmp_path / "in" / "xor.json"
    graph.parent.mkdir()
    shutil.copyfile(GRAPHS / "xor.json", graph)
    out = tmp_path / "out"
    out.mkdir()
    output = out / "result"
    output.write_bytes(b"the previous result\n")
    if command == "predict":
        assert invoke(runner, "train", graph, "-q").exit_code == 0
        graph = graph.with_name("xor.trained.json")
    inputs = everything_in(graph.parent)
    FAULTS[fault](monkeypatch, out)
    result = invoke(
        runner, command, graph, "-o", output, "--force", *(["-q"] * (command == "train"))
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot write {output}: ")
    assert result.stderr.endswith("; the existing file is unchanged\n")
    assert output.read_bytes() == b"the previous result\n"
    assert [p.name for p in out.iterdir()] == ["result"]  # no temporary file left behind
    assert everything_in(graph.parent) == inputs
    out.chmod(0o755)


def test_a_failed_write_of_a_new_file_says_nothing_was_written(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(GRAPHS / "xor.json", tmp_path / "xor.json")
    _disk_full(monkeypatch, "fsync")
    result = invoke(runner, "train", tmp_path / "xor.json", "-q")
    assert result.exit_code == 1
    assert result.stderr.endswith("No space left on device; nothing was written\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xor.json"]


# inputs stay as they were -------------------------------------------------------------------------

FANN_SOURCE = ROOT / "tests" / "interop" / "fixtures" / "fann" / "shortcut_0.net"

COMMANDS = {
    "validate": ["validate", "{graph}"],
    "validate --json --data": ["validate", "--json", "{graph}", "--data", "{data}"],
    "train": ["train", "{graph}", "--epochs", "3", "-q"],
    "train --data -o": ["train", "{graph}", "--data", "{data}", "--epochs", "3", "-o", "t.json"],
    "train diverging --save-on-failure": [
        "train", "{graph}", "--learning-rate", "50", "--save-on-failure", "-q"
    ],
    "predict": ["predict", "{trained}"],
    "evaluate": ["evaluate", "{trained}"],
    "predict --data -o": ["predict", "{trained}", "--data", "{data}", "-o", "p.csv"],
    "schema": ["schema"],
    "explain --data": ["explain", "{graph}", "--data", "{data}", "--example", "2"],
    "gradcheck --data": ["gradcheck", "{graph}", "--data", "{data}"],
    "info --json": ["info", "{graph}", "--json"],
    "draw -o": ["draw", "{graph}", "-o", "picture.dot"],
    "bench": ["bench", "{graph}", "--batch-size", "4", "--repeat", "2"],
    "import -o": ["import", "{fann}", "-o", "imported.json"],
    "export -o": ["export", "{trained}", "-o", "model.onnx"],
}  # fmt: skip


def test_every_command_is_in_the_input_safety_table() -> None:
    named = {args[0] for args in COMMANDS.values()}
    assert set(main.commands) <= named, f"add {set(main.commands) - named} to COMMANDS"


@pytest.mark.parametrize("name", COMMANDS)
def test_no_command_changes_its_input_graph_or_data(
    runner: CliRunner, one_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(one_path.parent)
    trained = one_path.with_name("given.trained.json")
    shutil.copyfile(GRAPHS / "one_path.json", trained)  # every weight is written: predictable
    shutil.copyfile(FANN_SOURCE, one_path.with_name("source.net"))
    inputs = everything_in(one_path.parent)
    values = {"graph": one_path.name, "data": "one_path.csv", "trained": trained.name}
    values["fann"] = "source.net"
    invoke(runner, *[arg.format(**values) for arg in COMMANDS[name]])
    after = everything_in(one_path.parent)
    assert {key: after[key] for key in inputs} == inputs


# limits and versions -----------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(small_graph()), encoding="utf-8")
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    monkeypatch.setattr(files, "parse_graph_text", None)  # never reached
    result = invoke(runner, "validate", path)
    assert result.exit_code == 1
    assert result.stdout == (
        f"{path}: the file is larger than 100 bytes, the most dagnet reads [DAG006]\n"
    )


def test_a_two_step_upgrade_chain_runs_in_order(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Made-up history: v-1 called units "nodes", v0 called edges "links".
    steps: list[int] = []

    def upgrade_minus_1(document: dict[str, Any]) -> dict[str, Any]:
        steps.append(-1)
        document = dict(document, format_version=0)
        document["units"] = document.pop("nodes")
        return document

    def upgrade_0(document: dict[str, Any]) -> dict[str, Any]:
        steps.append(0)
        document = dict(document, format_version=1)
        document["edges"] = document.pop("links")
        return document

    real = upgrades.UPGRADES  # 1 -> 2, which only bumps the version
    monkeypatch.setattr(upgrades, "UPGRADES", {-1: upgrade_minus_1, 0: upgrade_0, **real})
    monkeypatch.setattr(upgrades, "OLDEST_FORMAT_VERSION", -1)
    old = small_graph(format_version=-1)
    old["nodes"], old["links"] = old.pop("units"), old.pop("edges")
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    assert invoke(runner, "validate", path).exit_code == 0
    assert steps == [-1, 0]
    assert dagnet.load_graph(path) == dagnet.Graph.model_validate(small_graph(format_version=2))
    too_old = path.with_name("older.json")
    too_old.write_text(json.dumps(small_graph(format_version=-2)), encoding="utf-8")
    result = invoke(runner, "validate", too_old)
    assert "format_version -2 is not supported; this dagnet reads format_version -1 to 2" in (
        result.stdout
    )


# validate --json ---------------------------------------------------------------------------------


def test_validate_json_prints_one_line_per_file(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(small_graph()), encoding="utf-8")
    bad_data = tmp_path / "bad-data.json"
    bad_data.write_text(
        json.dumps(small_graph(data={"columns": {"x": [1.0, 2.0], "y": [1.0]}}), indent=2),
        encoding="utf-8",
    )
    missing = tmp_path / "missing.json"
    result = invoke(runner, "validate", "--json", good, bad_data, missing)
    assert result.exit_code == 1
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert documents == [
        {"file": str(good), "valid": True, "problems": []},
        {"file": str(bad_data), "valid": False, "problems": [{
            "code": "DAG044", "severity": "error", "pointer": "/data/columns/y", "line": 41,
            "column": 7,
            "message": "the graph's inline data: column 'y' has 1 values but 'x' has 2",
        }]},
        {"file": str(missing), "valid": False, "problems": [{
            "code": "DAG001", "severity": "error", "pointer": None, "line": None, "column": None,
            "message": "cannot read the file: no such file or directory",
        }]},
    ]  # fmt: skip


def test_validate_json_keeps_warnings_and_stays_valid(runner: CliRunner, tmp_path: Path) -> None:
    document = small_graph()
    document["units"].append({"id": "z"})
    path = tmp_path / "loose.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = invoke(runner, "validate", "--json", path)
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert [(p["code"], p["severity"]) for p in report["problems"]] == [
        ("DAG101", "warning"),
        ("DAG102", "warning"),
    ]
