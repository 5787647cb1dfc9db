"""Fixtures and helpers shared by the test modules: a CLI runner, a seeded generator, example
paths, a pass of the kernels over a cut batch, and a run of them as plain Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = ROOT / "graphs"
EXAMPLES = ("one_path", "multiple_inputs", "multi_output", "xor")


def state_and_gradients(net: Any, x: np.ndarray, y: np.ndarray, bounds: np.ndarray) -> tuple:
    """z, δ, ∂E/∂w and ∂E/∂b of one forward and backward pass of the kernels over unit-major
    x, y, with the batch cut at ``bounds``."""
    from dagnet.engine import kernels

    plan = net.plan
    s = np.empty((plan.n_units, x.shape[1]), net.dtype)
    z = np.empty_like(s)
    s[: plan.n_inputs] = z[: plan.n_inputs] = x
    state = kernels.State(s, z, np.empty_like(s), np.empty((len(y), x.shape[1]), net.dtype))
    kernels.forward(plan.wiring, net.parameters, state, bounds)
    out = np.empty((len(y), x.shape[1]), net.dtype)
    net._signal(s, z, y, out, np.empty(len(y), net.dtype))
    state.output_error[:] = out
    gradient = kernels.Gradient(np.empty_like(net.weight), np.empty_like(net.bias))
    kernels.backward(plan.wiring, net.parameters, state, gradient, bounds)
    return z, state.delta, gradient.weight, gradient.bias


def run_without_jit(script: str, *arguments: Any) -> Any:
    """Run ``script`` in a fresh Python with NUMBA_DISABLE_JIT=1 (each argument passed as JSON)
    and return the JSON it prints."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": path}
    completed = subprocess.run(
        [sys.executable, "-c", script, *(json.dumps(argument) for argument in arguments)],
        env=environment, cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


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
