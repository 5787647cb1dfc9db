"""Graph files: text ↔ validated model, with every problem placed at its line and column.

Reading goes text → JSON value → upgraded to the current ``format_version`` → Pydantic model →
the rules of :mod:`dagnet.graph.checks`. Each stage reports all it finds; a later stage runs
only when the earlier ones found no error, because its findings would be guesses. Writing is in
:mod:`dagnet.graph.writing`.

A large file is first tried with its edges array read apart, straight into columns by a
compiled scan (:mod:`dagnet.graph.edgescan`), which is most of what makes loading a million
edges fast; the file is read the general way whenever that scan declines or anything is wrong,
so every problem is found and worded as before.
"""

from __future__ import annotations

import codecs
import errno
import functools
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dagnet.errors import GraphFileError, Problem
from dagnet.graph.checks import check
from dagnet.graph.edgescan import scan_edges
from dagnet.graph.jsontext import LARGE_TEXT, JSONTextError, Positions, parse
from dagnet.graph.messages import structure_problems
from dagnet.graph.model import Edges, Graph
from dagnet.graph.upgrades import upgrade

__all__ = ["MAX_FILE_BYTES", "Report", "load_graph", "parse_graph_text", "read_graph",
           "validate_document"]  # fmt: skip

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
        data = _read_regular_file(path)
        too_large = not data and os.stat(path).st_size > MAX_FILE_BYTES
    except OSError as exc:
        reason = "it is a folder" if Path(path).is_dir() else (exc.strerror or str(exc)).lower()
        return Report(name, None, [Problem("DAG001", f"cannot read the file: {reason}")])
    if too_large or len(data) > MAX_FILE_BYTES:
        message = f"the file is larger than {_size(MAX_FILE_BYTES)}, the most dagnet reads"
        return Report(name, None, [Problem("DAG006", message)])
    if len(data) >= LARGE_TEXT:  # the bytes as they are: decoding them whole takes time too
        body = memoryview(data)[len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0 :]
        read = _parse_edges_apart(body, lambda: data.decode("utf-8-sig"))
        if read is not None:
            return Report(name, *read)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded"
        return Report(name, None, [Problem("DAG002", message, line=line, column=column)])
    graph, problems = _parse_whole(text)
    return Report(name, graph, problems)


def _read_regular_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file, at most one past :data:`MAX_FILE_BYTES`.

    Opened without blocking, so that a FIFO with no writer is refused at once rather than
    waited on; a device, FIFO or socket is refused (a device that never ends would be read
    until the limit).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    handle = os.open(path, flags)
    with open(handle, "rb", closefd=True) as stream:
        mode = os.fstat(handle).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "it is a folder")
        if not stat.S_ISREG(mode):
            raise OSError(
                errno.EINVAL, "it is not a regular file (a device, a named pipe or a socket)"
            )
        if os.fstat(handle).st_size > MAX_FILE_BYTES:
            return b""  # too large, said by the size: not read
        return stream.read(MAX_FILE_BYTES + 1)


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:g} GiB" if n_bytes >= 2**30 else f"{n_bytes:,} bytes"


def parse_graph_text(text: str) -> tuple[Graph | None, list[Problem]]:
    """Validate graph file text: the model (``None`` if structurally invalid) and all problems.

    Problems come sorted by their place in the text, each with its line and column.
    """
    if len(text) >= LARGE_TEXT:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: refused the general way
            return _parse_whole(text)
        read = _parse_edges_apart(data, lambda: text)
        if read is not None:
            return read
    return _parse_whole(text)


def _parse_whole(text: str) -> tuple[Graph | None, list[Problem]]:
    """The general way: the text decoded whole, then validated."""
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
    return graph, _placed(problems, positions)


def _parse_edges_apart(
    data: bytes | memoryview, text: Callable[[], str]
) -> tuple[Graph, list[Problem]] | None:
    """A valid graph whose edges array is written plainly, read with that array apart: the
    array by a compiled scan (:mod:`dagnet.graph.edgescan`), the rest decoded and validated as
    usual with ``[]`` in its place. None when the general way must read the text instead: the
    array is not plain, or the file has an error, which that way words and places.

    Both ways give the same graph and warnings, since the array is valid JSON (and ASCII) whose
    value the scan's columns are, and the rest is valid JSON without a repeated key. ``data``
    is the UTF-8 text, without a byte order mark; ``text()`` the text, decoded only to place
    warnings.
    """
    plain = scan_edges(data)
    if plain is None:
        return None
    try:
        parsed = parse((bytes(data[: plain.start]) + b"[]" + data[plain.end :]).decode("utf-8"))
    except (UnicodeDecodeError, JSONTextError):
        return None
    if parsed.has_duplicate_keys:
        return None
    document = parsed.value
    assert document["edges"] == [], "the scan found the top-level edges array"
    document["edges"] = Edges.numbered(
        plain.ids, plain.source_id, plain.target_id, plain.weights, plain.trainable
    )
    graph, problems = validate_document(document)
    if graph is None or any(p.is_error for p in problems):
        return None
    return graph, _placed(problems, functools.cache(lambda: Positions(text())))


def _placed(problems: list[Problem], positions: Callable[[], Positions]) -> list[Problem]:
    """The problems with their line and column, in the order of their places in the text."""
    located = [
        p if p.line is not None else p.at(*positions().line_column(p.pointer)) for p in problems
    ]
    return sorted(located, key=lambda p: (p.line or 0, p.column or 0))


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
