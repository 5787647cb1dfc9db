"""dagnet info on the command line: text and --json."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result

from dagnet.cli import main
from tests.conftest import GRAPHS, small_graph


def run(runner: CliRunner, *args: str | os.PathLike[str]) -> Result:
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_the_command_prints_the_facts_of_multi_output(runner: CliRunner) -> None:
    result = run(runner, "info", GRAPHS / "multi_output.json")
    assert result.exit_code == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert lines[0] == f"multi_output ({GRAPHS / 'multi_output.json'})"
    assert lines[1:] == [
        "units 5: 1 input, 3 hidden, 1 output",
        "activations 3 sigmoid, 1 identity",
        "edges 5 (0 with a weight)",
        "depth 4 levels (the longest path has 3 edges)",
        "widest level level 2: 2 units (j, k)",
        "largest fan-in 2 (o)",
        "largest fan-out 2 (i)",
        "parameters 9 (5 weights, 4 biases)",
        "warnings none",
    ]


def test_json_and_warnings(runner: CliRunner, write_json: Callable[..., Path]) -> None:
    document = small_graph()
    document["units"].append({"id": "stray", "activation": "relu"})
    document["edges"].append({"source": "x", "target": "stray", "weight": 1.0})
    path = write_json(document)
    result = run(runner, "info", path, "--json")
    assert result.exit_code == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["roles"] == {"input": 1, "hidden": 2, "output": 1}
    assert facts["activations"] == {"tanh": 1, "relu": 1, "identity": 1}
    assert (facts["edges"], facts["weighted_edges"], facts["parameters"]) == (4, 4, 7)
    assert (facts["largest_fan_out"], facts["fan_out_units"]) == (3, ["x"])
    [warning] = facts["warnings"]
    assert "'stray'" in warning and "[DAG102]" in warning
    text = run(runner, "info", path)
    assert "warnings         1" in text.stdout
    assert warning in text.stdout


def test_an_invalid_file_is_refused(runner: CliRunner, write_json: Callable[..., Path]) -> None:
    path = write_json(small_graph(edges=[{"source": "x", "target": "nowhere"}]))
    result = run(runner, "info", path)
    assert result.exit_code == 1
    assert "unknown unit 'nowhere'" in result.stderr


def test_long_lists_are_cut_short_and_json_keeps_them(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    from tests.showing.networks import local_net

    path = write_json(local_net())
    text = " ".join(run(runner, "info", path).stdout.split(" ")).replace("  ", " ")
    text = "\n".join(" ".join(line.split()) for line in text.splitlines()) + "\n"
    assert "level 0: p0, p1, p2, p3, p4, …, p63 (64 units)\n" in text
    assert "largest fan-in 43 (d0, d1, d2, d3, d4, …, d9 (10 units))" in text
    facts = json.loads(run(runner, "info", path, "--json").stdout)
    assert facts["widest_units"] == [f"p{i}" for i in range(64)]
    assert len(facts["fan_in_units"]) == 10


def test_an_unknown_unit_among_many_lists_a_few(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    from tests.showing.networks import local_net

    document = local_net()
    document["edges"].append({"source": "p0", "target": "nowhere"})
    result = run(runner, "validate", write_json(document))
    assert result.exit_code == 1
    assert "known units are p0, p1, p2, p3, p4, …, d9 (117 units)" in result.stdout
