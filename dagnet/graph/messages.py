"""The wording of problems: Pydantic's findings about a document's structure as one-sentence
messages at their JSON pointer, how a JSON value is named in a message, and did-you-mean."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from dagnet.errors import Problem, ascii_twin
from dagnet.graph.jsontext import pointer
from dagnet.graph.model import UNIT_ID_PATTERN, Data, Edge, Graph, Trained, Training, Unit

__all__ = [
    "SHOWN",
    "Suggestions",
    "closest",
    "describe",
    "did_you_mean",
    "listing",
    "structure_problems",
]


SHOWN = 5
"""How many names a message lists before it cuts a long list short."""


def listing(names: Sequence[str], noun: str = "unit", shown: int = SHOWN) -> str:
    """Names joined by commas; a long list as its first few, the last and a count.

    Examples
    --------
    >>> listing(["x", "y"])
    'x, y'
    >>> listing([f"p{i}" for i in range(64)])
    'p0, p1, p2, p3, p4, …, p63 (64 units)'
    """
    if len(names) <= shown + 2:
        return ", ".join(names)
    plural = noun if noun.endswith("s") else f"{noun}s"
    return f"{', '.join(names[:shown])}, …, {names[-1]} ({len(names)} {plural})"


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word``, if any is close enough to be a likely typo.

    A word that differs from a choice only by look-alike characters (a Cyrillic ``х`` for
    ``x``) gets that choice, its ASCII twin.
    """
    return Suggestions(choices).closest(word)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``, else nothing."""
    return Suggestions(choices).did_you_mean(word)


class Suggestions:
    """Did-you-mean over one set of choices, for many words, at a bounded cost.

    Each word's guess is kept (a misspelling repeated 20,000 times is looked up once), a
    look-alike twin is found by a set lookup, and the fuzzy comparisons together stop at
    :attr:`BUDGET` word-choice pairs: past it, words get no guess rather than minutes of work.
    """

    BUDGET = 400_000
    """Word-choice comparisons allowed in all (about a second)."""

    def __init__(self, choices: Iterable[str]) -> None:
        self.choices = list(dict.fromkeys(choices))
        self._set = set(self.choices)
        self._twins = {ascii_twin(choice): choice for choice in reversed(self.choices)}
        self._guesses: dict[str, str | None] = {}
        self.remaining = self.BUDGET

    def closest(self, word: str) -> str | None:
        if word in self._guesses:
            return self._guesses[word]
        guess = self._twins.get(ascii_twin(word))
        if guess is None or guess == word:
            guess = None
            if self.remaining >= len(self.choices):
                self.remaining -= len(self.choices)
                matches = difflib.get_close_matches(word, self.choices, n=1, cutoff=0.6)
                guess = matches[0] if matches else None
        self._guesses[word] = guess
        return guess

    def did_you_mean(self, word: str) -> str:
        guess = self.closest(word)
        return f" (did you mean '{guess}'?)" if guess else ""


_UNIT_ID = re.compile(UNIT_ID_PATTERN)

_KEYS: dict[str | None, type[BaseModel]] = {
    None: Graph,
    "units": Unit,
    "edges": Edge,
    "training": Training,
    "data": Data,
    "trained": Trained,
}


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model = _KEYS.get(loc[0] if len(loc) > 1 else None, Graph)
    return [info.alias or name for name, info in model.model_fields.items()]


def structure_problems(
    exc: ValidationError, source: Callable[[str], str | None] | None = None
) -> list[Problem]:
    """Pydantic's findings, each as a one-sentence Problem at its JSON pointer."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = _without_union_tags(tuple(error["loc"]))
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
        ptr = pointer(*loc)
        literal = source(ptr) if source else None
        problems.append(_structure_problem(error, loc, ptr, literal))
    return problems


def _without_union_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The location without the tag Pydantic adds after a field of several forms
    (``training.optimizer``: a name or an object), which is no key of the file."""
    for index in range(1, len(loc)):
        if loc[index - 1] == "optimizer" and loc[index] in ("name", "settings"):
            return loc[:index] + loc[index + 1 :]
    return loc


def _structure_problem(error: Any, loc: tuple[Any, ...], ptr: str, literal: str | None) -> Problem:
    kind, value = error["type"], error.get("input")
    key = str(loc[-1]) if loc else ""
    # An array element has no key to name: "/units/0: this element must be an object".
    subject = f"'{key}'" if loc and isinstance(loc[-1], str) else "this element"
    found = describe(value)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc)
        guess = closest(key, allowed)
        hint = f" (did you mean '{guess}'?)" if guess else ""
        return Problem(
            "DAG011", f"unknown key '{key}'{hint}; allowed keys are {', '.join(allowed)}", ptr
        )
    if kind == "missing":
        return Problem("DAG012", f"missing required key '{key}'", ptr)
    if kind == "finite_number":
        literal = literal if literal is None or len(literal) <= 40 else f"{literal[:40]}…"
        return Problem("DAG013", f"expected a finite number, found {literal or found}", ptr)
    if kind == "string_pattern_mismatch":
        shown = value if value.isprintable() else ascii(value)[1:-1]  # a control char, visibly
        twin = ascii_twin(value)
        hint = f" (did you mean '{twin}'?)" if twin != value and _UNIT_ID.match(twin) else ""
        message = (
            f"'{shown}' is not a valid unit id{hint}; use letters, digits, '_', '-' and '.', "
            "starting with a letter or '_'"
        )
        return Problem("DAG014", message, ptr)
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        guess = closest(str(value), choices) if isinstance(value, str) else None
        hint = f" (did you mean '{guess}'?)" if guess else ""
        options = ", ".join(choices)
        return Problem("DAG015", f"{subject} must be one of {options}; found {found}{hint}", ptr)
    if kind in ("greater_than", "greater_than_equal", "too_short", "string_too_short"):
        return Problem("DAG015", f"{subject} {_range_rule(kind, error)}, found {found}", ptr)
    if kind == "value_error":
        return Problem("DAG010", str(error["ctx"]["error"]), ptr)
    expected = _EXPECTED.get(kind)
    if expected:
        return Problem("DAG010", f"{subject} must be {expected}, found {found}", ptr)
    return Problem("DAG010", f"{error['msg'].lower()}, found {found}", ptr)


_EXPECTED = {
    "float_type": "a number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "an array",
    "tuple_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def _range_rule(kind: str, error: Any) -> str:
    ctx = error.get("ctx", {})
    if kind == "greater_than":
        return f"must be greater than {ctx['gt']:g}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']:g}"
    return "must not be empty"


def describe(value: Any) -> str:
    """A JSON value as a person would name it in a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {json.dumps(value[:40] + ('…' if len(value) > 40 else ''))}"
    if isinstance(value, list):
        return "an array"
    return "an object"
