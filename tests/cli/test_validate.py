"""``dagnet validate``, after the command line contract in README.md: every rule reported at
its place, several files at once, warnings, exit codes.

Every command runs through Click's ``CliRunner`` (stdout and stderr kept apart) in a fresh
``tmp_path``; the example graphs are copied there first, so no test writes into the repository.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import dagnet
from dagnet.functions.activations import ACTIVATION_NAMES
from tests.cli.helpers import run
from tests.conftest import GRAPHS, small_graph
from tests.graph.test_corpus import CASES as CORPUS_CASES


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
    ("newer-format-version", _mutate(_set("format_version", 3)),
     "DAG005", "/format_version", 2, 3, "format_version 3 is newer than this dagnet knows"),
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
    # The losses' rules (DAG030 to DAG033) are the corpus's, which validate runs too.
    covered |= {case["code"] for case in CORPUS_CASES}
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
        f"'sigmoid'?); known activations are {', '.join(ACTIVATION_NAMES)} [DAG020]",
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
