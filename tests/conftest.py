"""Fixtures shared by the test modules: a CLI runner, a seeded generator, example paths."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = ROOT / "graphs"
EXAMPLES = ("one_path", "multiple_inputs", "multi_output", "xor")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261128)


@pytest.fixture
def example_path() -> Callable[[str], Path]:
    return lambda name: GRAPHS / f"{name}.json"


@pytest.fixture
def write_json(tmp_path: Path) -> Callable[..., Path]:
    """Write a document (or raw text) to a file in a fresh folder and return its path."""

    def write(document: Any, name: str = "graph.json") -> Path:
        path = tmp_path / name
        text = document if isinstance(document, str) else json.dumps(document, indent=2)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def small_graph(**overrides: Any) -> dict[str, Any]:
    """A valid graph document x -> h -> y with one skip edge x -> y, to be mutated by tests."""
    document: dict[str, Any] = {
        "format_version": 1,
        "units": [
            {"id": "x", "role": "input"},
            {"id": "h", "activation": "tanh", "bias": 0.1},
            {"id": "y", "role": "output"},
        ],
        "edges": [
            {"source": "x", "target": "h", "weight": 0.5},
            {"source": "h", "target": "y", "weight": -0.3},
            {"source": "x", "target": "y", "weight": 0.2},
        ],
    }
    document.update(overrides)
    return document
