"""Reading a file's edges array apart, by the compiled scan, gives exactly what reading the file
whole gives, or declines; and it does not decline a plainly written valid file.

The texts are random graphs written with random spacing, key order and number spellings, and,
for the first test, with the mistakes and oddities the scan must decline on (an escape, a null,
a repeated or unknown key, a number beyond range, a broken bracket...), so that the general way
then words them."""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagnet.graph import edgescan, reading
from dagnet.graph.edgescan import scan_edges
from dagnet.graph.model import UNIT_ID_PATTERN, Graph
from dagnet.graph.reading import _parse_edges_apart, _parse_whole, read_graph
from dagnet.graph.writing import graph_to_text
from tests.strategies import graph_documents

SPACES = st.sampled_from(["", " ", "  ", "\n", "\t", "\r\n    "])
IDS = st.sampled_from(["x0", "h1", "y0", "x0", "_a-b.c", "long_unit_name_of_more_than_8"])
ODD_IDS = st.sampled_from(['"x\\u0030"', '"é"', '""', '"1a"', '"a b"', "null", "1", '"x0\\n"'])


def _weight_literal(value: float) -> st.SearchStrategy[str]:
    """Ways to write a number: as JSON writes it, as an integer, with an exponent..."""
    ways = [st.just(json.dumps(value)), st.just(f"{value:.3e}"), st.just(f"{value:.5E}")]
    if value == int(value):
        ways.append(st.just(str(int(value))))
    return st.one_of(*ways, VALID_WEIGHTS)


VALID_WEIGHTS = st.sampled_from(
    ["-0", "0", "-0.0", "0.0", "12345678901234567890123", "-1" + "0" * 308, "2.5e-320",
     "1.7976931348623157e308", "0.1000000000000000055511151231257827", "1E+2", "5e-1"]
)  # fmt: skip
"""Valid numbers the scan must read as the decoder does (-0 is the integer 0, so 0.0)."""
ODD_WEIGHTS = st.sampled_from(
    ["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "null", "true", '"0.5"', "01", "1.",
     ".5", "1e", "-", "+1", "1" * 400, "1" * 5000, "0x10", "[1]"]
)  # fmt: skip
ODD_TOP_MEMBERS = [
    '"edges": []', '"edges": 1', '"format_version": 2', '"description": "caf\\u00e9"',
    '"name": "\\"edges\\": [", "x": {"edges": [1]}',
]  # fmt: skip
ODD_MEMBERS = st.sampled_from(
    ['"note": 1', '"source": "x0"', '"weight": 1', '"trainable": 0', '"Source": "x0"',
     '"trainable": null', '"trainable": tru', '"sourc\\u0065": "x0"']
)  # fmt: skip


@st.composite
def edge_text(draw: st.DrawFn, edge: dict[str, Any], odd: bool) -> str:
    members: list[str] = []
    for key in draw(st.permutations(sorted(edge))):
        value = edge[key]
        if key in ("source", "target"):
            literal = json.dumps(value)
            if odd and draw(st.integers(0, 3)) == 0:
                literal = draw(ODD_IDS)
        elif key == "weight":
            literal = draw(_weight_literal(value))
            if odd and draw(st.integers(0, 2)) == 0:
                literal = draw(ODD_WEIGHTS)
        else:
            literal = json.dumps(value)
        members.append(f'{draw(SPACES)}"{key}"{draw(SPACES)}:{draw(SPACES)}{literal}{draw(SPACES)}')
    if odd and draw(st.integers(0, 3)) == 0:
        members.insert(draw(st.integers(0, len(members))), draw(ODD_MEMBERS))
    if odd and draw(st.integers(0, 5)) == 0 and members:
        del members[draw(st.integers(0, len(members) - 1))]
    return "{" + ",".join(members) + "}"


@st.composite
def graph_texts(draw: st.DrawFn, odd: bool) -> str:
    """A graph file's text, its edges array written by hand and the rest by json.dumps."""
    document = draw(graph_documents(max_hidden=6))
    edges = document.pop("edges")
    for edge in edges:
        if draw(st.booleans()):
            del edge["weight"]
        if draw(st.integers(0, 3)) == 0:
            edge["trainable"] = draw(st.booleans())
    if draw(st.booleans()):  # ids that repeat and ids longer than 8 bytes
        renamed = {"x0": "long_unit_name_of_more_than_8"}
        for unit in document["units"]:
            unit["id"] = renamed.get(unit["id"], unit["id"])
        for edge in edges:
            edge["source"] = renamed.get(edge["source"], edge["source"])
    odd_one = draw(st.integers(0, len(edges) - 1)) if odd else -1  # one edge has a mistake
    items = [draw(edge_text(edge, index == odd_one)) for index, edge in enumerate(edges)]
    array = "[" + ",".join(f"{draw(SPACES)}{item}" for item in items) + f"{draw(SPACES)}]"
    if odd and draw(st.integers(0, 19)) == 0:
        array = draw(st.sampled_from([array[:-1], array[:-1] + ",]", array + "]", "[,]"]))
    members = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in document.items()]
    members.insert(draw(st.integers(0, len(members))), f'"edges":{draw(SPACES)}{array}')
    if odd and draw(st.integers(0, 9)) == 0:
        members.insert(
            draw(st.integers(0, len(members))),
            draw(st.sampled_from(ODD_TOP_MEMBERS)),
        )
    return "{" + ",\n".join(members) + "}"


def _same_reading(fast: tuple[Graph, list[Any]], whole: tuple[Graph | None, list[Any]]) -> None:
    graph, problems = fast
    assert whole[0] is not None
    assert graph == whole[0]
    assert graph_to_text(graph) == graph_to_text(whole[0])
    edges, other = graph.edges, whole[0].edges
    # Equal floats may differ in sign (0.0 == -0.0) and equal values in type (1 == 1.0 == True).
    assert [repr(w) for w in edges.weights] == [repr(w) for w in other.weights]
    assert list(map(type, edges.trainable)) == list(map(type, other.trainable))
    assert problems == whole[1]
    numbering = edges.numbering
    assert numbering is not None
    ids = np.array(numbering.ids, dtype=object)
    assert tuple(ids[numbering.source_id]) == edges.sources
    assert tuple(ids[numbering.target_id]) == edges.targets


@settings(max_examples=300, deadline=None)
@given(graph_texts(odd=True))
def test_the_edges_read_apart_are_what_the_whole_file_gives(text: str) -> None:
    fast = _parse_edges_apart(text.encode(), lambda: text)
    if fast is not None:
        _same_reading(fast, _parse_whole(text))


@settings(max_examples=150, deadline=None)
@given(graph_texts(odd=False))
def test_a_plain_valid_file_is_read_apart(text: str) -> None:
    fast = _parse_edges_apart(text.encode(), lambda: text)
    assert fast is not None
    _same_reading(fast, _parse_whole(text))


@pytest.mark.parametrize(
    "change",
    [
        lambda data: data,
        lambda data: codecs.BOM_UTF8 + data,  # read_graph reads past a byte order mark
        lambda data: data.replace(b'"format_version"', b'"name": "caf\xc3\xa9", "format_version"'),
        lambda data: data.replace(b'"format_version"', b'"name": "\xff", "format_version"'),
        lambda data: data.replace(b'"target": "h"', b'"target": "h\xff"'),  # not UTF-8
        lambda data: data.replace(b'{"id": "x"', b'{"id": "lost"}, {"id": "x"'),  # warnings
        lambda data: data.replace(b'"source": "x"', b'"source": "z"', 1),  # an error
    ],
)
def test_reading_a_file_with_the_edges_apart_gives_what_reading_it_whole_gives(
    change: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = graph_to_text(Graph.model_validate(_SMALL))
    path = tmp_path / "graph.json"
    path.write_bytes(change(text.encode()))
    whole = read_graph(path)
    monkeypatch.setattr(reading, "LARGE_TEXT", 0)
    apart = read_graph(path)
    assert (apart.graph, apart.problems) == (whole.graph, whole.problems)
    assert apart.graph is None or apart.problems or apart.graph.edges.numbering is not None


_SMALL = {
    "format_version": 2,
    "units": [{"id": "x", "role": "input"}, {"id": "h"}, {"id": "y", "role": "output"}],
    "edges": [{"source": "x", "target": "h"}, {"source": "h", "target": "y", "weight": 0.5}],
}


def test_the_scan_declines_what_is_not_plain() -> None:
    for text in [
        b"",
        b"[]",
        b'{"units": []}',
        b'{"edges": {}}',
        b'{"edges": [{"source": "a"}]}',
        b'{"edges": [{"source": "a", "target": "b", "source": "a"}]}',
        b'{"edges": [{"source": "a", "target": "b"},]}',
        b'{"edges": [{"source": "a", "target": "b"}',
        b'{"edges": [{"source": "a", "target": "b", "weight": 1e999}]}',
        b'{"edges": [{"source": "\\u0061", "target": "b"}]}',
        b'{"x": {"edges": [{"source": "a", "target": "b"}]}}',
    ]:
        assert scan_edges(text) is None, text


def test_the_scan_reads_ids_weights_and_flags() -> None:
    text = (
        b'{"name": "\\"edges\\": [", "x": {"edges": [1]}, "edges": [\n'
        b' {"target": "b", "source": "a", "trainable": false, "weight": -0},\n'
        b' {"source": "a", "target": "c", "weight": -0.0},\n'
        b' {"source": "b", "target": "c", "weight": 15E-1, "trainable": true}]}'
    )
    edges = scan_edges(text)
    assert edges is not None
    assert edges.ids == ("b", "a", "c")
    assert edges.source_id.tolist() == [1, 1, 0]
    assert edges.target_id.tolist() == [0, 2, 2]
    assert [repr(w) for w in edges.weights or []] == ["0.0", "-0.0", "1.5"]
    assert edges.trainable == [False, True, True]
    assert text[edges.start : edges.end].startswith(b"[\n {") and text[edges.end :] == b"}"


def test_the_scan_numbers_many_ids_as_they_first_appear() -> None:
    # Enough ids to grow the scan's tables several times, long ones sharing their first 8 bytes.
    rng = np.random.default_rng(0)
    ids = [f"unit_with_a_long_name_{k}" for k in range(3000)] + [f"u{k}" for k in range(3000)]
    ends = rng.integers(0, len(ids), size=(20000, 2))
    edges = [{"source": ids[s], "target": ids[t]} for s, t in ends.tolist()]
    scanned = scan_edges(json.dumps({"edges": edges}).encode())
    assert scanned is not None
    names = np.array(scanned.ids, dtype=object)
    assert names[scanned.source_id].tolist() == [edge["source"] for edge in edges]
    assert names[scanned.target_id].tolist() == [edge["target"] for edge in edges]
    assert len(set(scanned.ids)) == len(scanned.ids)
    first_seen = list(dict.fromkeys(end for edge in edges for end in edge.values()))
    assert list(scanned.ids) == first_seen


def test_the_scan_takes_exactly_the_unit_ids_of_the_model() -> None:
    for byte in range(128):
        char = chr(byte)
        assert edgescan.ID_HEAD[byte] == bool(re.fullmatch(UNIT_ID_PATTERN, char)), char
        assert edgescan.ID_TAIL[byte] == bool(re.fullmatch(UNIT_ID_PATTERN, "a" + char)), char


@pytest.mark.parametrize("weight", ["-1", "-7", "-0", "0", "5", "-10", "-0.0"])
def test_a_one_digit_negative_integer_keeps_its_sign(weight: str) -> None:
    """Only "-0" is read past its sign (the integer -0 is 0, not -0.0); "-1" once lost it."""
    text = (
        '{"edges":[{"source":"x","target":"y","weight":' + weight + '}],\n"format_version": 1,\n'
        '"units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}]}'
    )
    fast = _parse_edges_apart(text.encode(), lambda: text)
    assert fast is not None
    _same_reading(fast, _parse_whole(text))
    assert repr(fast[0].edges.weights[0]) == repr(json.loads(weight) * 1.0)
