"""Make graphs/digits.json and its data, graphs/digits_train.npz and graphs/digits_test.npz.

The data is scikit-learn's copy of the test part of the UCI "Optical Recognition of Handwritten
Digits" set (E. Alpaydin and C. Kaynak, 1998; https://archive.ics.uci.edu/dataset/80, licensed
CC BY 4.0): 1,797 images of 8×8 pixels, each pixel a count 0..16, which is stored divided by
16. A fixed seeded split keeps 360 images (20%) apart for testing; the rest is the training data.

The network is a locally connected DAG, not a dense stack: each of nine overlapping 4×4 patches
of the image (stride 2) feeds its own eight tanh units; those 72 units feed 32 tanh units; the
ten outputs, identity units holding the logits of one softmax group named "digit", hear both the
32 and, by skip edges, the 72. Run ``python graphs/digits.py`` (needs scikit-learn) to make the
files again; they are committed, so training needs nothing but dagnet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import dagnet

HERE = Path(__file__).parent
PATCH, STRIDE, PER_PATCH, HIDDEN = 4, 2, 8, 32


def graph() -> dict:
    pixels = [f"p{r}{c}" for r in range(8) for c in range(8)]
    units: list[dict] = [{"id": p, "role": "input"} for p in pixels]
    edges: list[dict] = []
    local = []
    for top in range(0, 8 - PATCH + 1, STRIDE):
        for left in range(0, 8 - PATCH + 1, STRIDE):
            for k in range(PER_PATCH):
                unit = f"l{top}{left}_{k}"
                local.append(unit)
                units.append({"id": unit, "activation": "tanh"})
                edges += [
                    {"source": f"p{top + r}{left + c}", "target": unit}
                    for r in range(PATCH)
                    for c in range(PATCH)
                ]
    hidden = [f"h{k}" for k in range(HIDDEN)]
    units += [{"id": h, "activation": "tanh"} for h in hidden]
    edges += [{"source": a, "target": h} for h in hidden for a in local]
    digits = [f"d{k}" for k in range(10)]
    units += [{"id": d, "role": "output"} for d in digits]
    edges += [{"source": a, "target": d} for d in digits for a in hidden + local]
    return {
        "format_version": 2,
        "name": "digits",
        "description": (
            "Handwritten digits (8x8 pixels / 16) by a locally connected DAG with skip edges: "
            "nine 4x4 patches with 8 tanh units each, 32 tanh units, and 10 logits that hear "
            "both. Made by graphs/digits.py; data CC BY 4.0, UCI Optical Recognition of "
            "Handwritten Digits (Alpaydin and Kaynak, 1998)."
        ),
        "units": units,
        "edges": edges,
        "training": {
            "losses": [
                {
                    "name": "digit",
                    "outputs": digits,
                    "loss": "softmax_cross_entropy",
                    "classes": [str(k) for k in range(10)],
                }
            ],
            "optimizer": "adam",
            "learning_rate": 0.005,
            "epochs": 40,
            "batch_size": 32,
            "seed": 7,
            "init": "glorot_uniform",
        },
        "data": {"path": "digits_train.npz"},
    }


def main() -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = digits.data / 16.0, digits.target.astype(np.int64)
    order = np.random.default_rng(2026).permutation(len(x))
    test, train = order[:360], order[360:]
    np.savez_compressed(HERE / "digits_train.npz", X=x[train], y=y[train])
    np.savez_compressed(HERE / "digits_test.npz", X=x[test], y=y[test])
    dagnet.save_graph(dagnet.Graph.model_validate(graph()), HERE / "digits.json")


if __name__ == "__main__":
    main()
