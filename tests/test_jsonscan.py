"""The compiled key scan never misses a repeated key, and on texts without escapes it flags
exactly the texts that repeat one."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dagnet import jsonscan
from dagnet.jsontext import LARGE_TEXT, parse

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
    flagged = jsonscan.may_repeat_a_key(text)
    assert flagged or not repeats
    if "\\" not in text:
        assert flagged == repeats


def test_a_large_text_gets_the_same_answer_as_a_small_one() -> None:
    rows = ", ".join(f'{{"source": "u{i}", "target": "u{i + 1}"}}' for i in range(40_000))
    clean = f'{{"edges": [{rows}], "name": "big"}}'
    repeated = clean.replace('"target": "u39999"}', '"target": "u39999", "source": "x"}')
    assert len(clean) > LARGE_TEXT
    assert not parse(clean).has_duplicate_keys
    assert parse(repeated).has_duplicate_keys
    escaped = clean.replace('"target": "u7"}', '"target": "u7", "sourc\\u0065": "x"}')
    assert parse(escaped).has_duplicate_keys
