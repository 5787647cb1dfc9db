"""Bounded work for every input: data files have a size limit, .npz members are judged by
their headers before they are decompressed, CSV cells past csv's limit get a message,
did-you-mean has a bounded cost, long cycles and long lists of problems are cut, a FIFO
is refused rather than waited on, and absurd counts are usage errors."""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import pickle
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import dagnet
from dagnet.errors import DataError
from dagnet.graph import data as data_module
from dagnet.graph import messages
from dagnet.graph.checks import check
from tests.cli.helpers import run
from tests.conftest import ROOT, small_graph


@pytest.fixture
def graph() -> dagnet.Graph:
    return dagnet.Graph.model_validate(small_graph())


def test_a_data_file_over_the_limit_is_refused_unread(
    graph: dagnet.Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.csv"
    path.write_text("x,y\n" + "0,1\n" * 100, encoding="utf-8")
    monkeypatch.setattr(data_module, "MAX_DATA_BYTES", 100)
    with pytest.raises(DataError, match="the data file is larger than 100 bytes") as caught:
        dagnet.load_data(graph, path)
    assert caught.value.code == "DAG040"
    with pytest.raises(DataError, match="the data file is larger than 100 bytes"):
        data_module.read_csv(path)
    np.savez(tmp_path / "big.npz", x=np.zeros(100), y=np.zeros(100))
    with pytest.raises(DataError, match="the data file is larger than 100 bytes"):
        data_module.read_npz(tmp_path / "big.npz")
    assert data_module.MAX_DATA_BYTES == 100  # (and 1 GiB by default)
    monkeypatch.undo()
    assert data_module.MAX_DATA_BYTES == 1 << 30


def _npz_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def _npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    stream = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(stream, header)
    return stream.getvalue()  # the magic string, then the header


def _npy(array: np.ndarray) -> bytes:
    stream = io.BytesIO()
    np.lib.format.write_array(stream, array, allow_pickle=True)
    return stream.getvalue()


def test_an_npz_member_declaring_too_many_values_is_refused_before_reading(
    graph: dagnet.Graph, tmp_path: Path
) -> None:
    header = _npy_header((10**12,))
    path = _npz_with(tmp_path / "bomb.npz", {"x.npy": header + b"\0" * 64, "y.npy": b""})
    started = time.perf_counter()
    with pytest.raises(DataError, match=r"array 'x' declares shape \(1000000000000,\)"):
        dagnet.load_data(graph, path)
    assert time.perf_counter() - started < 5


def test_an_npz_member_larger_than_the_limit_once_decompressed_is_refused(
    graph: dagnet.Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _npz_with(tmp_path / "zeros.npz", {"x.npy": _npy(np.zeros(5000)), "y.npy": b""})
    assert path.stat().st_size < 2000  # 40 kB of zeros, compressed
    monkeypatch.setattr(data_module, "MAX_DATA_BYTES", 10_000)
    with pytest.raises(DataError, match=r"member 'x\.npy' is 40,128 bytes once decompressed"):
        dagnet.load_data(graph, path)


@pytest.mark.parametrize(
    "members, message",
    [
        ({"notes.txt": b"hello"}, "member 'notes.txt' is not an array"),
        ({"x.npy": b"not an array at all"}, "member 'x.npy' is not a numpy array"),
        ({"x.npy": _npy(np.array([1, "a"], dtype=object))}, "holds Python objects"),
        ({"x.npy": _npy(np.array(["1", "2"]))}, "array 'x' holds text"),
        ({"x.npy": _npy(np.ones(2, complex))}, "array 'x' holds complex numbers"),
    ],
)
def test_npz_members_that_are_not_arrays_of_numbers_are_refused(
    graph: dagnet.Graph, tmp_path: Path, members: dict[str, bytes], message: str
) -> None:
    path = _npz_with(tmp_path / "odd.npz", members)
    with pytest.raises(DataError, match=message) as caught:
        dagnet.load_data(graph, path)
    assert caught.value.code in ("DAG040", "DAG043")


def test_a_raw_pickle_is_not_an_npz_file(graph: dagnet.Graph, tmp_path: Path) -> None:
    path = tmp_path / "data.npz"
    path.write_bytes(pickle.dumps({"x": [1.0], "y": [2.0]}))
    with pytest.raises(DataError, match=r"not an \.npz file") as caught:
        dagnet.load_data(graph, path)
    assert caught.value.code == "DAG040"


@pytest.mark.parametrize("where", ["header", "cell"])
def test_a_csv_cell_past_the_field_limit_gets_a_message(
    graph: dagnet.Graph, tmp_path: Path, where: str
) -> None:
    long = "a" * (csv.field_size_limit() + 10)
    text = f"x,{long}\n0,1\n" if where == "header" else f"x,y\n0,1\n0,{long}\n"
    path = tmp_path / "long.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="a cell is longer than 131,072 characters") as caught:
        dagnet.load_data(graph, path)
    assert str(caught.value).startswith(f"{path}:{1 if where == 'header' else 3}: ")


def test_did_you_mean_has_a_bounded_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    # Counted, not timed: the fuzzy comparisons stop at the budget whatever the machine's load.
    compared: list[int] = []
    close_matches = difflib.get_close_matches

    def counted(word: str, choices: list[str], **options: Any) -> list[str]:
        compared.append(len(choices))
        return close_matches(word, choices, **options)

    monkeypatch.setattr(messages.difflib, "get_close_matches", counted)
    units: list[dict[str, Any]] = [{"id": f"unit{i}"} for i in range(2000)]
    units[0]["role"], units[-1]["role"] = "input", "output"
    edges = [{"source": "unit0", "target": f"unjt{i}"} for i in range(20_000)]
    graph = dagnet.Graph.model_validate({"format_version": 1, "units": units, "edges": edges})
    problems = check(graph)
    assert sum(compared) <= messages.Suggestions.BUDGET < 20_000 * 2000
    unknown = [p for p in problems if p.code == "DAG022"]
    assert len(unknown) == 20_000
    assert unknown[0].message.startswith(
        "unknown unit 'unjt0' (did you mean 'unit0'?); known units"
    )


def test_a_long_cycle_names_twenty_units_and_how_many_more() -> None:
    ids = [f"h{i}" for i in range(100)]
    units = [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}]
    units += [{"id": u} for u in ids]
    edges = [{"source": "x", "target": "h0"}, {"source": "h0", "target": "y"}]
    edges += [{"source": a, "target": b} for a, b in zip(ids, ids[1:] + ids[:1], strict=True)]
    graph = dagnet.Graph.model_validate({"format_version": 1, "units": units, "edges": edges})
    (cycle,) = [p for p in check(graph) if p.code == "DAG029"]
    assert cycle.message == (
        f"cycle {' -> '.join(ids[:20])} -> … (80 more units) -> h0; remove one of these edges"
    )


def test_validate_prints_at_most_a_thousand_problems_per_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    document = small_graph()
    document["edges"] += [{"source": "x", "target": f"z{i}"} for i in range(1500)]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run(runner, "validate", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 1001
    assert lines[-1] == f"{path}: … and 500 more problems not printed"
    assert result.stderr == f"{path}: 1500 errors\n"
    document = json.loads(run(runner, "validate", "--json", path).stdout)
    assert (len(document["problems"]), document["problems_not_listed"]) == (1000, 500)


def test_a_fifo_as_the_graph_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "graph.json"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": os.fspath(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "dagnet", "validate", os.fspath(fifo)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "cannot read the file: it is not a regular file" in done.stdout


def test_absurd_edges_for_bench_is_a_usage_error(runner: CliRunner) -> None:
    result = run(runner, "bench", "--edges", str(10**12))
    assert result.exit_code == 2
    assert "Invalid value for '--edges'" in result.stderr


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_a_bad_numba_num_threads_is_a_usage_error(value: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.fspath(ROOT), "NUMBA_NUM_THREADS": value}
    done = subprocess.run(
        [sys.executable, "-m", "dagnet", "info", os.fspath(ROOT / "graphs" / "xor.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert f"Error: NUMBA_NUM_THREADS is '{value}'; it must be a whole number" in done.stderr
    assert "Traceback" not in done.stderr


def test_npz_arrays_are_bounded_all_together(
    graph: dagnet.Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = {f"x{i}.npy": _npy(np.zeros(100)) for i in range(20)}
    path = _npz_with(tmp_path / "many.npz", members)
    monkeypatch.setattr(data_module, "MAX_DATA_BYTES", 10_000)
    with pytest.raises(DataError, match="the arrays together declare more than 10,000 bytes"):
        dagnet.load_data(graph, path)


def test_a_header_of_many_columns_is_checked_in_linear_time(
    graph: dagnet.Graph, tmp_path: Path
) -> None:
    path = tmp_path / "wide.csv"
    columns = [f"c{i}" for i in range(200_000)]
    path.write_text(",".join(columns) + ",c0\n" + ",".join(["0"] * 200_001) + "\n")
    started = time.perf_counter()
    with pytest.raises(DataError, match="column 'c0' appears twice in the header"):
        dagnet.load_data(graph, path)
    assert time.perf_counter() - started < 10


def test_train_prints_at_most_a_thousand_problems(runner: CliRunner, tmp_path: Path) -> None:
    document = small_graph()
    document["edges"] += [{"source": "x", "target": f"z{i}"} for i in range(1500)]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run(runner, "train", path, "-q")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1001
    assert lines[-1] == (
        f"Error: {path} is not a valid dagnet graph (1500 errors, the first 1000 above)"
    )
