"""The FANN importer against libfann's own outputs (fixtures made by fixtures/fann/
make_fixtures.py with the real libfann 2.2; these tests need no libfann)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import dagnet
from dagnet.interop.fann import FANN_ACTIVATIONS, graph_from_fann, read_fann
from dagnet.interop.neat import ImportRefused

FIXTURES = Path(__file__).parent / "fixtures" / "fann"
NETWORKS = sorted(p.stem for p in FIXTURES.glob("*.net") if not p.stem.startswith("refused"))


def fixture(name: str) -> tuple[dagnet.Graph, np.ndarray, np.ndarray, np.ndarray]:
    document = json.loads((FIXTURES / f"{name}.outputs.json").read_text())
    graph = read_fann(FIXTURES / f"{name}.net")
    return (graph, np.array(document["inputs"]), np.array(document["outputs"]),
            np.array(document["float_outputs"]))  # fmt: skip


def relative(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))))


def test_the_fixtures_cover_every_kind_and_every_activation() -> None:
    kinds, functions = set(), set()
    for name in NETWORKS:
        text = (FIXTURES / f"{name}.net").read_text()
        rate = float(re.search(r"^connection_rate=(.*)$", text, re.M)[1])  # type: ignore[index]
        kind = int(re.search(r"^network_type=(\d)", text, re.M)[1])  # type: ignore[index]
        kinds.add("sparse" if rate < 1 else ["standard", "shortcut"][kind])
        neurons = re.findall(r"\((\d+), (\d+), [^)]+\)", text.split("neurons", 1)[1])
        functions |= {int(f) for n, f in neurons if int(n) > 0}
    assert kinds == {"standard", "shortcut", "sparse"}
    assert functions == set(FANN_ACTIVATIONS) - {18, 19}  # 18, 19 are libfann 2.3's


@pytest.mark.parametrize("name", NETWORKS)
def test_predictions_equal_fann_run(name: str) -> None:
    graph, x, double_outputs, float_outputs = fixture(name)
    ours = dagnet.Network(graph).forward(x)
    assert ours.shape == float_outputs.shape
    assert relative(ours, double_outputs) < 1e-12  # the double libfann (python3-fann2)
    # The float libfann: within 1e-5, or, for the steep stress fixtures, as close as libfann's
    # own double build is to it (float rounding of sums in the tens, times steepness 10).
    gap = relative(double_outputs, float_outputs)
    assert relative(ours, float_outputs) < max(1e-5, gap + 1e-9)
    if not name.startswith("clipped"):
        assert relative(ours, float_outputs) < 2e-6


def test_the_clipped_fixtures_reach_libfanns_clip() -> None:
    # Linear outputs of steepness 3 or 40 clipped to ±50 or ±3.75: some outputs sit at the bound.
    # Linear outputs of steepness 3 or 10 are clipped to ±50 or ±15.
    for name in ("clipped_standard", "clipped_shortcut"):
        graph, _, _, _ = fixture(name)
        assert any(u.id.endswith("_sum") and u.activation == "clamped" for u in graph.units)
    _, _, outputs, _ = fixture("clipped_shortcut")
    assert np.mean(np.isclose(np.abs(outputs), 50.0) | np.isclose(np.abs(outputs), 15.0)) > 0.5


def test_inputs_and_outputs_keep_libfanns_order() -> None:
    graph = read_fann(FIXTURES / "standard_0.net")
    assert [u.id for u in graph.units if u.role == "input"] == ["n0", "n1", "n2"]
    assert [u.id for u in graph.units if u.role == "output"] == ["n15", "n16"]
    assert all(edge.weight is not None for edge in graph.edges)
    assert all(u.bias is not None for u in graph.units if u.role != "input")


@pytest.mark.parametrize(("name", "message"), [
    ("refused_fixed", "FANN_FIX_2.0 is a fixed-point network, which dagnet refuses"),
    ("refused_scaled", r"stores scaling parameters \(scale_included=1\)"),
    ("refused_gaussian_stepwise", r"neuron 4 \(n4\): FANN_GAUSSIAN_STEPWISE is not imported"),
])  # fmt: skip
def test_what_cannot_be_imported_exactly_is_refused(name: str, message: str) -> None:
    with pytest.raises(ImportRefused, match=message):
        read_fann(FIXTURES / f"{name}.net")


def test_other_text_is_refused() -> None:
    with pytest.raises(ImportRefused, match=r"is not a FANN_FLO_2\.1 \.net file"):
        graph_from_fann("FANN_FLO_1.1\nnum_layers=2\n")
    with pytest.raises(ImportRefused, match="layer_sizes, neurons or connections is missing"):
        graph_from_fann("FANN_FLO_2.1\nnum_layers=2\n")


def test_imported_networks_train() -> None:
    # (A network with threshold units trains erratically: their f' is 0 and their flips jump.)
    graph, x, outputs, _ = fixture("standard_10")
    net = dagnet.Network(graph)
    history = dagnet.fit(net, x, 0.9 * outputs, epochs=10, learning_rate=0.001, seed=0)
    assert history.final_loss < history.epoch_loss[0]
