"""Fuzzing the loader: valid graph files, mutated at random, get an answer and nothing else.

Each test draws a valid graph document (tests/strategies.py), breaks it one way — in its
structure (drop, duplicate or retarget an edge, a value of another type, a cycle, a key removed
or added) or in its text (truncated, bytes flipped, inserted or deleted) — and reads the result.
Whatever the input, ``read_graph`` returns a report, ``load_graph`` returns a graph or raises
``GraphFileError``, a valid mutant compiles into a Network, nothing takes longer than a few
seconds, and no file appears or changes in the working folder. The runs are derandomized, so
the suite is repeatable; raise ``max_examples`` locally to search longer.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagnet.cli import main
from dagnet.engine.network import Network
from dagnet.errors import GraphFileError
from dagnet.graph import jsonscan
from dagnet.graph.jsontext import MAX_DEPTH
from dagnet.graph.reading import load_graph
from tests.conftest import GRAPHS
from tests.strategies import graph_documents

FUZZ = settings(
    max_examples=250,
    deadline=None,  # time_limit below stops a hang; the deadline would only flag slow machines
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SECONDS_PER_CASE = 5.0
MUTANTS_PER_GRAPH = 6

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
"""Any JSON value, NaN and infinities included, to put where another was expected."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail, rather than hang, when the body takes longer than ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"reading a mutant took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    """Compile (or load from numba's cache) what reading and compiling a graph runs, before any
    case is timed: the time limit is for reading a mutant, not for a cold JIT."""
    Network(load_graph(GRAPHS / "xor.json"), seed=0)
    jsonscan.scan('{"a": [' * 60 + "1" + "]}" * 60, MAX_DEPTH)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="dagnet-fuzz-") as name:
        yield Path(name)


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Each file's size and modification time: any write changes one of them."""
    return {
        entry.name: (entry.stat().st_size, entry.stat().st_mtime_ns) for entry in os.scandir(folder)
    }


def read_mutant(folder: Path, content: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read ``content`` as a graph file every way the library offers; only dagnet's errors pass."""
    monkeypatch.chdir(folder)
    path = folder / "mutant.json"
    path.write_bytes(content)
    before = listing(folder)
    with time_limit(SECONDS_PER_CASE):
        try:
            graph = load_graph(path)  # read_graph, raising its errors
        except GraphFileError as exc:
            assert exc.errors, "a GraphFileError always carries its errors"
            assert all(problem.format(str(path)).count("\n") == 0 for problem in exc.problems)
        else:
            Network(graph, seed=0)  # what validates must also compile
    assert listing(folder) == before


def as_text(document: Any) -> bytes:
    return json.dumps(document, indent=2).encode("utf-8")


@st.composite
def structural_mutant(draw: st.DrawFn, original: dict[str, Any]) -> bytes:
    """``original`` with one structural change."""
    document = copy.deepcopy(original)
    units, edges = document["units"], document["edges"]
    ids = [unit["id"] for unit in units]
    kind = draw(
        st.sampled_from(
            ["drop", "duplicate", "retarget", "cycle", "retype", "delete-key", "add-key", "role"]
        )
    )
    if kind == "drop":
        edges.pop(draw(st.integers(0, len(edges) - 1)))
    elif kind == "duplicate":
        edges.insert(draw(st.integers(0, len(edges))), dict(draw(st.sampled_from(edges))))
    elif kind == "retarget":
        edge = draw(st.sampled_from(edges))
        end = draw(st.sampled_from(["source", "target"]))
        edge[end] = draw(st.sampled_from([*ids, "nowhere", edge[end] + "x"]))
    elif kind == "cycle":  # an edge back from a unit to one of its ancestors, or to itself
        edge = draw(st.sampled_from(edges))
        edges.append({"source": edge["target"], "target": draw(st.sampled_from(ids))})
    elif kind == "retype":
        container = draw(st.sampled_from([document, *units, *edges]))
        key = draw(st.sampled_from(sorted(container)))
        container[key] = draw(json_values)
    elif kind == "delete-key":
        container = draw(st.sampled_from([document, *units, *edges]))
        del container[draw(st.sampled_from(sorted(container)))]
    elif kind == "add-key":
        container = draw(st.sampled_from([document, *units, *edges]))
        container[draw(st.text(max_size=10))] = draw(json_values)
    else:
        draw(st.sampled_from(units))["role"] = draw(st.sampled_from(["input", "hidden", "output"]))
    return as_text(document)


@st.composite
def textual_mutant(draw: st.DrawFn, original: dict[str, Any]) -> bytes:
    """``original``'s text, truncated, or with bytes flipped, inserted or deleted."""
    content = bytearray(as_text(original))
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
    at = draw(st.integers(0, len(content) - 1))
    if kind == "truncate":
        del content[at:]
    elif kind == "flip":
        for _ in range(draw(st.integers(1, 4))):
            index = draw(st.integers(0, len(content) - 1))
            content[index] ^= 1 << draw(st.integers(0, 7))
    elif kind == "insert":
        content[at:at] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(
            [b"{", b"[", b"]", b"}", b",", b'"', b"\\", b"NaN", b"1e400", b"\\ud800", b"\xff"]
        ))  # fmt: skip
    else:
        del content[at : at + draw(st.integers(1, 20))]
    return bytes(content)


def mutants(mutant: Any, count: int = MUTANTS_PER_GRAPH) -> st.SearchStrategy[list[bytes]]:
    """Several mutants of one random valid graph (drawing the graph is the costly part)."""
    return graph_documents(max_hidden=6).flatmap(
        lambda document: st.lists(mutant(document), min_size=count, max_size=count)
    )


@FUZZ
@given(contents=mutants(structural_mutant))
def test_structural_mutants_get_an_answer(
    folder: Path, monkeypatch: pytest.MonkeyPatch, contents: list[bytes]
) -> None:
    for content in contents:
        read_mutant(folder, content, monkeypatch)


@FUZZ
@given(contents=mutants(textual_mutant))
def test_textual_mutants_get_an_answer(
    folder: Path, monkeypatch: pytest.MonkeyPatch, contents: list[bytes]
) -> None:
    for content in contents:
        read_mutant(folder, content, monkeypatch)


@settings(FUZZ, max_examples=80)
@given(content=mutants(structural_mutant, 1) | mutants(textual_mutant, 1))
def test_validate_answers_every_mutant_in_one_line_per_problem(
    folder: Path, monkeypatch: pytest.MonkeyPatch, content: list[bytes]
) -> None:
    monkeypatch.chdir(folder)
    Path("mutant.json").write_bytes(content[0])
    before = listing(folder)
    with time_limit(SECONDS_PER_CASE):
        result = CliRunner().invoke(main, ["validate", "--json", "mutant.json"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code in (0, 1)
    [line] = result.stdout.splitlines()
    report = json.loads(line)
    assert report["valid"] == (result.exit_code == 0)
    for problem in report["problems"]:
        assert problem["code"].startswith("DAG") and "\n" not in problem["message"]
    assert listing(folder) == before
    assert os.listdir(folder) == ["mutant.json"]
