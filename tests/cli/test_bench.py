"""dagnet bench on the command line: a smoke run of each mode, --json, and the refusals.
Nothing here asserts a speed: these machines are shared and noisy."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dagnet.bench import rivals
from dagnet.cli import bench as bench_command
from dagnet.cli import main
from tests.conftest import GRAPHS


def run_bench(*arguments: str) -> dict:
    result = CliRunner().invoke(main, ["bench", *arguments, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_bench_reports_edge_examples_per_second_as_json() -> None:
    report = run_bench(
        "--shape", "layered", "--edges", "2000", "--batch-size", "8", "--repeat", "2"
    )
    assert report["batch_size"] == 8 and report["dtype"] == "float64"
    [dagnet_row] = report["engines"]
    assert dagnet_row["engine"].startswith("dagnet, ")
    assert dagnet_row["steps"] == 2
    expected = report["edges"] * 8 / dagnet_row["median_seconds"]
    assert dagnet_row["edge_examples_per_second"] == pytest.approx(expected)


def test_bench_compare_times_every_rival_on_a_graph_file() -> None:
    report = run_bench(
        str(GRAPHS / "multi_output.json"), "--batch-size", "4", "--repeat", "2",
        "--compare", "--dtype", "float32", "--threads", "1",
    )  # fmt: skip
    names = [row["engine"] for row in report["engines"]]
    assert names[0] == "dagnet, 1 thread"
    assert "reference (per unit, Python)" in names
    if rivals.torch_available():
        assert {"torch, index_add per level", "torch, masked matmul per level",
                "torch, sparse CSR per level"} <= set(names)  # fmt: skip
    if rivals.scipy_available():
        assert "scipy, sparse CSR per level" in names
    others = [row for row in report["engines"] if not row["engine"].startswith("dagnet")]
    assert report["best_rival"] == min(others, key=lambda row: row["median_seconds"])["engine"]
    assert report["units"] == 5 and report["edges"] == 5 and report["levels"] == 3
    for row in report["engines"]:
        assert row["steps"] >= 1 and np.isfinite(row["dagnet_speedup"])


def test_bench_compares_an_mlp_with_numpy_matmul() -> None:
    report = run_bench("--shape", "mlp", "--edges", "1000", "--batch-size", "4", "--repeat", "1",
                       "--compare", "--budget", "0.5")  # fmt: skip
    assert "numpy matmul (MLP)" in [row["engine"] for row in report["engines"]]


def test_bench_refuses_a_shape_with_a_file_and_a_bad_file(tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(main, ["bench", str(GRAPHS / "xor.json"), "--shape", "deep"])
    assert both.exit_code == 2 and "FILE gives one" in both.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    result = runner.invoke(main, ["bench", str(broken)])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_bench_load_times_reading_a_written_graph_file() -> None:
    report = run_bench("--load", "--shape", "deep", "--edges", "1200", "--repeat", "2")
    assert report["edges"] == 1200 and report["runs"] == 2
    assert report["bytes"] > 1200 * 30  # one '{"source": ..., "target": ...}' line per edge
    assert report["median_seconds"] > 0 and report["first_seconds"] > 0


@pytest.mark.parametrize("optimizer", ["adam", "rprop"])
def test_bench_times_the_step_of_another_optimizer(optimizer: str) -> None:
    args = ["bench", str(GRAPHS / "xor.json"), "--optimizer", optimizer, "--repeat", "2", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    [engine] = json.loads(result.stdout)["engines"]
    assert engine["edge_examples_per_second"] > 0
    refused = CliRunner().invoke(main, [*args, "--compare"])
    assert refused.exit_code == 2
    assert "--compare needs --optimizer sgd" in refused.stderr


def test_bench_plain_times_sgd_on_squared_error_beside_the_step() -> None:
    report = run_bench(
        "--edges", "2000", "--batch-size", "8", "--repeat", "2", "--threads", "1",
        "--optimizer", "adam", "--loss", "softmax_cross_entropy", "--plain",
    )  # fmt: skip
    step, plain = report["engines"]
    assert (step["engine"], plain["engine"]) == (
        "dagnet, 1 thread",
        "dagnet sgd, squared_error, 1 thread",
    )
    assert plain["dagnet_speedup"] == pytest.approx(
        plain["median_seconds"] / step["median_seconds"]
    )
    assert report["best_rival"] is None  # the plain step is dagnet's own, not a rival


def test_bench_at_2000_edges_returns() -> None:
    # The random generator used to loop for ever here: its levels held fewer than 2000 edges.
    report = run_bench("--edges", "2000", "--batch-size", "2", "--repeat", "1")
    assert report["edges"] == 2000


@pytest.mark.parametrize("edges", ["0", "10000001", "100000000"])
def test_bench_refuses_sizes_out_of_range(edges: str) -> None:
    result = CliRunner().invoke(main, ["bench", "--edges", edges])
    assert result.exit_code == 2
    assert "1<=x<=10000000" in result.stderr


def test_bench_refuses_a_size_that_does_not_fit_in_memory(monkeypatch) -> None:
    monkeypatch.setattr(bench_command, "available_memory", lambda: 10**9)
    result = CliRunner().invoke(main, ["bench", "--edges", "5000000"])
    assert result.exit_code == 2
    assert "--edges 5000000: a generated graph of that size needs about 2.5 GB" in result.stderr
    assert "1.0 GB of memory is available; give --edges in the range 1..2000000" in result.stderr


def test_bench_busy_says_so_and_leaves_no_process_behind(monkeypatch) -> None:
    started = []
    real = bench_command.busy_core

    @contextmanager
    def watched():
        with real() as process:
            assert process.poll() is None  # spinning while the engines are timed
            started.append(process)
            yield process

    monkeypatch.setattr(bench_command, "busy_core", watched)
    report = run_bench(str(GRAPHS / "xor.json"), "--repeat", "2", "--busy")
    assert report["busy"] is True
    text = CliRunner().invoke(main, ["bench", str(GRAPHS / "xor.json"), "--repeat", "1", "--busy"])
    assert "one core kept busy by a competing process" in text.stdout
    assert len(started) == 2 and all(process.poll() is not None for process in started)
    assert run_bench(str(GRAPHS / "xor.json"), "--repeat", "1")["busy"] is False
