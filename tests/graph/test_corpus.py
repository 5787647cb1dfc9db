"""The corpus of invalid inputs: every case gets one precise answer from every command.

``tests/corpus/graphs/`` holds graph files and ``tests/corpus/data/`` data files, each with
exactly one mistake; ``tests/corpus/cases.json`` gives for each its expected problem code, JSON
pointer, line, column and a fragment of the message. Data cases are checked against the valid
graph ``tests/corpus/data/graph.json``, passed with ``--data``. For every case, ``dagnet
validate``, ``train`` and ``predict`` must exit with 1, print the problem once, on one line,
naming its place, and never a traceback; and nothing may be written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dagnet.cli import main
from dagnet.errors import CODES, DataError
from dagnet.graph.checks import check
from dagnet.graph.data import load_data, read_data_file
from dagnet.graph.model import Graph
from dagnet.graph.reading import load_graph, read_graph
from tests.conftest import ROOT, small_graph

CORPUS = ROOT / "tests" / "corpus"
CASES: list[dict[str, Any]] = json.loads((CORPUS / "cases.json").read_text("utf-8"))["cases"]
GRAPH_CASES = [case for case in CASES if "graph" not in case]
DATA_CASES = [case for case in CASES if "graph" in case]


def test_the_corpus_is_as_large_as_promised() -> None:
    assert len(GRAPH_CASES) >= 60
    assert len(DATA_CASES) >= 20
    on_disk = {
        f"{kind}/{path.name}" for kind in ("graphs", "data") for path in (CORPUS / kind).iterdir()
    }
    named = {case["file"] for case in CASES} | {case["graph"] for case in DATA_CASES}
    assert on_disk <= named, f"files without an expectation: {sorted(on_disk - named)}"


def test_every_error_code_has_a_case() -> None:
    # DAG046 (no data at all) needs no file; the train command's tests cover it. DAG050 is
    # about the library's arguments, not a file; tests/test_api.py covers it.
    errors = {code for code in CODES if code < "DAG100"} - {"DAG046", "DAG050"}
    assert errors - {case["code"] for case in CASES} == set()


def invoke(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"dagnet {' '.join(args)} raised {result.exception!r}")
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream
    return result


def files_in(folder: Path) -> dict[str, bytes | None]:
    return {
        os.fspath(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder, the current one, that receives the case's files."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "graphs").mkdir()
    (tmp_path / "data").mkdir()
    return tmp_path


def copy_in(relative: str, folder: Path) -> None:
    source, target = CORPUS / relative, folder / relative
    if source.is_dir():
        target.mkdir()
    elif source.exists():
        shutil.copyfile(source, target)


def check_problem_line(line: str, case: dict[str, Any], file: str) -> None:
    """One problem on one line: FILE[:LINE:COL][: /pointer]: message [CODE]."""
    head = file
    if case["line"] is not None and "graph" not in case:
        head += f":{case['line']}:{case['column']}"
    if case["pointer"] is not None:
        head += f": {case['pointer'] or '/'}"
    assert line.startswith(head + ": "), (line, head)
    assert case["fragment"] in line, line
    assert line.endswith(f" [{case['code']}]"), line


@pytest.mark.parametrize("case", GRAPH_CASES, ids=lambda case: case["file"])
def test_a_graph_file_mistake(runner: CliRunner, workspace: Path, case: dict[str, Any]) -> None:
    file = case["file"]
    copy_in(file, workspace)
    before = files_in(workspace)

    document = json.loads(invoke(runner, "validate", "--json", file).stdout)
    errors = [p for p in document["problems"] if p["severity"] == "error"]
    assert (document["file"], document["valid"], len(errors)) == (file, False, 1), document
    [problem] = errors
    expected = {key: case[key] for key in ("code", "pointer", "line", "column")}
    assert {key: problem[key] for key in expected} == expected
    assert case["fragment"] in problem["message"]

    result = invoke(runner, "validate", file)
    assert result.exit_code == 1
    [line] = [line for line in result.stdout.splitlines() if "warning:" not in line]
    check_problem_line(line, case, file)

    commands = [["train", file], ["predict", file]]
    for command in commands if case["predict_fails"] else commands[:1]:
        result = invoke(runner, *command)
        assert result.exit_code == 1, (command, result.stderr)
        [line] = [line for line in result.stderr.splitlines() if "warning:" not in line]
        if case["code"] < "DAG040":  # a problem of the file itself: the same line as validate's
            check_problem_line(line.removeprefix("Error: "), case, file)
        else:  # the file is sound, its data is not: the message names the data and the code
            assert case["fragment"] in line and line.endswith(f" [{case['code']}]"), line
    if not case["predict_fails"]:  # targets are optional to predict
        assert invoke(runner, *commands[1]).exit_code == 0
    assert files_in(workspace) == before


@pytest.mark.parametrize("case", DATA_CASES, ids=lambda case: case["file"])
def test_a_data_file_mistake(runner: CliRunner, workspace: Path, case: dict[str, Any]) -> None:
    graph, data = case["graph"], case["file"]
    copy_in(graph, workspace)
    copy_in(data, workspace)
    before = files_in(workspace)
    place = f"{data}:{case['line']}:" if case["line"] is not None else f"{data}:"

    document = json.loads(invoke(runner, "validate", "--json", graph, "--data", data).stdout)
    assert (document["file"], document["valid"]) == (graph, False)
    [problem] = document["problems"]
    assert (problem["code"], problem["pointer"]) == (case["code"], None)
    assert problem["message"].startswith(place), problem["message"]
    assert case["fragment"] in problem["message"]

    result = invoke(runner, "validate", graph, "--data", data)
    assert result.exit_code == 1
    assert result.stdout == f"{graph}: {problem['message']} [{case['code']}]\n"

    commands = [["train", graph, "--data", data], ["predict", graph, "--data", data]]
    for command in commands if case["predict_fails"] else commands[:1]:
        result = invoke(runner, *command)
        assert result.exit_code == 1, (command, result.stderr)
        assert result.stderr == f"Error: {problem['message']} [{case['code']}]\n", command
    if not case["predict_fails"]:  # targets are optional to predict
        assert invoke(runner, *commands[1]).exit_code == 0
    assert files_in(workspace) == before


def corpus_messages() -> list[tuple[str, str]]:
    """Every message the corpus draws from the library, and the three codes it cannot reach."""
    messages = []
    for case in GRAPH_CASES:
        report = read_graph(CORPUS / case["file"])
        messages += [(problem.code, problem.message) for problem in report.problems]
        if report.valid:
            assert report.graph is not None
            with pytest.raises(DataError) as caught:
                load_data(report.graph, base=CORPUS / "graphs")
            messages.append((caught.value.code, str(caught.value)))
    graph = load_graph(CORPUS / "data" / "graph.json")
    for case in DATA_CASES:
        with pytest.raises(DataError) as caught:
            read_data_file(load_graph(CORPUS / case["graph"]), CORPUS / case["file"])
        messages.append((caught.value.code, str(caught.value)))
    with pytest.raises(DataError) as caught:
        load_data(graph)  # no data section, no --data: DAG046
    messages.append((caught.value.code, str(caught.value)))
    loose = small_graph()
    loose["units"] += [{"id": "z"}]  # fed by nothing and feeding nothing: DAG101 and DAG102
    messages += [(problem.code, problem.message) for problem in check(Graph.model_validate(loose))]
    return messages


def test_the_readme_gives_a_real_example_message_for_every_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (DAG\d{3}) \| .+ \| `(.+)` \|$", readme, re.MULTILINE)
    assert [code for code, _ in rows] == list(CODES)
    messages = corpus_messages()
    for code, example in rows:
        if code == "DAG050":
            continue  # about the library's arguments: tests/test_api.py holds its example
        assert any(example in message for c, message in messages if c == code), (code, example)
