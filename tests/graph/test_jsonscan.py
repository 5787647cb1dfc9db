"""The compiled scan never misses a repeated key (and on texts without escapes flags exactly the
texts that repeat one), measures nesting like a plain count does, and survives any bytes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dagnet.graph import jsonscan
from dagnet.graph.jsontext import LARGE_TEXT, parse

keys = st.sampled_from(["a", "b", "id", "source", "é", "a b", 'q"uote', "tab\t", "\\"])
scalars = st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=5), st.none())


def _render(value: Any) -> str:
    """JSON text of nested ("object", pairs) / ("array", items) trees; pairs may repeat keys."""
    if isinstance(value, tuple) and value[0] == "object":
        return "{" + ", ".join(f"{json.dumps(k)}: {_render(v)}" for k, v in value[1]) + "}"
    if isinstance(value, tuple) and value[0] == "array":
        return "[" + ", ".join(map(_render, value[1])) + "]"
    return json.dumps(value)


documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.tuples(st.just("object"), st.lists(st.tuples(keys, inner), max_size=20)),
        st.tuples(st.just("array"), st.lists(inner, max_size=5)),
    ),
    max_leaves=60,
)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(documents)
def test_the_scan_flags_every_repeated_key(document: Any) -> None:
    text = _render(document)
    repeats = parse(text).has_duplicate_keys  # small texts: the exact, decoder-driven check
    layout = jsonscan.scan(text, depth_limit=3)
    flagged = layout.may_repeat_a_key
    assert flagged or not repeats
    if "\\" not in text:
        assert flagged == repeats
    assert layout.has_escapes == ("\\" in text)
    assert (layout.depth, layout.too_deep_at) == _nesting(text, limit=3)


def _nesting(text: str, limit: int) -> tuple[int, int]:
    """Depth of brackets outside strings, and where it first exceeds ``limit``: plain Python."""
    depth = deepest = 0
    too_deep_at, inside, escaped = -1, False, False
    for offset, char in enumerate(text):
        if inside:
            inside = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            inside = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if depth > limit and too_deep_at < 0:
                    too_deep_at = offset
        elif char in "]}":
            depth -= 1
    return deepest, too_deep_at


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=200), st.integers(1, 5))
def test_the_scan_reads_any_bytes_without_reading_past_the_end(data: bytes, limit: int) -> None:
    text = data.decode("utf-8", "replace")
    layout = jsonscan.scan(text, limit)
    assert layout.depth >= 0 and -1 <= layout.too_deep_at < max(1, len(text))
    truncated = '{"a": [1, {"b": "unterminated'
    assert jsonscan.scan(truncated, 2).too_deep_at == truncated.index("{", 1)


def test_a_large_text_gets_the_same_answer_as_a_small_one() -> None:
    rows = ", ".join(f'{{"source": "u{i}", "target": "u{i + 1}"}}' for i in range(40_000))
    clean = f'{{"edges": [{rows}], "name": "big"}}'
    repeated = clean.replace('"target": "u39999"}', '"target": "u39999", "source": "x"}')
    assert len(clean) > LARGE_TEXT
    assert not parse(clean).has_duplicate_keys
    assert parse(repeated).has_duplicate_keys
    escaped = clean.replace('"target": "u7"}', '"target": "u7", "sourc\\u0065": "x"}')
    assert parse(escaped).has_duplicate_keys
