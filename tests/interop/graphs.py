"""Graphs the bridges' tests share."""

from __future__ import annotations

import numpy as np

import dagnet
from dagnet.functions.activations import ACTIVATION_NAMES


def every_activation(width: int = 1, leave_out: tuple[str, ...] = ()) -> dagnet.Graph:
    """Two inputs; per activation (but those left out), ``width`` hidden units fed by both
    inputs; one output fed by all, and a second output that is itself a sigmoid unit fed by the
    first output."""
    names = [name for name in ACTIVATION_NAMES if name not in leave_out]
    hidden = [f"{name}{k}" for name in names for k in range(width)]
    units = [{"id": "a", "role": "input"}, {"id": "b", "role": "input"}]
    units += [
        {"id": unit, "activation": name, "bias": 0.1 * k - 0.2}
        for k, (unit, name) in enumerate(
            (f"{name}{k}", name) for name in names for k in range(width)
        )
    ]
    units += [{"id": "y", "role": "output"}, {"id": "p", "role": "output",
                                              "activation": "sigmoid"}]  # fmt: skip
    rng = np.random.default_rng(0)
    pairs = [(s, h) for h in hidden for s in ("a", "b")] + [(h, "y") for h in hidden]
    pairs += [("y", "p"), ("a", "p")]
    edges = [{"source": s, "target": t, "weight": float(rng.normal())} for s, t in pairs]
    return dagnet.Graph.model_validate({"format_version": 1, "units": units, "edges": edges})
