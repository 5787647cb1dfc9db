"""Generated networks of realistic size for the showing tests: a locally connected net on 64
inputs (the 117-unit, 1,374-edge network of issue 16) and data to train it on."""

from __future__ import annotations

from typing import Any

import numpy as np

from dagnet.graph.model import FORMAT_VERSION

__all__ = ["digits_like", "local_net"]


def local_net(
    hidden: int = 43, window: int = 22, outputs: int = 10, activation: str = "sigmoid"
) -> dict[str, Any]:
    """64 inputs, ``hidden`` units each fed by a window of consecutive inputs (two of them one
    input short), and ``outputs`` outputs fed by every hidden unit: 1,374 edges by default."""
    units: list[dict[str, Any]] = [{"id": f"p{i}", "role": "input"} for i in range(64)]
    units += [{"id": f"h{k}", "activation": activation} for k in range(hidden)]
    units += [{"id": f"d{o}", "role": "output"} for o in range(outputs)]
    edges = []
    for k in range(hidden):
        start = k * 64 // hidden
        width = window - (k < 2)
        edges += [{"source": f"p{(start + i) % 64}", "target": f"h{k}"} for i in range(width)]
    edges += [{"source": f"h{k}", "target": f"d{o}"} for k in range(hidden) for o in range(outputs)]
    return {
        "format_version": FORMAT_VERSION,
        "name": "local",
        "units": units,
        "edges": edges,
        "training": {"seed": 0},
    }


def digits_like(
    examples: int = 1437, outputs: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs in [0, 1] on 64 pixels and one-hot targets of a hidden linear rule."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 17, size=(examples, 64)) / 16.0
    label = np.argmax(x @ rng.normal(size=(64, outputs)), axis=1)
    return x, np.eye(outputs)[label]
