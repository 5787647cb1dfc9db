"""Training data → arrays: CSV, .npz and inline columns, and every way data can fail to fit.

Each failure is checked twice: in the library (:func:`dagnet.load_data` raises a ``DataError``
with its code and a message naming the file, the column and the row) and on the command line
(``dagnet train --data`` exits 1 with exactly that message, and nothing else).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

import dagnet
from dagnet.cli import main
from dagnet.errors import CODES, DataError
from dagnet.graph.data import read_csv, read_npz


def data_graph(**overrides: Any) -> dict[str, Any]:
    """Inputs a, b; hidden h; output y; every weight given, so it can predict as it is."""
    document: dict[str, Any] = {
        "format_version": 1,
        "units": [
            {"id": "a", "role": "input"},
            {"id": "b", "role": "input"},
            {"id": "h", "activation": "tanh"},
            {"id": "y", "role": "output"},
        ],
        "edges": [
            {"source": "a", "target": "h", "weight": 0.5},
            {"source": "b", "target": "h", "weight": -0.5},
            {"source": "h", "target": "y", "weight": 2.0},
        ],
    }
    document.update(overrides)
    return document


def run(runner: CliRunner, *args: str | os.PathLike[str]) -> Result:
    """Invoke ``dagnet ARGS``; no Python exception may escape to the user."""
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"dagnet {' '.join(map(str, args))} raised {result.exception!r}\n{result.stderr}"
        ) from result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def graph_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """data_graph() written as graph.json in a fresh folder that is also the working folder."""
    monkeypatch.chdir(tmp_path)
    path = Path("graph.json")
    path.write_text(json.dumps(data_graph(), indent=2), encoding="utf-8")
    return path


@pytest.fixture
def graph() -> dagnet.Graph:
    return dagnet.Graph.model_validate(data_graph())


def write_npz(path: Path, **arrays: Any) -> Path:
    with path.open("wb") as stream:
        np.savez(stream, **arrays)
    return path


# reading what fits -------------------------------------------------------------------------------


def test_csv_columns_in_any_order_follow_the_graphs_order(
    graph: dagnet.Graph, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    path.write_text("y,b,a\n10,2,1\n20,4,3\n30,6,5\n", encoding="utf-8")
    data = dagnet.load_data(graph, path)
    np.testing.assert_array_equal(data.inputs, [[1, 2], [3, 4], [5, 6]])
    assert data.targets is not None
    np.testing.assert_array_equal(data.targets, [[10], [20], [30]])
    assert data.inputs.dtype == np.float64
    assert data.n_examples == 3
    assert data.source == str(path)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"a,b,y\r\n1,2,3\r\n", id="crlf"),
        pytest.param(b"\xef\xbb\xbfa,b,y\n1,2,3\n", id="byte-order-mark"),
        pytest.param(b" a , b ,y\n1, 2 ,3\n", id="spaces"),
        pytest.param(b"a,b,y\n1,2,3", id="no-final-newline"),
        pytest.param(b"a,b,y\n1,2,3\n\n", id="blank-last-line"),
        pytest.param(b'"a","b","y"\n"1",2,3\n', id="quoted"),
    ],
)
def test_csv_spellings_that_read_the_same(
    graph: dagnet.Graph, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    data = dagnet.load_data(graph, path)
    np.testing.assert_array_equal(data.inputs, [[1, 2]])
    np.testing.assert_array_equal(data.targets, [[3]])


def test_relative_data_path_is_resolved_against_the_graphs_folder(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    graph_file = folder / "graph.json"
    graph_file.write_text(json.dumps(data_graph(data={"path": "d.csv"})), encoding="utf-8")
    (folder / "d.csv").write_text("a,b,y\n1,2,3\n4,5,6\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    graph = dagnet.load_graph(graph_file)
    data = dagnet.load_data(graph, base=graph_file.parent)
    assert data.n_examples == 2

    relative = Path("..") / "project" / "graph.json"
    assert run(runner, "validate", relative).exit_code == 0
    result = run(runner, "train", relative, "--epochs", "1", "--json", "-q")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["examples"] == 2
    assert (folder / "graph.trained.json").exists()
    assert os.listdir(elsewhere) == []


def test_data_option_is_relative_to_the_working_folder(runner: CliRunner, graph_path: Path) -> None:
    Path("sub").mkdir()
    Path("sub", "d.csv").write_text("a,b,y\n1,2,3\n", encoding="utf-8")
    result = run(runner, "train", graph_path, "--data", "sub/d.csv", "--epochs", "1", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["data"] == os.path.join("sub", "d.csv")


@pytest.mark.parametrize("shape", [(4,), (4, 1)], ids=["1-d", "column"])
def test_npz_one_array_per_unit(
    graph: dagnet.Graph, tmp_path: Path, shape: tuple[int, ...]
) -> None:
    a = np.arange(4.0)
    path = write_npz(
        tmp_path / "d.npz", y=(10 * a).reshape(shape), a=a.reshape(shape), b=(a + 1).reshape(shape)
    )
    data = dagnet.load_data(graph, path)
    np.testing.assert_array_equal(data.inputs, np.column_stack([a, a + 1]))
    np.testing.assert_array_equal(data.targets, (10 * a)[:, None])


def test_npz_integer_arrays_become_floats(graph: dagnet.Graph, tmp_path: Path) -> None:
    path = write_npz(tmp_path / "d.npz", a=np.array([1, 2]), b=np.array([3, 4]), y=np.array([0, 1]))
    data = dagnet.load_data(graph, path)
    assert data.inputs.dtype == np.float64
    np.testing.assert_array_equal(data.inputs, [[1, 3], [2, 4]])


def test_inline_columns(tmp_path: Path) -> None:
    columns = {"y": [0.5, 1.5], "b": [3, 4], "a": [1.0, 2.0]}
    graph = dagnet.Graph.model_validate(data_graph(data={"columns": columns}))
    data = dagnet.load_data(graph)
    np.testing.assert_array_equal(data.inputs, [[1, 3], [2, 4]])
    np.testing.assert_array_equal(data.targets, [[0.5], [1.5]])
    assert data.source == "the graph's inline data"


def test_data_path_overrides_inline_columns(graph: dagnet.Graph, tmp_path: Path) -> None:
    with_columns = dagnet.Graph.model_validate(
        data_graph(data={"columns": {"a": [1.0], "b": [2.0], "y": [3.0]}})
    )
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n7,8,9\n7,8,9\n", encoding="utf-8")
    assert dagnet.load_data(with_columns, path).n_examples == 2


def test_no_data_at_all(graph: dagnet.Graph) -> None:
    with pytest.raises(DataError) as caught:
        dagnet.load_data(graph)
    assert caught.value.code == "DAG046"
    assert "--data" in str(caught.value)


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_targets_are_needed_for_training_but_not_for_prediction(
    runner: CliRunner, graph_path: Path, suffix: str
) -> None:
    graph = dagnet.load_graph(graph_path)
    if suffix == ".csv":
        path = Path("inputs.csv")
        path.write_text("b,a\n2,1\n4,3\n", encoding="utf-8")
    else:
        path = write_npz(Path("inputs.npz"), a=np.array([1.0, 3.0]), b=np.array([2.0, 4.0]))

    data = dagnet.load_data(graph, path, need_targets=False)
    assert data.targets is None
    np.testing.assert_array_equal(data.inputs, [[1, 2], [3, 4]])
    with pytest.raises(DataError) as caught:
        dagnet.load_data(graph, path)
    assert caught.value.code == "DAG041"
    assert "no column for output unit 'y'" in str(caught.value)

    predicted = run(runner, "predict", graph_path, "--data", path)
    assert predicted.exit_code == 0, predicted.stderr
    lines = predicted.stdout.splitlines()
    assert lines[0] == "y"
    expected = 2.0 * np.tanh(0.5 * np.array([1.0, 3.0]) - 0.5 * np.array([2.0, 4.0]))
    np.testing.assert_allclose([float(v) for v in lines[1:]], expected, rtol=1e-12)

    trained = run(runner, "train", graph_path, "--data", path, "--epochs", "1")
    assert trained.exit_code == 1
    assert trained.stderr == f"Error: {caught.value} [{caught.value.code}]\n"


# every way data can fail -------------------------------------------------------------------------


def _csv(text: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "d.csv"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def _npz(**arrays: Any) -> Callable[[Path], Path]:
    return lambda folder: write_npz(folder / "d.npz", **arrays)


def _bytes(name: str, content: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return write


def _folder(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.mkdir()
        return path

    return make


_ABC = np.arange(3.0)

FAILURES = [
    # (id, how to write the data, code, fragments of the message)
    ("missing-input-column", _csv("b,y\n1,2\n"),
     "DAG041", ["d.csv: no column for input unit 'a'", "the data has b, y"]),
    ("missing-output-column", _csv("a,b\n1,2\n"),
     "DAG041", ["d.csv: no column for output unit 'y'", "the data has a, b"]),
    ("unknown-column", _csv("a,b,y,zz\n1,2,3,4\n"),
     "DAG042", ["d.csv: column 'zz' names no unit", "input units (a, b)", "output units (y)"]),
    ("hidden-unit-column", _csv("a,b,h,y\n1,2,3,4\n"),
     "DAG042", ["d.csv: column 'h' names a hidden unit"]),
    ("duplicate-column", _csv("a,b,a,y\n1,2,3,4\n"),
     "DAG047", ["d.csv:1: column 'a' appears twice in the header"]),
    ("text-in-a-number-cell", _csv("a,b,y\n1,2,3\n1,abc,3\n"),
     "DAG043", ["d.csv:3: row 2, column 'b': 'abc' is not a number"]),
    # a blank line is skipped: the bad row is the second row of data but on line 4 of the file
    ("text-after-a-blank-line", _csv("a,b,y\n1,2,3\n\n1,2,x\n"),
     "DAG043", ["d.csv:4: row 2, column 'y': 'x' is not a number"]),
    ("empty-cell", _csv("a,b,y\n1,,3\n"),
     "DAG043", ["d.csv:2: row 1, column 'b': the cell is empty"]),
    ("nan-cell", _csv("a,b,y\n1,2,3\nnan,2,3\n"),
     "DAG043", ["d.csv:3: row 2, column 'a': 'nan' is not a finite number"]),
    ("inf-cell", _csv("a,b,y\n1,2,inf\n"),
     "DAG043", ["d.csv:2: row 1, column 'y': 'inf' is not a finite number"]),
    ("minus-infinity-cell", _csv("a,b,y\n1,-Infinity,3\n"),
     "DAG043", ["d.csv:2: row 1, column 'b': '-Infinity' is not a finite number"]),
    ("overflowing-cell", _csv("a,b,y\n1e400,2,3\n"),
     "DAG043", ["d.csv:2: row 1, column 'a': '1e400' is not a finite number"]),
    ("short-row", _csv("a,b,y\n1,2,3\n1,2\n"),
     "DAG044", ["d.csv:3: row 2 has 2 values but the header names 3 columns"]),
    ("long-row", _csv("a,b,y\n1,2,3,4\n"),
     "DAG044", ["d.csv:2: row 1 has 4 values but the header names 3 columns"]),
    ("header-only", _csv("a,b,y\n"), "DAG045", ["d.csv: the file has a header but no rows"]),
    ("empty-file", _csv(""), "DAG045", ["d.csv: the file is empty"]),
    ("csv-not-utf8", _bytes("d.csv", b"a,b,y\n1,2,\xe9\n"),
     "DAG040", ["d.csv:2: the file is not UTF-8 text: byte 0xe9"]),
    ("npz-2d-array", _npz(a=np.zeros((3, 2)), b=_ABC, y=_ABC),
     "DAG044", ["d.npz: array 'a' has shape (3, 2)", "shape (N,)"]),
    ("npz-scalar", _npz(a=np.float64(1.0), b=_ABC, y=_ABC),
     "DAG044", ["d.npz: array 'a' has shape ()"]),
    ("npz-strings", _npz(a=np.array(["1", "2", "3"]), b=_ABC, y=_ABC),
     "DAG043", ["d.npz: array 'a' holds", "not numbers"]),
    ("npz-different-lengths", _npz(a=_ABC, b=np.arange(4.0), y=_ABC),
     "DAG044", ["d.npz: column 'b' has 4 values but 'a' has 3"]),
    ("npz-nan", _npz(a=_ABC, b=np.array([0.0, np.nan, 1.0]), y=_ABC),
     "DAG043", ["d.npz: column 'b', row 2: nan is not a finite number"]),
    ("npz-no-rows", _npz(a=np.zeros(0), b=np.zeros(0), y=np.zeros(0)),
     "DAG045", ["d.npz: the data has no rows"]),
    ("npz-missing-output", _npz(a=_ABC, b=_ABC),
     "DAG041", ["d.npz: no column for output unit 'y'"]),
    ("npz-hidden-unit", _npz(a=_ABC, b=_ABC, h=_ABC, y=_ABC),
     "DAG042", ["d.npz: column 'h' names a hidden unit"]),
    ("unknown-suffix", _bytes("d.txt", b"a,b,y\n1,2,3\n"),
     "DAG040", ["d.txt: unknown data format '.txt'", "use a .csv, .npz or .npy file"]),
    ("npy-file", _bytes("d.npy", b""), "DAG040",
     ["d.npy: a .npy data file holds the inputs matrix and is named NAME_X.npy"]),
    ("missing-file", lambda folder: folder / "nowhere.csv",
     "DAG040", ["nowhere.csv: cannot read the data file: no such file"]),
    ("folder", _folder("d.csv"), "DAG040", ["d.csv: cannot read the data file: it is a folder"]),
    ("npz-folder", _folder("d.npz"), "DAG040", ["d.npz: cannot read the data file: it is a"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("write", "code", "fragments"),
    [pytest.param(*case[1:], id=case[0]) for case in FAILURES],
)
def test_data_that_does_not_fit(
    runner: CliRunner,
    graph_path: Path,
    write: Callable[[Path], Path],
    code: str,
    fragments: list[str],
) -> None:
    path = write(Path("."))
    graph = dagnet.load_graph(graph_path)
    with pytest.raises(DataError) as caught:
        dagnet.load_data(graph, path)
    message = str(caught.value)
    assert caught.value.code == code
    assert code in CODES
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message
    assert message.startswith(str(path))

    result = run(runner, "train", graph_path, "--data", path, "--epochs", "1")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {message} [{caught.value.code}]\n"
    assert not Path("graph.trained.json").exists()


@pytest.mark.parametrize(
    ("content", "array"),
    [
        pytest.param(b"this is not a zip archive", None, id="not-a-zip"),
        pytest.param(None, "a", id="object-array"),
    ],
)
def test_unreadable_npz_says_what_is_wrong_in_the_users_terms(
    runner: CliRunner, graph_path: Path, content: bytes | None, array: str | None
) -> None:
    path = Path("d.npz")
    if content is not None:
        path.write_bytes(content)
    else:
        write_npz(path, a=np.array([1, "x", None], dtype=object), b=_ABC, y=_ABC)
    graph = dagnet.load_graph(graph_path)
    with pytest.raises(DataError) as caught:
        dagnet.load_data(graph, path)
    message = str(caught.value)
    assert caught.value.code in ("DAG040", "DAG043")
    assert message.startswith("d.npz: ")
    # numpy's advice about allow_pickle= is about its own API, not something a user can act on
    assert "pickle" not in message
    if array is not None:
        assert f"'{array}'" in message

    result = run(runner, "train", graph_path, "--data", path, "--epochs", "1")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message} [{caught.value.code}]\n"


def test_data_option_naming_a_folder_without_a_suffix(runner: CliRunner, graph_path: Path) -> None:
    Path("inputs").mkdir()
    graph = dagnet.load_graph(graph_path)
    with pytest.raises(DataError) as caught:
        dagnet.load_data(graph, "inputs")
    assert caught.value.code == "DAG040"
    # not "unknown data format ''": the problem is that it is a folder
    assert str(caught.value) == "inputs: cannot read the data file: it is a folder"
    result = run(runner, "train", graph_path, "--data", "inputs", "--epochs", "1")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {caught.value} [{caught.value.code}]\n"


@pytest.mark.parametrize(
    "row", ["#4,5,6", "4,5,6 # a note"], ids=["comment-line", "trailing-comment"]
)
def test_csv_hash_is_not_a_silent_comment(graph: dagnet.Graph, tmp_path: Path, row: str) -> None:
    # The cell-by-cell reader calls '#4' not a number; the fast reader must not quietly drop
    # the row (or the end of it) instead: the same file must give the same answer either way.
    path = tmp_path / "d.csv"
    path.write_text(f"a,b,y\n1,2,3\n{row}\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        dagnet.load_data(graph, path)
    assert caught.value.code == "DAG043"
    assert f"{path}:3: row 2, column " in str(caught.value)


# inline columns ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "code", "fragment"),
    [
        pytest.param(
            {"a": [1, 2, 3, 4], "b": [1, 2, 3], "y": [1, 2, 3, 4]},
            "DAG044",
            "the graph's inline data: column 'b' has 3 values but 'a' has 4",
            id="different-lengths",
        ),
        pytest.param(
            {"a": [1], "b": [2]},
            "DAG041",
            "the graph's inline data: no column for output unit 'y'",
            id="missing-output",
        ),
        pytest.param(
            {"a": [1], "b": [2], "y": [3], "q": [4]},
            "DAG042",
            "the graph's inline data: column 'q' names no unit",
            id="unknown-column",
        ),
        pytest.param(
            {"a": [], "b": [], "y": []},
            "DAG045",
            "the graph's inline data: the data has no rows",
            id="no-rows",
        ),
    ],
)
def test_inline_columns_that_do_not_fit(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    columns: dict[str, list[float]],
    code: str,
    fragment: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    document = data_graph(data={"columns": columns})
    text = json.dumps(document, indent=2)
    Path("graph.json").write_text(text, encoding="utf-8")
    graph = dagnet.load_graph("graph.json")
    with pytest.raises(DataError) as caught:
        dagnet.load_data(graph)
    assert caught.value.code == code
    assert fragment in str(caught.value)

    result = run(runner, "train", "graph.json", "--epochs", "1")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {caught.value} [{caught.value.code}]\n"

    # validate reports it at the column it names, or at "columns" when that column is missing
    column = caught.value.column
    lines = text.splitlines()
    if column is not None and f'      "{column}": [' in lines:
        line, col = lines.index(f'      "{column}": [') + 1, 7
    else:
        line, col = lines.index('    "columns": {') + 1, 5
    pointer = f"/data/columns/{column}" if column is not None else "/data/columns"
    validated = run(runner, "validate", "graph.json")
    assert validated.exit_code == 1
    assert validated.stdout == f"graph.json:{line}:{col}: {pointer}: {caught.value} [{code}]\n"


def test_validate_reports_a_data_file_that_does_not_fit(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = json.dumps(data_graph(data={"path": "d.csv"}), indent=2)
    Path("graph.json").write_text(text, encoding="utf-8")
    Path("d.csv").write_text("a,b,y\n1,oops,3\n", encoding="utf-8")
    line = text.splitlines().index('    "path": "d.csv"') + 1
    result = run(runner, "validate", "graph.json")
    assert result.exit_code == 1
    assert result.stdout == (
        f"graph.json:{line}:5: /data/path: d.csv:2: row 1, column 'b': 'oops' is not a number "
        "[DAG043]\n"
    )


# the readers on their own ------------------------------------------------------------------------


def test_read_csv_returns_named_float_columns(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("p,q\n1,2\n3,4.5\n", encoding="utf-8")
    columns = read_csv(path)
    assert list(columns) == ["p", "q"]
    np.testing.assert_array_equal(columns["q"], [2.0, 4.5])


def test_read_npz_flattens_column_arrays(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "d.npz", p=np.ones((2, 1)), q=np.array([True, False]))
    columns = read_npz(path)
    np.testing.assert_array_equal(columns["p"], [1.0, 1.0])
    np.testing.assert_array_equal(columns["q"], [1.0, 0.0])
    assert all(column.dtype == np.float64 for column in columns.values())
