"""Training data → arrays in the network's order: CSV, .npz, or columns written in the graph.

Data is named by unit id: input units give the inputs, output units the targets. A CSV file has
a header row of unit ids (any order); an .npz file holds one 1-D array per unit id, or the
matrices ``inputs`` (N, input units) and ``targets`` (N, output units) in the file's unit order
(``X`` and ``y`` are the same); a ``.npy`` pair is such a matrix in ``NAME_X.npy`` (or
``NAME.inputs.npy``) beside ``NAME_y.npy`` (``NAME.targets.npy``); inline ``columns`` map unit
ids to lists. A softmax group's targets may be one *label column* named after the group (a
class index 0..k−1, or a class name in a CSV), which becomes its one-hot columns; a ``y`` of
shape (N,) is the label column of a network whose outputs are one softmax group. Whatever the
source, the result is a :class:`Dataset` whose columns follow the graph file's order of input
and output units. Every way the data can
fail to fit the graph gets a :class:`~dagnet.errors.DataError` naming the file, the column and
the row.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dagnet.errors import ArgumentError, DagnetError, DataError, visible
from dagnet.graph.messages import closest, did_you_mean, listing
from dagnet.graph.model import Graph

__all__ = [
    "MAX_DATA_BYTES",
    "Dataset",
    "dataset_from_columns",
    "load_data",
    "read_csv",
    "read_data_file",
    "read_npz",
]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Dataset:
    """Inputs (N, input units) and, when present, targets (N, output units), in file order."""

    inputs: Array
    targets: Array | None
    source: str

    @property
    def n_examples(self) -> int:
        return len(self.inputs)


def load_data(
    graph: Graph,
    path: str | os.PathLike[str] | None = None,
    *,
    base: str | os.PathLike[str] = ".",
    need_targets: bool = True,
) -> Dataset:
    """The data for ``graph``: from ``path`` if given, else from the graph's ``data`` section.

    Parameters
    ----------
    graph : Graph
    path : str or path-like, optional
        A ``.csv`` or ``.npz`` file; overrides the graph's own data.
    base : str or path-like
        The folder the graph's relative ``data.path`` is resolved against (the graph file's).
    need_targets : bool, default True
        Whether every output unit must have a column (training) or not (prediction).

    Raises
    ------
    DataError
        When there is no data, or it does not fit the graph.
    """
    if not isinstance(graph, Graph):
        raise ArgumentError(
            f"load_data needs a Graph (from dagnet.load_graph), not {type(graph).__name__}"
        )
    if path is not None:
        return read_data_file(graph, path, need_targets=need_targets)
    if graph.data is None:
        raise DataError(
            "DAG046",
            'no data: the graph has no "data" section; pass --data PATH (a .csv or .npz file) '
            'or add "data": {"path": ...} to the graph file',
        )
    if graph.data.path is not None:
        return read_data_file(graph, Path(base) / graph.data.path, need_targets=need_targets)
    assert graph.data.columns is not None
    columns = {
        name: np.array(values, dtype=np.float64) for name, values in graph.data.columns.items()
    }
    return dataset_from_columns(
        graph, columns, "the graph's inline data", need_targets=need_targets
    )


def read_data_file(
    graph: Graph, path: str | os.PathLike[str], *, need_targets: bool = True
) -> Dataset:
    """Read a ``.csv`` or ``.npz`` data file for ``graph``."""
    name = os.fspath(path)
    suffix = Path(path).suffix.lower()
    if not Path(path).is_file():
        if not Path(path).exists():
            reason = "no such file"
        else:
            reason = "it is a folder" if Path(path).is_dir() else "it is not a regular file"
        raise DataError("DAG040", f"{name}: cannot read the data file: {reason}")
    if suffix not in (".csv", ".npz", ".npy"):
        found = f"'{suffix}'" if suffix else "a file without a suffix"
        raise DataError(
            "DAG040", f"{name}: unknown data format {found}; use a .csv, .npz or .npy file"
        )
    if suffix == ".csv":
        expected = [unit.id for unit in graph.units if unit.role != "hidden"]
        columns = read_csv(path, labels=_label_names(graph), expected=expected)
    elif suffix == ".npz":
        columns = read_npz(path)
    else:
        columns = read_npy_pair(path, need_targets=need_targets)
    return dataset_from_columns(graph, columns, name, need_targets=need_targets)


INPUT_MATRICES = ("inputs", "X")
TARGET_MATRICES = ("targets", "y")
"""The names of the matrices an .npz file (or a .npy pair) may hold instead of one array per
unit: the inputs (N, input units) and targets (N, output units), in the file's unit order."""


def read_npy_pair(path: str | os.PathLike[str], *, need_targets: bool = True) -> dict[str, Any]:
    """The inputs matrix in ``path`` and the targets beside it: ``NAME_X.npy`` and
    ``NAME_y.npy``, or ``NAME.inputs.npy`` and ``NAME.targets.npy``."""
    name = os.fspath(path)
    stem = Path(path).name[: -len(".npy")]
    partner = None
    for inputs, targets in (("X", "y"), ("x", "y"), ("inputs", "targets")):
        if stem == inputs or stem.endswith(("_" + inputs, "." + inputs, "-" + inputs)):
            partner = Path(path).with_name(stem[: len(stem) - len(inputs)] + targets + ".npy")
            break
    if partner is None:
        raise DataError(
            "DAG040",
            f"{name}: a .npy data file holds the inputs matrix and is named NAME_X.npy (or "
            "NAME.inputs.npy), its targets beside it in NAME_y.npy (NAME.targets.npy); or use a "
            ".csv or .npz file",
        )
    columns: dict[str, Any] = {"inputs": _read_npy(name)}
    if partner.is_file():
        columns["targets"] = _read_npy(os.fspath(partner))
    elif need_targets:
        raise DataError(
            "DAG041", f"{name}: no targets beside the inputs; expected them in {partner}"
        )
    return columns


def _read_npy(name: str) -> Any:
    """One .npy array of numbers, its header checked before the data is read."""
    _check_size(name)
    try:
        with open(name, "rb") as stream:
            _check_npy_header(name, Path(name).stem, None, stream)
            stream.seek(0)
            return np.lib.format.read_array(stream, allow_pickle=False)
    except DataError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise DataError("DAG040", f"{name}: not a numpy array (.npy): {exc}") from None


def _label_names(graph: Graph) -> set[str]:
    """The names a label column may have: those of the graph's softmax groups."""
    from dagnet.graph.heads import heads  # (heads checks use this module's neighbours)

    try:
        return {head.name for head in heads(graph) if head.function.grouped}
    except DagnetError:
        return set()


MAX_DATA_BYTES = 1 << 30
"""Data files larger than this (1 GiB), and .npz arrays that would be larger once decompressed,
are refused before they are read, as graph files are."""


def _check_size(path: str | os.PathLike[str]) -> None:
    """Refuse, unread, a data file larger than :data:`MAX_DATA_BYTES`."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return  # reading it says why it cannot be read
    if size > MAX_DATA_BYTES:
        raise DataError(
            "DAG040",
            f"{os.fspath(path)}: the data file is larger than {_size()}, the most dagnet reads",
        )


def _size() -> str:
    return (
        f"{MAX_DATA_BYTES / 2**30:g} GiB"
        if MAX_DATA_BYTES >= 2**30
        else (f"{MAX_DATA_BYTES:,} bytes")
    )


def read_csv(
    path: str | os.PathLike[str],
    *,
    labels: set[str] | frozenset[str] = frozenset(),
    expected: list[str] | None = None,
) -> dict[str, Any]:
    """Columns of a CSV file with a header row of names; every value a finite number, except
    in the ``labels`` columns, which may hold class names (kept as text). ``expected`` are the
    column names a header should have, for the message about a file without one."""
    name = os.fspath(path)
    _check_size(path)
    try:
        _check_utf8(name, Path(path).read_bytes())
        with open(path, newline="", encoding="utf-8-sig") as stream:
            header = next(csv.reader(stream), None)
    except csv.Error as exc:
        raise DataError(
            "DAG042", f"{name}:1: the header cannot be read: {_csv_reason(exc)}"
        ) from None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise DataError("DAG040", f"{name}: cannot read the data file: {reason}") from None
    if header is None:
        raise DataError("DAG045", f"{name}: the file is empty; expected a header row of unit ids")
    header = [column.strip() for column in header]
    _check_header(name, header, expected)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": DAG045 says it below
            values = np.loadtxt(
                path,
                delimiter=",",
                skiprows=1,
                ndmin=2,
                quotechar='"',
                comments=None,
                encoding="utf-8-sig",
            )
        fast = values.shape[1] == len(header) and bool(np.all(np.isfinite(values)))
    except ValueError:
        fast = False
    if not fast:
        # Read it again slowly, cell by cell, to say exactly where the problem is.
        values = _read_csv_cells(path, header, labels)
    if len(values) == 0:
        raise DataError("DAG045", f"{name}: the file has a header but no rows of data")
    return {column: _numbers_if_possible(values[:, index]) for index, column in enumerate(header)}


def _numbers_if_possible(column: np.ndarray) -> np.ndarray:
    """A label column that holds numbers only is numbers; one with class names stays text."""
    if column.dtype != object:
        return column
    try:
        return column.astype(np.float64)
    except ValueError:
        return column.astype(str)


def _check_utf8(name: str, raw: bytes) -> None:
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            "DAG040",
            f"{name}:{line}: the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be "
            "decoded; save it as UTF-8",
        ) from None


def _check_header(name: str, header: list[str], expected: list[str] | None = None) -> None:
    if all(_is_number(column) for column in header):
        wanted = (
            f" ({', '.join(expected[:8])}{', ...' if len(expected) > 8 else ''})"
            if (expected)
            else ""
        )
        raise DataError(
            "DAG042",
            f"{name}:1: the first row is numbers, not a header; dagnet reads a CSV whose first "
            f"row names the input and output units{wanted}, one column each, in any order",
        )
    if len(header) == 1 and any(mark in header[0] for mark in ";\t|"):
        raise DataError(
            "DAG042",
            f"{name}:1: the header '{header[0]}' has no commas; dagnet reads comma-separated "
            "values with a header row of unit ids",
        )
    seen: set[str] = set()  # (a set: a header of a million columns is checked in linear time)
    for index, column in enumerate(header):
        if not column:
            raise DataError(
                "DAG042",
                f"{name}:1: column {index + 1} of the header has no name (a stray comma?); "
                "every column names an input or output unit",
            )
        if column in seen:
            raise DataError("DAG047", f"{name}:1: column '{column}' appears twice in the header")
        seen.add(column)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv_cells(
    path: str | os.PathLike[str], header: list[str], labels: set[str] | frozenset[str]
) -> np.ndarray:
    name = os.fspath(path)
    with open(path, newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        next(reader)
        try:
            return _rows(name, reader, header, labels)  # type: ignore[no-any-return]
        except csv.Error as exc:
            raise DataError(
                "DAG043", f"{name}:{reader.line_num}: the row cannot be read: {_csv_reason(exc)}"
            ) from None


def _csv_reason(exc: csv.Error) -> str:
    """csv's complaint, in words: a cell longer than its limit is the one a file can cause."""
    if "field larger than field limit" in str(exc):
        return (
            f"a cell is longer than {csv.field_size_limit():,} characters, the most a CSV cell "
            "may hold"
        )
    return str(exc)


def _rows(name: str, reader: Any, header: list[str], labels: set[str] | frozenset[str]) -> Any:
    """The rows of a ``csv.reader`` past the header, each checked cell by cell (a label
    column's cells may be class names)."""
    rows: list[list[Any]] = []
    text = [column in labels for column in header]
    for cells in reader:
        if not cells or (all(not cell.strip() for cell in cells) and len(cells) == 1):
            continue
        where = f"{name}:{reader.line_num}: row {len(rows) + 1}"
        if len(cells) != len(header):
            raise DataError(
                "DAG044",
                f"{where} has {len(cells)} values but the header names {len(header)} columns",
            )
        cells_by_column = zip(header, cells, text, strict=True)
        rows.append(
            [
                cell.strip() if label else _number(cell, f"{where}, column '{col}'")
                for col, cell, label in cells_by_column
            ]
        )
    kind = object if any(text) else np.float64
    return np.array(rows, dtype=kind).reshape(len(rows), len(header))


def _number(cell: str, where: str) -> float:
    text = cell.strip()
    if not text:
        raise DataError("DAG043", f"{where}: the cell is empty; expected a number")
    try:
        value = float(text)
    except ValueError:
        raise DataError("DAG043", f"{where}: '{text[:40]}' is not a number") from None
    if not math.isfinite(value):
        raise DataError("DAG043", f"{where}: '{text}' is not a finite number")
    return value


def read_npz(path: str | os.PathLike[str]) -> dict[str, Array]:
    """Arrays of an ``.npz`` file, one per unit id, each one value per example.

    Every member is checked before any is decompressed: it must be a ``.npy`` array of numbers
    (no Python objects: nothing is unpickled) whose header declares no more than
    :data:`MAX_DATA_BYTES`, so a small file declaring gigabytes is refused unread.
    """
    name = os.fspath(path)
    _check_size(path)
    not_npz = DataError(
        "DAG040", f"{name}: not an .npz file (a zip archive of arrays, as numpy.savez writes it)"
    )
    arrays = {}
    try:
        if not zipfile.is_zipfile(path):
            raise not_npz
        with zipfile.ZipFile(path) as archive:
            declared = 0  # bytes the arrays will take, all together: bounded as one file is
            for member in archive.infolist():
                key = _npz_key(name, member)
                if key is None:
                    continue
                with archive.open(member) as stream:
                    declared += _check_npy_header(name, key, member, stream)
                if declared > MAX_DATA_BYTES:
                    raise DataError(
                        "DAG040",
                        f"{name}: the arrays together declare more than {_size()} once read, "
                        "the most dagnet reads",
                    )
            for member in archive.infolist():
                key = _npz_key(name, member)
                if key is None:
                    continue
                with archive.open(member) as stream:  # the header said it is safe to read
                    arrays[key] = np.lib.format.read_array(stream, allow_pickle=False)
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError):
        raise not_npz from None
    columns = {}
    for key, array in arrays.items():
        if key in INPUT_MATRICES + TARGET_MATRICES and array.ndim == 2 and array.shape[1] != 1:
            columns[key] = array.astype(np.float64)  # a matrix, split by dataset_from_columns
            continue
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise DataError(
                "DAG044",
                f"{name}: array '{key}' has shape {array.shape}; expected one value per example, "
                "shape (N,)",
            )
        columns[key] = array.astype(np.float64)
    return columns


def _npz_key(name: str, member: zipfile.ZipInfo) -> str | None:
    """The array name of a member (``x1.npy`` holds ``x1``); None for a folder entry."""
    if member.is_dir():
        return None
    if not member.filename.endswith(".npy"):
        raise DataError(
            "DAG040",
            f"{name}: member '{member.filename}' is not an array (.npy); an .npz file holds "
            "only arrays, one per unit id",
        )
    if member.file_size > MAX_DATA_BYTES + 4096:
        raise DataError(
            "DAG040",
            f"{name}: member '{member.filename}' is {member.file_size:,} bytes once "
            f"decompressed, more than {_size()}, the most dagnet reads",
        )
    return member.filename[: -len(".npy")]


def _check_npy_header(name: str, key: str, member: zipfile.ZipInfo | None, stream: Any) -> int:
    """The bytes a member's array takes as float64, from its .npy header, before the data is
    read; refusing objects, text, complex numbers and arrays larger than the limit."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(stream)
        else:
            shape, _, dtype = fmt.read_array_header_2_0(stream)
    except ValueError:
        what = f"member '{member.filename}'" if member is not None else "the file"
        raise DataError("DAG040", f"{name}: {what} is not a numpy array (.npy)") from None
    if dtype.hasobject:
        raise DataError("DAG043", f"{name}: array '{key}' holds Python objects, not numbers")
    if dtype.kind == "c":
        raise DataError(
            "DAG043",
            f"{name}: array '{key}' holds complex numbers; dagnet takes real numbers and never "
            "drops an imaginary part",
        )
    if dtype.kind not in "biuf":
        held = "text" if dtype.kind in "US" else f"values of type {dtype}"
        raise DataError("DAG043", f"{name}: array '{key}' holds {held}, not numbers")
    values = math.prod(shape)
    if values * max(dtype.itemsize, 8) > MAX_DATA_BYTES:
        raise DataError(
            "DAG040",
            f"{name}: array '{key}' declares shape {shape}, {values:,} values, more than "
            f"{_size()} once read; dagnet reads at most that",
        )
    return values * 8


def _column(source: str, name: str, values: Any) -> Array:
    """One column as a 1-D float64 array, or a DataError saying what it holds instead."""
    try:
        array = np.asarray(values)
    except ValueError:
        array = np.empty(0, dtype=object)  # ragged
    if array.dtype.kind not in "biuf":
        held = {"c": "complex numbers", "U": "text", "S": "text"}.get(
            array.dtype.kind, "values that are not numbers"
        )
        raise DataError(
            "DAG043", f"{source}: column '{name}' holds {held}; expected real numbers", name
        )
    if array.ndim != 1:
        raise DataError(
            "DAG044",
            f"{source}: column '{name}' has shape {array.shape}; expected one value per example, "
            "shape (N,)",
            name,
        )
    return array.astype(np.float64)


def dataset_from_columns(
    graph: Graph, columns: Mapping[str, Array], source: str, *, need_targets: bool = True
) -> Dataset:
    """Check named columns against the graph and stack them in file order.

    Each column must be one-dimensional real numbers (text, ragged lists and complex numbers
    are refused, never cast); every way they do not fit is a :class:`DataError`.
    """
    role = {unit.id: unit.role for unit in graph.units}
    inputs = [unit.id for unit in graph.units if unit.role == "input"]
    outputs = [unit.id for unit in graph.units if unit.role == "output"]
    columns = _split_matrices(graph, dict(columns), source, inputs, outputs)
    columns = _one_hot_labels(graph, columns, source)
    columns = {name: _column(source, name, values) for name, values in columns.items()}
    for column in columns:
        if column not in role:
            guess = closest(column, inputs + outputs)
            hint = f" (did you mean '{guess}'?)" if guess else ""
            raise DataError(
                "DAG042",
                f"{source}: column '{column}' names no unit{hint}; columns name the input units "
                f"({listing(inputs)}) and output units ({listing(outputs)})",
                column,
            )
        if role[column] == "hidden":
            raise DataError(
                "DAG042",
                f"{source}: column '{column}' names a hidden unit; data gives only input and "
                "output units",
                column,
            )
    required = inputs + (outputs if need_targets else [])
    for unit_id in required:
        if unit_id not in columns:
            kind = "input" if role[unit_id] == "input" else "output"
            raise DataError(
                "DAG041",
                f"{source}: no column for {kind} unit '{unit_id}'; the data has "
                f"{listing(list(columns), 'column') or 'no columns'}",
                unit_id,
            )
    lengths = {column: len(values) for column, values in columns.items()}
    first = next(iter(lengths))
    for column, length in lengths.items():
        if length != lengths[first]:
            raise DataError(
                "DAG044",
                f"{source}: column '{column}' has {length} values but '{first}' has "
                f"{lengths[first]}",
                column,
            )
    if lengths[first] == 0:
        raise DataError("DAG045", f"{source}: the data has no rows")
    for column, values in columns.items():
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise DataError(
                "DAG043",
                f"{source}: column '{column}', row {bad[0] + 1}: {values[bad[0]]} is not a finite "
                "number",
                column,
            )

    def stack(ids: list[str]) -> Array:
        return np.column_stack([columns[u] for u in ids]).astype(np.float64)

    targets = stack(outputs) if all(u in columns for u in outputs) else None
    if targets is not None and need_targets:  # (predict ignores them)
        check_targets(graph, targets, source)
    return Dataset(stack(inputs), targets, source)


def _split_matrices(
    graph: Graph, columns: dict[str, Any], source: str, inputs: list[str], outputs: list[str]
) -> dict[str, Any]:
    """The ``inputs``/``X`` and ``targets``/``y`` matrices as one column per unit."""
    units = {unit.id for unit in graph.units}
    for names, ids, what in (
        (INPUT_MATRICES, inputs, "input"),
        (TARGET_MATRICES, outputs, "output"),
    ):
        for key in names:
            if key not in columns or key in units:  # a unit named y is that unit's column
                continue
            matrix = np.asarray(columns[key])
            if matrix.ndim == 1 and len(ids) == 1 and key in INPUT_MATRICES:
                matrix = matrix[:, None]  # one input: its column
            if key in TARGET_MATRICES and matrix.ndim == 1:
                label = _the_label_column(graph, outputs)
                if label is None:
                    raise DataError(
                        "DAG044",
                        f"{source}: '{key}' has shape {matrix.shape}, one value per example, "
                        f"but the network has {len(outputs)} outputs ({listing(outputs)}) that "
                        f"are not one softmax group; give '{key}' shape (N, {len(outputs)})",
                        key,
                    )
                columns[label] = columns.pop(key)
                continue
            if matrix.ndim != 2 or matrix.shape[1] != len(ids):
                raise DataError(
                    "DAG044",
                    f"{source}: '{key}' has shape {matrix.shape}; dagnet expects (N, {len(ids)}): "
                    f"one row per example and one column per {what} unit, in the graph file's "
                    f"order ({listing(ids)})",
                    key,
                )
            del columns[key]
            for index, unit_id in enumerate(ids):
                if unit_id in columns:
                    raise DataError(
                        "DAG047",
                        f"{source}: unit '{unit_id}' is given twice, as its own array and as "
                        f"column {index + 1} of '{key}'",
                        unit_id,
                    )
                columns[unit_id] = matrix[:, index]
    return columns


def _the_label_column(graph: Graph, outputs: list[str]) -> str | None:
    """The name a (N,) ``y`` stands for: the only output, or the one softmax group of all."""
    from dagnet.graph.heads import heads

    if len(outputs) == 1:
        return outputs[0]
    try:
        found = heads(graph)
    except DagnetError:
        return None
    if len(found) == 1 and found[0].function.grouped:
        return found[0].name
    return None


def _one_hot_labels(graph: Graph, columns: dict[str, Any], source: str) -> dict[str, Any]:
    """A softmax group's label column (class indices or names) as its outputs' 0/1 columns."""
    from dagnet.graph.heads import heads

    names = _label_names(graph)
    if not names.intersection(columns):
        return columns
    outputs = [unit.id for unit in graph.units if unit.role == "output"]
    for head in heads(graph):
        if not head.function.grouped or head.name not in columns:
            continue
        group = [outputs[r] for r in head.slots]
        classes = list(head.classes or group)
        labels = np.asarray(columns.pop(head.name))
        if labels.ndim != 1:
            raise DataError(
                "DAG044",
                f"{source}: label column '{head.name}' has shape {labels.shape}; expected one "
                "class per example",
                head.name,
            )
        index = _class_indices(labels, classes, head.name, source)
        for r, unit_id in enumerate(group):
            if unit_id in columns:
                raise DataError(
                    "DAG047",
                    f"{source}: output '{unit_id}' is given twice, as its own column and by "
                    f"the label column '{head.name}'",
                    unit_id,
                )
            columns[unit_id] = (index == r).astype(np.float64)
    return columns


def _class_indices(labels: np.ndarray, classes: list[str], column: str, source: str) -> Any:
    """Each label's class number: an index 0..k−1, or a class name's place in ``classes``."""
    if labels.dtype.kind in "biuf":
        values = labels.astype(np.float64)
        bad = np.flatnonzero(
            ~np.isfinite(values) | (values != np.round(values)) | (values < 0)
            | (values >= len(classes))
        )  # fmt: skip
        if len(bad):
            raise DataError(
                "DAG048",
                f"{source}: label column '{column}', row {bad[0] + 1}: {values[bad[0]]:g} is not a "
                f"class; the classes are 0 to {len(classes) - 1} ({listing(classes)})",
                column,
            )
        return values.astype(np.int64)
    place = {name: k for k, name in enumerate(classes)}
    found = np.array([place.get(str(label), -1) for label in labels], dtype=np.int64)
    bad = np.flatnonzero(found < 0)
    if len(bad):
        label = str(labels[bad[0]])
        raise DataError(
            "DAG048",
            f"{source}: label column '{column}', row {bad[0] + 1}: '{visible(label[:40])}' is "
            f"not a class{did_you_mean(label, classes)}; the classes are {listing(classes)}",
            column,
        )
    return found


def check_targets(graph: Graph, targets: Array, source: str, heads: Any = None) -> None:
    """Targets (N, outputs) that their losses take: probabilities in [0, 1] for cross-entropy
    outputs, and for a softmax group, rows that also sum to 1; else a DataError naming the row
    and the unit."""
    from dagnet.graph.heads import heads as heads_of

    if heads is None:
        try:
            heads = heads_of(graph)
        except DagnetError:
            return  # the graph's own problems are reported where it is checked
    outputs = [unit.id for unit in graph.units if unit.role == "output"]
    for head in heads:
        if not head.function.classifies:
            continue
        rows = list(head.slots)
        part = targets[:, rows]
        bad = np.argwhere((part < 0) | (part > 1))
        if len(bad):
            n, r = (int(v) for v in bad[0])
            raise DataError(
                "DAG048",
                f"{source}: row {n + 1}, unit '{outputs[rows[r]]}': target {part[n, r]:g} is not "
                f"a probability; {head.loss} takes targets between 0 and 1",
                outputs[rows[r]],
            )
        if head.function.grouped:
            sums = part.sum(axis=1)
            off = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
            if len(off):
                n = int(off[0])
                raise DataError(
                    "DAG048",
                    f"{source}: row {n + 1}: the targets of softmax group '{head.name}' "
                    f"({listing([outputs[r] for r in rows])}) sum to {sums[n]:g}, not 1; give "
                    "one-hot rows (or a label column named after the group)",
                    head.name,
                )
