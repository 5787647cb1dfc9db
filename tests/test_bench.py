"""dagnet bench: the generated shapes, the interleaved timing (on a fake clock), and a smoke run
of the command. Nothing here asserts a speed: these machines are shared and noisy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import dagnet
from dagnet.bench import rivals, timing
from dagnet.bench.shapes import SHAPES
from dagnet.cli import main
from dagnet.graph.checks import check
from tests.conftest import GRAPHS


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("edges", [500, 5000])
def test_every_shape_is_a_clean_graph_of_about_the_size_asked(shape: str, edges: int) -> None:
    graph = dagnet.Graph.model_validate(SHAPES[shape](edges, 3))
    assert check(graph) == []  # no errors, and no dead units to warn about
    net = dagnet.Network(graph)
    if shape in ("random", "deep"):
        assert len(graph.edges) == pytest.approx(edges, rel=0.02, abs=100)
    assert SHAPES[shape](edges, 3) == SHAPES[shape](edges, 3)  # seeded
    if shape == "mlp":
        assert len(rivals.dense_layers(net)) >= 2  # hidden layers and the outputs


def test_the_random_shape_keeps_its_depth_and_exact_size() -> None:
    graph = dagnet.Graph.model_validate(SHAPES["random"](120_000))
    assert len(graph.edges) == 120_000
    assert dagnet.Network(graph).plan.levels().max() == 57


def test_the_deep_shape_is_a_thousand_levels_at_12k_edges() -> None:
    net = dagnet.Network(dagnet.Graph.model_validate(SHAPES["deep"](12_000)))
    assert net.plan.levels().max() == 1000
    assert net.plan.n_edges == 12_000


class FakeClock:
    """perf_counter that advances by each engine's step time; sleep only advances it."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_measure_interleaves_settles_cools_down_and_keeps_to_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(timing, "time", clock)
    calls: list[str] = []

    def engine(name: str, seconds: float, **options) -> timing.Engine:
        def step() -> None:
            calls.append(name)
            clock.now += seconds

        return timing.Engine(name, step, **options)

    settle = timing.SETTLE_SECONDS  # a fast step settles in one step
    fast = engine("fast", settle)
    slow = engine("slow", 4.0, warmup=0, settle=False)
    pool = engine("pool", 2 * settle, cooldown=0.25)
    timing.measure([fast, slow, pool], repeat=5, budget=10.0)
    assert calls[:5] == ["fast", "fast", "pool", "pool", "fast"]  # warm-ups, then round 1
    assert calls[5:10] == ["fast", "slow", "pool", "pool", "fast"]  # settle before each timing
    assert fast.seconds == pytest.approx([settle] * 5) and fast.median == pytest.approx(settle)
    assert pool.seconds == pytest.approx([2 * settle] * 5)  # the pauses are not in its times
    assert slow.seconds == pytest.approx([4.0] * 3)  # 12 s spent: left out of rounds 4 and 5


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
        assert {"torch, index_add per level", "torch, masked matmul per level"} <= set(names)
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
