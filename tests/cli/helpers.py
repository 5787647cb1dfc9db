"""Plain helpers shared by the command line tests: invoke ``dagnet``, copy an example graph,
snapshot a folder, read JSON and prediction CSVs."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner, Result

from dagnet.cli import main
from tests.conftest import GRAPHS, ROOT

SCHEMA_FILE = ROOT / "schemas" / "graph.schema.json"


def run(runner: CliRunner, *args: str | os.PathLike[str]) -> Result:
    """Invoke ``dagnet ARGS``; whatever happens, no Python exception may escape to the user."""
    result = runner.invoke(main, [os.fspath(arg) for arg in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"dagnet {' '.join(map(str, args))} raised {result.exception!r} instead of "
            f"printing a message\nstderr: {result.stderr}"
        ) from result.exception
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    return result


def copy_example(name: str, folder: Path) -> Path:
    """Copy graphs/NAME.json, and its CSV if it has one, into ``folder``."""
    graph = folder / f"{name}.json"
    shutil.copyfile(GRAPHS / f"{name}.json", graph)
    data = GRAPHS / f"{name}.csv"
    if data.exists():
        shutil.copyfile(data, folder / data.name)
    return graph


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_predictions(text: str) -> tuple[list[str], np.ndarray]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], np.array([[float(cell) for cell in row] for row in rows[1:]])
