"""Graph files: text ↔ validated model, with every problem placed at its line and column.

Reading goes text → JSON value → upgraded to the current ``format_version`` → Pydantic model →
the rules of :mod:`dagnet.graph.checks`. Each stage reports all it finds; a later stage runs only when
the earlier ones found no error, because its findings would be guesses. Writing is atomic: the
text goes to a temporary file in the same folder, is flushed to disk, then renamed over the
target, so a crash never leaves a half-written file behind.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dagnet.graph.checks import check, closest
from dagnet.errors import GraphFileError, Problem
from dagnet.graph.jsontext import JSONTextError, Positions, parse, pointer
from dagnet.graph.model import FORMAT_VERSION, Data, Edge, Edges, Graph, Trained, Training, Unit

UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
"""``UPGRADES[v]`` turns a version-``v`` document into a version ``v + 1`` one (dict → dict).

Version 1 is the first, so the chain is empty; a future format adds its step here.
"""

OLDEST_FORMAT_VERSION = FORMAT_VERSION - len(UPGRADES)

MAX_FILE_BYTES = 1 << 30
"""Graph files larger than this (1 GiB) are refused before reading: a network described in more
text than that would not fit in memory once parsed anyway."""


@dataclass
class Report:
    """The outcome of reading one graph file: the model when it is valid, and every problem."""

    file: str
    graph: Graph | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.graph is not None and not any(p.is_error for p in self.problems)


def load_graph(path: str | os.PathLike[str]) -> Graph:
    """Read and validate a graph file.

    Parameters
    ----------
    path : str or path-like
        A dagnet graph file (JSON, format v1 or older).

    Returns
    -------
    Graph
        The validated file model.

    Raises
    ------
    GraphFileError
        Carrying every problem found, each with its JSON pointer, line and column.

    Examples
    --------
    >>> graph = load_graph("graphs/multi_output.json")
    >>> [unit.id for unit in graph.units]
    ['x', 'i', 'j', 'k', 'o']
    """
    report = read_graph(path)
    if not report.valid:
        raise GraphFileError(report.file, report.problems)
    assert report.graph is not None
    return report.graph


def read_graph(path: str | os.PathLike[str]) -> Report:
    """Read a graph file and report on it, without raising for the problems found.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Report
        ``report.graph`` is the model when the file is structurally valid; ``report.problems``
        lists every error and warning, each placed at its line and column; ``report.valid``
        says whether there is no error.

    Examples
    --------
    >>> report = read_graph("graphs/xor.json")
    >>> report.valid, report.problems
    (True, [])
    """
    name = os.fspath(path)
    try:
        with open(path, "rb") as stream:
            # Read one byte past the limit, so that a device that never ends cannot exhaust memory.
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = "it is a folder" if Path(path).is_dir() else (exc.strerror or str(exc)).lower()
        return Report(name, None, [Problem("DAG001", f"cannot read the file: {reason}")])
    if len(data) > MAX_FILE_BYTES:
        message = f"the file is larger than {_size(MAX_FILE_BYTES)}, the most dagnet reads"
        return Report(name, None, [Problem("DAG006", message)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded"
        return Report(name, None, [Problem("DAG002", message, line=line, column=column)])
    graph, problems = parse_graph_text(text)
    return Report(name, graph, problems)


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:g} GiB" if n_bytes >= 2**30 else f"{n_bytes:,} bytes"


def parse_graph_text(text: str) -> tuple[Graph | None, list[Problem]]:
    """Validate graph file text: the model (``None`` if structurally invalid) and all problems.

    Problems come sorted by their place in the text, each with its line and column.
    """
    try:
        parsed = parse(text)
    except JSONTextError as exc:
        return None, [exc.problem]
    # Scanning for positions costs time, and only problems need them: scan once, on demand.
    positions = functools.cache(lambda: Positions(text))

    if parsed.has_duplicate_keys:
        duplicates = [
            Problem(
                "DAG004",
                f"the key '{ptr.rsplit('/', 1)[1]}' appears twice in this object; "
                "keep only one (JSON readers silently keep the last)",
                ptr,
            ).at(*positions().offset_line_column(offset))
            for ptr, offset in positions().duplicate_keys
        ]
        return None, duplicates
    graph, problems = validate_document(parsed.value, source=lambda ptr: positions().source(ptr))
    located = [
        p if p.line is not None else p.at(*positions().line_column(p.pointer)) for p in problems
    ]
    return graph, sorted(located, key=lambda p: (p.line or 0, p.column or 0))


def validate_document(
    document: Any, *, source: Callable[[str], str | None] | None = None
) -> tuple[Graph | None, list[Problem]]:
    """Validate a parsed document: the model (``None`` if structurally invalid) and all problems.

    ``source(pointer)``, when given, returns the text of a value, so that a message can quote
    what the person wrote (``1e400``) rather than what it was read as (``inf``).
    """
    document, problems = upgrade(document)
    if problems:
        return None, problems
    try:
        graph = Graph.model_validate(document)
    except ValidationError as exc:
        return None, structure_problems(exc, source)
    return graph, check(graph)


def upgrade(document: Any) -> tuple[dict[str, Any], list[Problem]]:
    """Bring a document of any supported ``format_version`` up to the current one."""
    if not isinstance(document, dict):
        return {}, [Problem("DAG010", f"expected a JSON object, found {_describe(document)}", "")]
    version = document.get("format_version")
    supported = f"this dagnet reads format_version {_version_range()}"
    if "format_version" not in document:
        message = (
            f"missing 'format_version'; {supported}, so add \"format_version\": {FORMAT_VERSION}"
        )
        return {}, [Problem("DAG005", message, "/format_version")]
    if not isinstance(version, int) or isinstance(version, bool):
        message = f"format_version must be a whole number, found {_describe(version)}"
        return {}, [Problem("DAG005", message, "/format_version")]
    if version > FORMAT_VERSION:
        message = (
            f"format_version {version} is newer than this dagnet knows ({supported}); "
            "upgrade dagnet to read this file"
        )
        return {}, [Problem("DAG005", message, "/format_version")]
    if version < OLDEST_FORMAT_VERSION:
        message = f"format_version {version} is not supported; {supported}"
        return {}, [Problem("DAG005", message, "/format_version")]
    while version < FORMAT_VERSION:
        document = UPGRADES[version](document)
        version += 1
        assert document["format_version"] == version
    return document, []


def _version_range() -> str:
    if OLDEST_FORMAT_VERSION == FORMAT_VERSION:
        return str(FORMAT_VERSION)
    return f"{OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}"


_KEYS = {
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
        loc = tuple(error["loc"])
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
        ptr = pointer(*loc)
        literal = source(ptr) if source else None
        problems.append(_structure_problem(error, loc, ptr, literal))
    return problems


def _structure_problem(error: Any, loc: tuple[Any, ...], ptr: str, literal: str | None) -> Problem:
    kind, value = error["type"], error.get("input")
    key = str(loc[-1]) if loc else ""
    # An array element has no key to name: "/units/0: this element must be an object".
    subject = f"'{key}'" if loc and isinstance(loc[-1], str) else "this element"
    found = _describe(value)
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
        message = (
            f"'{shown}' is not a valid unit id; use letters, digits, '_', '-' and '.', "
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


def _describe(value: Any) -> str:
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


# Writing


def graph_to_text(graph: Graph) -> str:
    """The file text of a graph: two-space indent, one unit or edge per line."""
    document = graph.model_dump(
        by_alias=True, exclude_unset=True, exclude_none=True, exclude={"edges"}
    )
    document = {key: document[key] if key != "edges" else graph.edges for key in _ordered(graph)}
    lines = ["{"]
    items = list(document.items())
    for position, (key, value) in enumerate(items):
        comma = "," if position < len(items) - 1 else ""
        if key == "edges" and value:
            lines.append(f'  "edges": [\n{_edge_rows(value)}\n  ]{comma}')
        elif key == "units" and value:
            rows = ",\n".join(f"    {_compact(item)}" for item in value)
            lines.append(f"  {json.dumps(key)}: [\n{rows}\n  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {_compact(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _ordered(graph: Graph) -> list[str]:
    """The keys of ``graph`` that were set, in the model's order, by their names in the file."""
    fields = Graph.model_fields
    return [
        fields[name].alias or name
        for name in fields
        if name in graph.model_fields_set and getattr(graph, name) is not None
    ]


def _edge_rows(edges: Edges) -> str:
    # Unit ids match UNIT_ID_PATTERN, so they need no escaping, and repr() of a finite float is
    # its shortest JSON form: one f-string per edge writes a million edges in a second.
    return ",\n".join(
        f'    {{"source": "{s}", "target": "{t}"}}'
        if w is None
        else f'    {{"source": "{s}", "target": "{t}", "weight": {float(w)!r}}}'
        for s, t, w in zip(edges.sources, edges.targets, edges.weights, strict=True)
    )


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), allow_nan=False)


def save_graph(graph: Graph, path: str | os.PathLike[str], *, overwrite: bool = True) -> None:
    """Write ``graph`` to ``path`` atomically, in the format :func:`load_graph` reads.

    Parameters
    ----------
    graph : Graph
    path : str or path-like
    overwrite : bool, default True
        When False, an existing file at ``path`` is an error and is left as it is.

    Raises
    ------
    FileExistsError
        When ``overwrite`` is False and ``path`` exists.
    OSError
        When the folder cannot be written; any existing file is left untouched.
    """
    atomic_write(path, graph_to_text(graph).encode("utf-8"), overwrite=overwrite)


def atomic_write(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step: a reader sees the old file or the new one."""
    target = Path(path)
    if not overwrite and target.exists():
        raise FileExistsError(f"{target} exists")
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or "."
    )
    try:
        try:
            remaining = memoryview(data)
            while remaining:
                remaining = remaining[os.write(handle, remaining) :]
            os.fsync(handle)  # on disk before the rename makes it the file
        finally:
            os.close(handle)
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o7777)
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def rebase_paths(graph: Graph, source: Path, destination: Path) -> Graph:
    """The graph with its relative paths (data, $schema) still correct when saved elsewhere."""
    old, new = source.resolve().parent, destination.resolve().parent
    if old == new:
        return graph

    def moved(relative: str) -> str:
        if "://" in relative or Path(relative).is_absolute():
            return relative
        return Path(os.path.relpath(old / relative, new)).as_posix()

    update: dict[str, Any] = {}
    if graph.schema_uri is not None:
        update["schema_uri"] = moved(graph.schema_uri)
    if graph.data is not None and graph.data.path is not None:
        update["data"] = graph.data.model_copy(update={"path": moved(graph.data.path)})
    return graph.model_copy(update=update)
