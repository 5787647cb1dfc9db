"""Reading and writing graph files: positions, duplicate keys, upgrades, atomic writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dagnet
from dagnet.graph import upgrades, writing
from dagnet.graph.jsontext import Positions, pointer
from dagnet.graph.reading import load_graph, parse_graph_text, read_graph
from dagnet.graph.writing import graph_to_text, save_graph
from tests.conftest import EXAMPLES, GRAPHS, small_graph
from tests.strategies import graph_documents


def test_pointer_escapes_slash_and_tilde() -> None:
    assert pointer("units", 3, "id") == "/units/3/id"
    assert pointer("a/b", "c~d") == "/a~1b/c~0d"
    assert pointer() == ""


def test_positions_point_at_keys_of_members_and_values_of_elements() -> None:
    text = '{\n  "units": [\n    {"id": "x"},\n    {"id": "y", "bias": 1e400}\n  ]\n}'
    positions = Positions(text)
    assert positions.line_column("/units") == (2, 3)
    assert positions.line_column("/units/1") == (4, 5)
    assert positions.line_column("/units/1/bias") == (4, 17)
    assert positions.source("/units/1/bias") == "1e400"


def test_a_missing_member_is_placed_at_its_nearest_ancestor() -> None:
    positions = Positions('{"edges": [{"source": "x"}]}')
    assert positions.line_column("/edges/0/target") == positions.line_column("/edges/0")


def test_deep_nesting_does_not_exhaust_the_scanner() -> None:
    depth = 5000
    positions = Positions("[" * depth + "]" * depth)
    assert positions.line_column("/0/0/0") == (1, 4)


def test_problems_are_placed_and_sorted_by_their_place_in_the_text() -> None:
    document = small_graph()
    document["edges"].append({"source": "h", "target": "nowhere"})
    document["units"][1]["activation"] = "tanhh"
    graph, problems = parse_graph_text(json.dumps(document, indent=2))
    assert graph is not None
    assert [(p.code, p.pointer) for p in problems] == [
        ("DAG020", "/units/1/activation"),
        ("DAG022", "/edges/3/target"),
    ]
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_edges_in_a_file_of_no_units_are_unknown_units() -> None:
    # (found by the fuzz test: looking up whether an edge leads into an input had nothing to
    # look in, and raised an IndexError)
    document = {"format_version": 1, "units": [], "edges": [{"source": "x", "target": "y"}]}
    _, problems = parse_graph_text(json.dumps(document))
    unknown = [p for p in problems if p.code == "DAG022"]
    assert [p.pointer for p in unknown] == ["/edges/0/source", "/edges/0/target"]
    assert unknown[0].message == "unknown unit 'x'; the file lists no units"


def test_duplicate_keys_are_errors_at_the_repeated_key() -> None:
    text = '{"format_version": 1,\n "units": [],\n "edges": [], "edges": []}'
    graph, problems = parse_graph_text(text)
    assert graph is None
    [problem] = problems
    assert (problem.code, problem.pointer, problem.line, problem.column) == (
        "DAG004",
        "/edges",
        3,
        15,
    )


def test_non_utf8_bytes_are_reported_with_their_place(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"format_version": 1,\n "name": "caf\xe9"}')
    [problem] = read_graph(path).problems
    assert (problem.code, problem.line, problem.column) == ("DAG002", 2, 14)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(small_graph()).encode())
    assert read_graph(path).valid


def test_newer_format_version_is_refused_with_a_message_that_says_so() -> None:
    _, [problem] = parse_graph_text(json.dumps(small_graph(format_version=3)))
    assert problem.code == "DAG005"
    assert "newer than this dagnet" in problem.message


def test_older_versions_are_upgraded_step_by_step(monkeypatch: pytest.MonkeyPatch) -> None:
    # A made-up version 0 that called units "nodes": the chain 0 -> 1 renames the key.
    def upgrade_0_to_1(document: dict) -> dict:
        document = dict(document, format_version=1)
        document["units"] = document.pop("nodes")
        return document

    monkeypatch.setattr(upgrades, "UPGRADES", {0: upgrade_0_to_1, **upgrades.UPGRADES})
    monkeypatch.setattr(upgrades, "OLDEST_FORMAT_VERSION", 0)
    old = small_graph(format_version=0)
    old["nodes"] = old.pop("units")
    graph, problems = parse_graph_text(json.dumps(old))
    assert problems == []
    assert graph == dagnet.Graph.model_validate(small_graph(format_version=2))


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_survive_a_round_trip_unchanged(name: str, tmp_path: Path) -> None:
    graph = load_graph(GRAPHS / f"{name}.json")
    save_graph(graph, tmp_path / "copy.json")
    assert load_graph(tmp_path / "copy.json") == graph
    assert graph_to_text(load_graph(tmp_path / "copy.json")) == graph_to_text(graph)


def test_saved_text_keeps_what_the_author_left_unset() -> None:
    text = graph_to_text(dagnet.Graph.model_validate(small_graph(format_version=2)))
    assert '"role": "hidden"' not in text
    assert json.loads(text) == small_graph(format_version=2)


def test_save_refuses_to_overwrite_when_asked_not_to(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text("precious")
    with pytest.raises(FileExistsError):
        save_graph(dagnet.Graph.model_validate(small_graph()), path, overwrite=False)
    assert path.read_text() == "precious"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "g.json"
    path.write_text("old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        save_graph(dagnet.Graph.model_validate(small_graph()), path)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json"]


def test_an_overwrite_keeps_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text("old")
    path.chmod(0o640)
    save_graph(dagnet.Graph.model_validate(small_graph()), path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_relative_paths_still_point_at_the_same_files_after_a_move(tmp_path: Path) -> None:
    graph = load_graph(GRAPHS / "multi_output.json")
    destination = tmp_path / "elsewhere" / "trained.json"
    destination.parent.mkdir()
    moved = writing.rebase_paths(graph, GRAPHS / "multi_output.json", destination)
    assert (destination.parent / moved.data.path).resolve() == (
        GRAPHS / "multi_output.csv"
    ).resolve()
    assert (destination.parent / moved.schema_uri).resolve() == (
        GRAPHS / "../schemas/graph.schema.json"
    ).resolve()


def test_load_graph_raises_with_every_problem(write_json) -> None:
    document = small_graph()
    document["units"][0]["bias"] = 1.0
    document["edges"].append({"source": "y", "target": "y"})
    with pytest.raises(dagnet.GraphFileError) as caught:
        load_graph(write_json(document))
    assert [p.code for p in caught.value.errors] == ["DAG026", "DAG024"]


def test_an_integer_too_long_for_python_is_a_number_out_of_range() -> None:
    document = json.dumps(small_graph()).replace("0.5", "1" * 5000)
    _, [problem] = parse_graph_text(document)
    assert (problem.code, problem.pointer) == ("DAG013", "/edges/0/weight")
    assert problem.message == f"expected a finite number, found {'1' * 40}…"


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(document=graph_documents(), weights=st.lists(st.floats(-1e6, 1e6), min_size=80))
def test_written_text_reads_back_as_the_same_graph_one_edge_per_line(
    document: dict, weights: list[float]
) -> None:
    for edge, weight in zip(document["edges"], weights, strict=False):
        edge["weight"] = weight if weight > 0 else None
    document["format_version"] = 2  # what is written
    graph = dagnet.Graph.model_validate(document)
    text = graph_to_text(graph)
    assert parse_graph_text(text)[0] == graph
    for edge in graph.edges.dump():
        line = json.dumps(edge, separators=(", ", ": "))
        assert f"\n    {line}," in text or f"\n    {line}\n" in text
