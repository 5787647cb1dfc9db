"""DistributedDataParallel over two gloo processes on this machine: one synchronised step is one
full-batch step, and the result comes back as a dagnet graph file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("torch.distributed")

import dagnet
from tests.conftest import GRAPHS, ROOT


def torchrun(*arguments: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    """The README's command: two processes, gloo, a free port of their own (--standalone)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", "2", "-m", "dagnet.interop.torch_distributed",
               *map(str, arguments)]  # fmt: skip
    return subprocess.run(
        command, env={**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"},
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("epochs", [1, 3])
def test_synchronised_steps_are_full_batch_steps(tmp_path: Path, epochs: int) -> None:
    for name in ("multi_output.json", "multi_output.csv"):
        shutil.copyfile(GRAPHS / name, tmp_path / name)
    output = tmp_path / "out" / "trained.json"
    output.parent.mkdir()
    completed = torchrun(tmp_path / "multi_output.json", "-o", output, "--epochs", str(epochs),
                         "--learning-rate", "0.5")  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert f"wrote {output}" in completed.stderr
    trained = dagnet.load_graph(output)  # a valid dagnet file, its data path rebased
    assert trained.trained is not None and trained.trained.epochs == epochs
    # One process, the whole batch (41 examples; the shards are 21 and 20), dagnet's own step.
    graph = dagnet.load_graph(tmp_path / "multi_output.json")
    data = dagnet.load_data(graph, base=tmp_path)
    net = dagnet.Network(graph)
    dagnet.fit(net, data.inputs, data.targets, epochs=epochs, learning_rate=0.5,
               batch_size=len(data.inputs), shuffle=False)  # fmt: skip
    back = dagnet.Network(trained)
    np.testing.assert_allclose(back.weights, net.weights, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(back.biases, net.biases, rtol=1e-12, atol=1e-15)
    assert trained.trained.final_loss == pytest.approx(net.loss(data.inputs, data.targets))
    assert dagnet.load_data(trained, base=output.parent).inputs.shape == (41, 1)


def test_an_existing_output_needs_force(tmp_path: Path) -> None:
    output = tmp_path / "trained.json"
    output.write_text("old", encoding="utf-8")
    completed = torchrun(GRAPHS / "multi_output.json", "-o", output, "--epochs", "1")
    assert completed.returncode != 0
    # One sentence from dagnet (torchrun then reports the failed workers its own way).
    assert f"Error: {output} exists; add --force to replace it" in completed.stderr
    assert output.read_text(encoding="utf-8") == "old"
