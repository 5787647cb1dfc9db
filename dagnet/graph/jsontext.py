"""JSON text → Python values, with the positions a person needs to find a mistake.

Parsing uses the standard library's C decoder, so a large graph loads fast. Positions are only
needed for messages, so they are recovered afterwards, on demand, by :class:`Positions`: a small
scanner that walks the (already valid) text once and maps every JSON pointer to the line and
column where that member starts. The scanner keeps an explicit stack, so deep nesting cannot
exhaust Python's recursion limit.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

import pydantic_core

from dagnet.errors import Problem
from dagnet.graph import jsonscan

__all__ = [
    "LARGE_TEXT",
    "MAX_DEPTH",
    "JSONTextError",
    "ParsedText",
    "Positions",
    "parse",
    "pointer",
]

_scanstring: Any = json.decoder.scanstring  # type: ignore[attr-defined]  # (not in typeshed)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity")


def pointer(*parts: str | int) -> str:
    """The JSON pointer (RFC 6901) of a path of keys and indices; ``""`` is the whole document."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass
class ParsedText:
    """A parsed document, and whether it repeats a key (the standard decoder keeps quiet)."""

    value: Any
    has_duplicate_keys: bool


class JSONTextError(ValueError):
    """Text that is not JSON; carries the problem with its line and column."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


MAX_DEPTH = 100
"""Objects and arrays nested deeper than this are refused (a graph file needs five levels)."""


def parse(text: str) -> ParsedText:
    """Parse JSON text, noting duplicate keys.

    ``NaN``, ``Infinity`` and numbers beyond float range are read as the floats they name, for
    validation to refuse with the literal quoted.

    Raises
    ------
    JSONTextError
        When the text is not JSON (``DAG003``), or is nested deeper than :data:`MAX_DEPTH`
        (``DAG006``).

    Examples
    --------
    >>> parse('{"units": []}').value
    {'units': []}
    >>> parse("[" * 101 + "]" * 101)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dagnet.graph.jsontext.JSONTextError: the JSON is nested 101 levels deep; dagnet reads at ...
    """
    if not text.strip():
        raise JSONTextError(Problem("DAG003", "the file is empty; expected a JSON object"))
    large = len(text) >= LARGE_TEXT
    # Small texts with few brackets cannot nest too deeply; anything else is scanned once.
    nested = large or text.count("[") + text.count("{") > MAX_DEPTH
    layout = jsonscan.scan(text, MAX_DEPTH) if nested else None
    plain = layout is not None and not layout.has_escapes
    parsed = _decode(text, note_repeats=not large, fast=large and plain)
    if layout is not None:
        _refuse_deep_nesting(text, layout)
    if not plain:  # a lone surrogate is written as an escape
        _refuse_lone_surrogates(text)
    if layout is not None and large and layout.may_repeat_a_key:
        parsed.has_duplicate_keys = _decode(text, note_repeats=True).has_duplicate_keys
    return parsed


LARGE_TEXT = 1_000_000
"""From this many characters on, repeated keys are looked for by a compiled scan of the text
rather than by the decoder calling back into Python for every object."""


def _decode(text: str, *, note_repeats: bool, fast: bool = False) -> ParsedText:
    """The value of ``text``; ``fast`` tries pydantic's Rust decoder first, which reads the
    same JSON (NaN and Infinity included) in half the time, for texts without escapes."""
    if fast:
        try:
            return ParsedText(pydantic_core.from_json(text, allow_inf_nan=True), False)
        except ValueError:
            pass  # not JSON, or an integer too long for it: the standard decoder says which
    duplicates = False

    def object_from_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicates
        obj = dict(pairs)
        duplicates = duplicates or len(obj) != len(pairs)
        return obj

    hook = object_from_pairs if note_repeats else None
    try:
        value = json.loads(text, object_pairs_hook=hook, parse_int=_integer)
    except json.JSONDecodeError as exc:
        problem = Problem("DAG003", _syntax_message(exc), line=exc.lineno, column=exc.colno)
        raise JSONTextError(problem) from None
    except RecursionError:
        # Deeper than the decoder's stack, so deeper than MAX_DEPTH: say where.
        _refuse_deep_nesting(text, jsonscan.scan(text, MAX_DEPTH))
        raise JSONTextError(Problem("DAG006", "the JSON is nested too deeply to read")) from None
    return ParsedText(value, duplicates)


def _integer(literal: str) -> int | float:
    # Python refuses to convert integers of more than 4300 digits; such a number is read as
    # the float it overflows to, which validation then reports as not finite.
    return int(literal) if len(literal) <= 4000 else float(literal)


def _refuse_deep_nesting(text: str, layout: jsonscan.Layout) -> None:
    """Raise DAG006 at the first bracket that opens level MAX_DEPTH + 1, if there is one."""
    offset = layout.too_deep_at
    if offset < 0:
        return
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    message = f"the JSON is nested {layout.depth} levels deep; dagnet reads at most {MAX_DEPTH}"
    raise JSONTextError(Problem("DAG006", message, line=line, column=column))


_LONE_SURROGATE = re.compile(
    r"(?<!\\)(?:\\\\)*\\u(?:d[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})"
    r"|(?<!\\ud[89ab][0-9a-f]{2}\\u)d[c-f][0-9a-f]{2})",
    re.IGNORECASE,
)


def _refuse_lone_surrogates(text: str) -> None:
    """Raise DAG003 for an escape like ``\\ud800``: half a character, which no file can hold."""
    match = _LONE_SURROGATE.search(text) if "\\u" in text else None
    if match is None:
        return
    offset = match.end() - 6
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    message = (
        f"invalid JSON: '{text[offset : offset + 6]}' is half of a surrogate pair, not a character"
    )
    raise JSONTextError(Problem("DAG003", message, line=line, column=column))


_MESSAGES = {
    "Extra data": "there is more text after the end of the JSON document",
    "Unterminated string starting at": "a string is not closed; a '\"' is missing",
    "Invalid control character at": (
        "a string holds a raw control character (a tab or line break); write it as \\t or \\n"
    ),
    "Invalid \\escape": "an invalid escape in a string; a backslash is written \\\\",
    "Invalid \\uXXXX escape": "an invalid \\u escape; it needs four hexadecimal digits",
}


def _syntax_message(exc: json.JSONDecodeError) -> str:
    """What a person would say about a syntax error: the likely mistake, and what was found."""
    doc, pos = exc.doc, exc.pos
    before, after = doc[:pos].rstrip(), doc[pos:]
    if before.endswith(",") and after[:1] in ("}", "]"):
        return f"invalid JSON: trailing comma before '{after[0]}'"
    if after.startswith(("//", "/*", "#")):
        return "invalid JSON: JSON has no comments; remove the comment"
    if after.startswith("'"):
        return "invalid JSON: strings and keys need double quotes, not single quotes"
    if exc.msg in _MESSAGES:
        return f"invalid JSON: {_MESSAGES[exc.msg]}"
    if not after.strip():
        return (
            "invalid JSON: the text ends before the document does "
            "(a missing closing bracket or brace?)"
        )
    token = re.match(r"[A-Za-z0-9_.+\-]{1,20}|.", after, re.DOTALL)
    assert token is not None
    found = token.group() if token.group().isprintable() else ascii(token.group())[1:-1]
    return f"invalid JSON: {exc.msg[0].lower()}{exc.msg[1:]}, found '{found}'"


class Positions:
    """Where each member of a valid JSON text starts, by JSON pointer.

    For an object member the position is that of its key (where a person looks); for an array
    element, that of the value. A pointer that names nothing in the text (a missing key) falls
    back to its nearest ancestor that exists.

    Examples
    --------
    >>> p = Positions('{"units": [\\n  {"id": "x"}]}')
    >>> p.line_column("/units/0/id")
    (2, 4)
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
        self.member_start: dict[str, int] = {}
        self.value_span: dict[str, tuple[int, int]] = {}
        self.duplicate_keys: list[tuple[str, int]] = []  # (pointer, offset of the repeated key)
        self._scan()

    def line_column(self, ptr: str | None) -> tuple[int, int]:
        """1-based line and column of the member at ``ptr`` or of its nearest existing ancestor."""
        offset = self.member_start.get(self._existing(ptr or ""), 0)
        return self.offset_line_column(offset)

    def offset_line_column(self, offset: int) -> tuple[int, int]:
        index = bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def source(self, ptr: str) -> str | None:
        """The exact text of the value at ``ptr`` (e.g. ``1e400``), if it exists."""
        span = self.value_span.get(ptr)
        return self._text[span[0] : span[1]] if span else None

    def _existing(self, ptr: str) -> str:
        while ptr and ptr not in self.member_start:
            ptr = ptr[: ptr.rfind("/")]
        return ptr

    def _ws(self, i: int) -> int:
        return _WHITESPACE.match(self._text, i).end()  # type: ignore[union-attr]

    def _scan(self) -> None:
        text = self._text
        # A frame: [pointer of the container, its closing character, next index, keys seen, start].
        stack: list[list[Any]] = []
        i = self._ws(0)
        here, start = "", i
        while True:
            self.member_start.setdefault(here, start)
            char = text[i]
            if char in "{[":
                closing = "}" if char == "{" else "]"
                value_start, i = i, self._ws(i + 1)
                if text[i] == closing:
                    self.value_span[here] = (value_start, i + 1)
                    i += 1
                else:
                    stack.append([here, closing, 0, set(), value_start])
                    here, start, i = self._enter_member(stack[-1], i)
                    continue
            elif char == '"':
                end = _scanstring(text, i + 1)[1]
                self.value_span[here], i = (i, end), end
            else:
                match = _SCALAR.match(text, i)
                assert match, f"not valid JSON at offset {i}"
                self.value_span[here], i = (i, match.end()), match.end()
            # The value is complete: close containers until one has another member.
            while stack:
                frame = stack[-1]
                i = self._ws(i)
                if text[i] == ",":
                    here, start, i = self._enter_member(frame, self._ws(i + 1))
                    break
                self.value_span[frame[0]] = (frame[4], i + 1)
                stack.pop()
                i += 1
            else:
                return

    def _enter_member(self, frame: list[Any], i: int) -> tuple[str, int, int]:
        parent, closing, index, seen = frame[0], frame[1], frame[2], frame[3]
        frame[2] += 1
        if closing == "]":
            return f"{parent}/{index}", i, i
        key, after_key = _scanstring(self._text, i + 1)
        child = parent + pointer(key)
        if key in seen:
            self.duplicate_keys.append((child, i))
        seen.add(key)
        colon = self._ws(after_key)
        return child, i, self._ws(colon + 1)
