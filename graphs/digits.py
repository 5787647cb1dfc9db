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
``python graphs/digits.py --compare`` trains this network and scikit-learn's ``MLPClassifier()``
on the same split, side by side in one process, and prints each one's test accuracy,
parameters and training time.
"""

from __future__ import annotations

import sys
import time
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


def compare(seeds: tuple[int, ...] = (7, 0, 1, 2)) -> None:
    """Train dagnet's network (from the file's seed, 7, and others) and ``MLPClassifier()`` on
    the same split, alternately, and print test accuracy, number of parameters and seconds of
    training of each. ``MLPClassifier`` stops at its default 200 iterations, and warns."""
    from sklearn.neural_network import MLPClassifier

    net_graph = dagnet.load_graph(HERE / "digits.json")
    train = dagnet.load_data(net_graph, base=HERE)
    test = dagnet.load_data(net_graph, HERE / "digits_test.npz")
    settings = net_graph.training
    assert settings is not None
    with np.load(HERE / "digits_train.npz") as a, np.load(HERE / "digits_test.npz") as b:
        x_train, y_train, x_test, y_test = a["X"], a["y"], b["X"], b["y"]

    def fit_dagnet(seed: int) -> tuple[float, int]:
        net = dagnet.Network(net_graph, seed=seed)
        dagnet.fit(
            net, train.inputs, train.targets, epochs=settings.epochs,
            learning_rate=settings.learning_rate, batch_size=settings.batch_size,
            optimizer=settings.optimizer_name, seed=seed,
        )  # fmt: skip
        accuracy = dagnet.evaluate(net, test.inputs, test.targets).accuracy["digit"]
        return accuracy, net.weight.size + net.bias.size - net.plan.n_inputs

    def fit_sklearn(seed: int) -> tuple[float, int]:
        model = MLPClassifier(random_state=seed).fit(x_train, y_train)
        parameters = sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
        return float(model.score(x_test, y_test)), parameters

    fit_dagnet(0)  # compiles the kernels, which a timing should not include
    for seed in seeds:
        for name, run in (("dagnet", fit_dagnet), ("MLPClassifier", fit_sklearn)):
            start = time.perf_counter()
            accuracy, parameters = run(seed)
            seconds = time.perf_counter() - start
            print(f"seed {seed}  {name:13}  test accuracy {accuracy:.2%}  "
                  f"{parameters:,} parameters  {seconds:.2f} s")  # fmt: skip


if __name__ == "__main__":
    compare() if sys.argv[1:] == ["--compare"] else main()
