"""The command line contract of DESIGN.md §5: validate, train, predict, schema, exit codes.

Every command runs through Click's ``CliRunner`` (stdout and stderr kept apart) in a fresh
``tmp_path``; the example graphs are copied there first, so no test writes into the repository.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner, Result

import dagnet
from dagnet.cli import main
from tests.conftest import GRAPHS, ROOT, small_graph

SCHEMA_FILE = ROOT / "schemas" / "graph.schema.json"


def run(runner: CliRunner, *args: str | os.PathLike[str]) -> Result:
    """Invoke ``dagnet ARGS``; whatever happens, no Python exception may escape to the user."""
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"dagnet {' '.join(map(str, args))} raised {result.exception!r} instead of "
            f"printing a message\nstderr: {result.stderr}"
        ) from result.exception
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    return result


def copy_example(name: str, folder: Path) -> Path:
    """Copy graphs/NAME.json, and its CSV if it has one, into ``folder``."""
    graph = folder / f"{name}.json"
    shutil.copyfile(GRAPHS / f"{name}.json", graph)
    data = GRAPHS / f"{name}.csv"
    if data.exists():
        shutil.copyfile(data, folder / data.name)
    return graph


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_predictions(text: str) -> tuple[list[str], np.ndarray]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], np.array([[float(cell) for cell in row] for row in rows[1:]])


# validate ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(GRAPHS.glob("*.json")), ids=lambda p: p.name)
def test_validate_accepts_every_example_graph(runner: CliRunner, path: Path) -> None:
    result = run(runner, "validate", path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert re.fullmatch(
        rf"{re.escape(str(path))}: valid \(\d+ units?, \d+ edges?\)\n", result.stderr
    )


def test_validate_accepts_several_valid_files_at_once(runner: CliRunner) -> None:
    paths = sorted(GRAPHS.glob("*.json"))
    result = run(runner, "validate", *paths)
    assert result.exit_code == 0
    assert result.stderr.count(": valid (") == len(paths)


def test_validate_exits_1_on_an_invalid_file(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    document = small_graph()
    document["units"][1]["activation"] = "sigmoyd"
    path = write_json(document)
    result = run(runner, "validate", path)
    assert result.exit_code == 1
    assert "[DAG020]" in result.stdout
    assert result.stderr == f"{path}: 1 error\n"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(["validate"], "Missing argument", id="no-file"),
        pytest.param(
            ["validate", "--frobnicate", "graph.json"], "No such option", id="unknown-option"
        ),
        pytest.param(["frobnicate"], "No such command", id="unknown-command"),
    ],
)
def test_usage_errors_exit_2(runner: CliRunner, args: list[str], fragment: str) -> None:
    result = run(runner, *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert result.stdout == ""


def _mutate(change: Callable[[dict[str, Any]], None]) -> str:
    document = small_graph()
    change(document)
    return json.dumps(document, indent=2)


def _text(change: Callable[[str], str]) -> str:
    return change(json.dumps(small_graph(), indent=2))


def _set(*path_and_value: Any) -> Callable[[dict[str, Any]], None]:
    *path, key, value = path_and_value

    def change(document: dict[str, Any]) -> None:
        target = document
        for part in path:
            target = target[part]
        target[key] = value

    return change


def _delete(*path: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target = document
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


def _append(key: str, item: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda document: document[key].append(item)


def _rename_key(document: dict[str, Any], where: list[Any], old: str, new: str) -> None:
    target = document
    for part in where:
        target = target[part]
    target[new] = target.pop(old)


def _edge_into_input(document: dict[str, Any]) -> None:
    document["units"].append({"id": "x2", "role": "input"})
    document["edges"].append({"source": "h", "target": "x2"})


def _cycle(document: dict[str, Any]) -> None:
    document["units"] = [
        {"id": "x", "role": "input"},
        {"id": "a"},
        {"id": "b"},
        {"id": "c"},
        {"id": "y", "role": "output"},
    ]
    document["edges"] = [
        {"source": "x", "target": "a"},
        {"source": "a", "target": "b"},
        {"source": "b", "target": "c"},
        {"source": "c", "target": "a"},
        {"source": "c", "target": "y"},
    ]


# The text of small_graph() written with json.dumps(indent=2), for finding the lines below:
#  1 {                           13     {                     25       "source": "h",
#  2   "format_version": 1,      14       "id": "y",          26       "target": "y",
#  3   "units": [                15       "role": "output"    27       "weight": -0.3
#  4     {                       16     }                     28     },
#  5       "id": "x",            17   ],                      29     {
#  6       "role": "input"       18   "edges": [              30       "source": "x",
#  7     },                      19     {                     31       "target": "y",
#  8     {                       20       "source": "x",      32       "weight": 0.2
#  9       "id": "h",            21       "target": "h",      33     }
# 10       "activation": "tanh", 22       "weight": 0.5       34   ]
# 11       "bias": 0.1           23     },                    35 }
# 12     },                      24     {
# A key's position is that of its opening quote; an array element's, that of its first character.
# Members appended to a list of three start on line 17 (units) or 34 (edges).
RULES = [
    # (id, file content, code, pointer, line, column, message fragment)
    ("invalid-json", _text(lambda t: t.replace('"h",', '"h"', 1)),
     "DAG003", None, 10, 7, "invalid JSON: expecting ',' delimiter"),
    ("trailing-comma", _text(lambda t: t.replace('"weight": 0.2', '"weight": 0.2,')),
     "DAG003", None, 33, 5, "trailing comma before '}'"),
    ("empty-file", "", "DAG003", None, None, None, "the file is empty"),
    ("blank-file", "  \n\n", "DAG003", None, None, None, "the file is empty"),
    ("not-an-object", "[1, 2]", "DAG010", "/", 1, 1, "expected a JSON object, found an array"),
    ("missing-format-version", _mutate(_delete("format_version")),
     "DAG005", "/format_version", 1, 1, "missing 'format_version'"),
    ("newer-format-version", _mutate(_set("format_version", 2)),
     "DAG005", "/format_version", 2, 3, "format_version 2 is newer than this dagnet knows"),
    ("unsupported-format-version", _mutate(_set("format_version", 0)),
     "DAG005", "/format_version", 2, 3, "format_version 0 is not supported"),
    ("format-version-text", _mutate(_set("format_version", "1")),
     "DAG005", "/format_version", 2, 3, "must be a whole number, found the string \"1\""),
    ("weight-text", _mutate(_set("edges", 0, "weight", "0.5")),
     "DAG010", "/edges/0/weight", 22, 7, "'weight' must be a number, found the string \"0.5\""),
    ("bias-true", _mutate(_set("units", 1, "bias", True)),
     "DAG010", "/units/1/bias", 11, 7, "'bias' must be a number, found true"),
    ("epochs-fraction", _mutate(_set("training", {"epochs": 2.5})),
     "DAG010", "/training/epochs", 36, 5, "'epochs' must be a whole number, found the number 2.5"),
    ("units-not-a-list", _mutate(_set("units", {"id": "x"})),
     "DAG010", "/units", 3, 3, "'units' must be an array, found an object"),
    ("data-without-source", _mutate(_set("data", {})),
     "DAG010", "/data", 35, 3, "exactly one of 'path' or 'columns'"),
    ("unknown-key", _mutate(lambda d: _rename_key(d, ["edges", 0], "weight", "wieght")),
     "DAG011", "/edges/0/wieght", 22, 7, "unknown key 'wieght' (did you mean 'weight'?)"),
    ("unknown-top-level-key", _mutate(_set("trainig", {"epochs": 3})),
     "DAG011", "/trainig", 35, 3, "unknown key 'trainig' (did you mean 'training'?)"),
    ("missing-edges", _mutate(_delete("edges")),
     "DAG012", "/edges", 1, 1, "missing required key 'edges'"),
    ("nan", _text(lambda t: t.replace("0.5", "NaN")),
     "DAG013", "/edges/0/weight", 22, 7, "expected a finite number, found NaN"),
    ("minus-infinity", _text(lambda t: t.replace("0.5", "-Infinity")),
     "DAG013", "/edges/0/weight", 22, 7, "expected a finite number, found -Infinity"),
    ("overflowing-number", _text(lambda t: t.replace("0.5", "1e400")),
     "DAG013", "/edges/0/weight", 22, 7, "expected a finite number, found 1e400"),
    ("bad-unit-id", _mutate(_append("units", {"id": "a b"})),
     "DAG014", "/units/3/id", 18, 7, "'a b' is not a valid unit id"),
    ("unit-id-starting-with-digit", _mutate(_append("units", {"id": "1a"})),
     "DAG014", "/units/3/id", 18, 7, "'1a' is not a valid unit id"),
    ("unknown-role", _mutate(_set("units", 0, "role", "inptu")),
     "DAG015", "/units/0/role", 6, 7, "(did you mean 'input'?)"),
    ("learning-rate-zero", _mutate(_set("training", {"learning_rate": 0})),
     "DAG015", "/training/learning_rate", 36, 5, "'learning_rate' must be greater than 0"),
    ("unknown-activation", _mutate(_set("units", 1, "activation", "sigmoyd")),
     "DAG020", "/units/1/activation", 10, 7, "'sigmoyd' (did you mean 'sigmoid'?)"),
    ("duplicate-unit-id", _mutate(_append("units", {"id": "h"})),
     "DAG021", "/units/3/id", 18, 7, "duplicate unit id 'h'; it is already used at /units/1"),
    ("unknown-unit", _mutate(_set("edges", 1, "target", "z")),
     "DAG022", "/edges/1/target", 26, 7, "unknown unit 'z'; known units are x, h, y"),
    ("unknown-unit-typo", _mutate(_set("edges", 1, "source", "hh")),
     "DAG022", "/edges/1/source", 25, 7, "unknown unit 'hh' (did you mean 'h'?)"),
    ("duplicate-edge", _mutate(_append("edges", {"source": "x", "target": "h"})),
     "DAG023", "/edges/3", 34, 5, "edge x -> h appears again; it is already at /edges/0"),
    ("self-loop", _mutate(_append("edges", {"source": "h", "target": "h"})),
     "DAG024", "/edges/3", 34, 5, "edge from unit 'h' to itself"),
    # units gain a fourth member (4 lines), so the edges start 4 lines lower
    ("edge-into-input", _mutate(_edge_into_input),
     "DAG025", "/edges/3/target", 40, 7, "edge into input unit 'x2'"),
    ("activation-on-input", _mutate(_set("units", 0, "activation", "tanh")),
     "DAG026", "/units/0/activation", 7, 7, "input unit 'x' has an activation"),
    ("bias-on-input", _mutate(_set("units", 0, "bias", 0.1)),
     "DAG026", "/units/0/bias", 7, 7, "input unit 'x' has a bias"),
    ("no-input", _mutate(_set("units", 0, "role", "hidden")),
     "DAG027", "/units", 3, 3, "the graph has no input unit"),
    ("no-output", _mutate(_set("units", 2, "role", "hidden")),
     "DAG028", "/units", 3, 3, "the graph has no output unit"),
    # units x(4 lines) a b c (3 each) y(4): "edges" on line 22, /edges/1 (a -> b) on line 27
    ("cycle", _mutate(_cycle), "DAG029", "/edges/1", 27, 5, "cycle a -> b -> c -> a"),
    ("duplicate-key", _text(lambda t: t.replace('"h",', '"h",\n      "id": "h",', 1)),
     "DAG004", "/units/1/id", 10, 7, "the key 'id' appears twice in this object"),
    ("duplicate-top-level-key", _text(lambda t: t.replace("{", '{\n  "format_version": 1,', 1)),
     "DAG004", "/format_version", 3, 3, "the key 'format_version' appears twice"),
    # the é of "hé" written in Latin-1: line 9 is `      "id": "h\xe9",`
    ("not-utf8", _text(lambda t: t.replace('"h",', '"h\u00e9",', 1)).encode("latin-1"),
     "DAG002", None, 9, 15, "the file is not UTF-8 text: byte 0xe9"),
    # three levels ({, "units": [, {) before the brackets: the 98th of them opens level 101
    ("deep-nesting", _text(lambda t: t.replace('"tanh"', "[" * 101 + "]" * 101)),
     "DAG006", None, 10, 21 + 97, "the JSON is nested 104 levels deep; dagnet reads at most 100"),
    ("missing-data-file", _mutate(_set("data", {"path": "nowhere.csv"})),
     "DAG040", "/data/path", 36, 5, "nowhere.csv: cannot read the data file: no such file"),
]  # fmt: skip


def test_the_line_numbers_of_the_rules_table_hold() -> None:
    lines = json.dumps(small_graph(), indent=2).splitlines()
    assert len(lines) == 35
    assert lines[9] == '      "activation": "tanh",'
    assert lines[21] == '      "weight": 0.5'
    assert lines[33] == "  ]"


@pytest.mark.parametrize(
    ("content", "code", "pointer", "line", "column", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in RULES],
)
def test_validate_reports_each_rule_at_its_place(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: str | bytes,
    code: str,
    pointer: str | None,
    line: int | None,
    column: int | None,
    fragment: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    path = Path("graph.json")
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    result = run(runner, "validate", "graph.json")
    assert result.exit_code == 1, result.stdout
    problems = result.stdout.splitlines()
    assert len(problems) == 1, result.stdout
    head = "graph.json"
    if line is not None:
        head += f":{line}:{column}"
    if pointer is not None:
        head += f": {pointer}"
    problem = problems[0]
    assert problem.startswith(f"{head}: "), problem
    assert fragment in problem
    assert problem.endswith(f" [{code}]")
    assert code in dagnet.errors.CODES
    assert result.stderr == "graph.json: 1 error\n"


def test_every_graph_rule_code_is_covered_by_the_table() -> None:
    file_codes = {code for code in dagnet.errors.CODES if code < "DAG040"}
    covered = {case[2] for case in RULES} | {"DAG001"}  # a folder, a missing file: below
    assert file_codes - covered == set()


def test_validate_a_folder(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "graph.json"
    folder.mkdir()
    result = run(runner, "validate", folder)
    assert result.exit_code == 1
    assert result.stdout == f"{folder}: cannot read the file: it is a folder [DAG001]\n"


def test_validate_a_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    result = run(runner, "validate", path)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}: cannot read the file: no such file")
    assert result.stdout.endswith("[DAG001]\n")


def test_validate_reports_every_problem_of_a_file(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    document = small_graph()
    document["units"][1]["activation"] = "sigmoyd"  # line 10
    document["edges"].append({"source": "y", "target": "h"})  # /edges/3, line 34: h -> y -> h
    document["edges"].append({"source": "x", "target": "y"})  # /edges/4, line 38: again
    path = write_json(document)
    result = run(runner, "validate", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:10:7: /units/1/activation: unknown activation 'sigmoyd' (did you mean "
        "'sigmoid'?); known activations are identity, sigmoid, tanh, relu, leaky_relu, elu, "
        "softplus, gaussian, sin [DAG020]",
        f"{path}:24:5: /edges/1: cycle h -> y -> h; remove one of these edges [DAG029]",
        f"{path}:38:5: /edges/4: edge x -> y appears again; it is already at /edges/2 [DAG023]",
    ]
    assert result.stderr == f"{path}: 3 errors\n"


def test_validate_reports_every_structural_problem_of_a_file(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    document = small_graph()
    document["edges"][0]["weight"] = "0.5"
    document["edges"][1]["wieght"] = document["edges"][1].pop("weight")
    document["units"][2]["role"] = "outptu"
    text = json.dumps(document, indent=2).replace("0.2", "NaN")
    path = write_json(text)
    result = run(runner, "validate", path)
    assert result.exit_code == 1
    codes = re.findall(r"\[(DAG\d+)\]$", result.stdout, flags=re.M)
    assert sorted(codes) == ["DAG010", "DAG011", "DAG013", "DAG015"]
    lines = [int(line.split(":")[1]) for line in result.stdout.splitlines()]
    assert lines == sorted(lines)


def test_validate_several_files_exits_1_if_any_is_invalid(
    runner: CliRunner, write_json: Callable[..., Path]
) -> None:
    good = write_json(small_graph(), "good.json")
    bad_document = small_graph()
    bad_document["edges"].append({"source": "h", "target": "h"})
    bad = write_json(bad_document, "bad.json")
    also_good = write_json(small_graph(name="other"), "also_good.json")
    result = run(runner, "validate", good, bad, also_good)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{bad}:34:5: /edges/3: edge from unit 'h' to itself; a unit cannot feed itself [DAG024]"
    ]
    assert result.stderr.splitlines() == [
        f"{good}: valid (3 units, 3 edges)",
        f"{bad}: 1 error",
        f"{also_good}: valid (3 units, 3 edges)",
    ]


@pytest.mark.parametrize(
    ("edge", "code", "message"),
    [
        pytest.param(
            {"source": "z", "target": "y", "weight": 1.0},
            "DAG101",
            "no input reaches unit 'z'; its value is a constant",
            id="unreached",
        ),
        pytest.param(
            {"source": "x", "target": "z", "weight": 1.0},
            "DAG102",
            "unit 'z' reaches no output; it cannot affect the loss",
            id="dead-end",
        ),
    ],
)
def test_validate_prints_warnings_but_exits_0(
    runner: CliRunner,
    write_json: Callable[..., Path],
    edge: dict[str, Any],
    code: str,
    message: str,
) -> None:
    document = small_graph()
    document["units"].append({"id": "z"})  # /units/3, line 17
    document["edges"].append(edge)
    path = write_json(document)
    result = run(runner, "validate", path)
    assert result.exit_code == 0
    assert result.stdout == f"{path}:17:5: /units/3: warning: {message} [{code}]\n"
    assert result.stderr == f"{path}: valid (4 units, 4 edges), 1 warning\n"


# train -------------------------------------------------------------------------------------------


@pytest.fixture
def xor(tmp_path: Path) -> Path:
    """graphs/xor.json (inline data) copied into a fresh folder."""
    return copy_example("xor", tmp_path)


@pytest.fixture
def bump(tmp_path: Path) -> Path:
    """graphs/multi_output.json with its CSV, copied into a fresh folder."""
    return copy_example("multi_output", tmp_path)


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
    assert graph.trained.final_loss >= 0
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
    # The graph's "data": {"path": "multi_output.csv"} is input data too (DESIGN.md §5: "the
    # input graph and data are never written unless --in-place names that intent").
    data = bump.with_name("multi_output.csv")
    before = data.read_bytes()
    result = run(runner, "train", bump, "--epochs", "2", "-o", data, "--force")
    assert result.exit_code == 1
    assert "refusing to write over" in result.stderr
    assert data.read_bytes() == before


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
    }
    assert written["trained"]["epochs"] == 3


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


# predict -----------------------------------------------------------------------------------------


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


# schema, version, help ---------------------------------------------------------------------------


def test_schema_prints_the_committed_schema(runner: CliRunner) -> None:
    result = run(runner, "schema")
    assert result.exit_code == 0
    assert result.stdout == SCHEMA_FILE.read_text(encoding="utf-8")
    assert json.loads(result.stdout) == dagnet.json_schema()


@pytest.mark.parametrize("path", sorted(GRAPHS.glob("*.json")), ids=lambda p: p.name)
def test_example_graphs_follow_the_schema(path: Path) -> None:
    jsonschema.validate(read_json(path), read_json(SCHEMA_FILE))


def test_version(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout == f"dagnet, version {dagnet.__version__}\n"


def test_python_dash_m_dagnet(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "dagnet", "--help"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for command in ("validate", "train", "predict", "schema"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ([], ["--version", "--help", "validate", "train", "predict", "schema"]),
        (["validate"], ["FILES", "--json", "--data", "JSON Lines", "--help"]),
        (
            ["train"],
            [
                "--data",
                "--epochs",
                "--batch-size",
                "--learning-rate",
                "--seed",
                "--shuffle",
                "--no-shuffle",
                "-o, --output",
                "--force",
                "--in-place",
                "-q, --quiet",
                "--json",
                "--save-on-failure",
                "a million times that epoch's mean",
            ],
        ),
        (["predict"], ["--data", "-o, --output", "--force"]),
        (["schema"], ["--help"]),
    ],
    ids=["main", "validate", "train", "predict", "schema"],
)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(runner: CliRunner, command: list[str], options: list[str], flag: str) -> None:
    result = run(runner, *command, flag)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ")
    for option in options:
        assert option in result.stdout


def test_ctrl_c_stops_with_exit_code_130_and_writes_nothing(
    runner: CliRunner, xor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("dagnet.cli.train.fit", interrupted)
    before = snapshot(xor.parent)
    result = runner.invoke(main, ["train", str(xor)])
    assert result.exit_code == 130
    assert result.stderr == "interrupted; nothing was written\n"
    assert snapshot(xor.parent) == before
