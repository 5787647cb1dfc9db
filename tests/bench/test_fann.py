"""``python -m dagnet.bench.fann`` against libfann, when libfann is installed (skipped
otherwise): the script runs, both engines start from the same network, and their weights after
one epoch agree wherever libfann takes gradient steps."""

from __future__ import annotations

import pytest

from dagnet.bench import fann

lib = fann.libfann()
needs_libfann = pytest.mark.skipif(
    lib is None, reason="libfann (libdoublefann) is not installed: apt-get install libfann-dev"
)
SHORTCUT, SPARSE = fann.NETWORKS


@needs_libfann
def test_the_networks_are_fanns_and_dagnet_reads_them_whole() -> None:
    net = fann.FannNet(lib, SHORTCUT)
    try:
        assert net.connections == 140_816
        # Every connection is an edge, but for the bias neuron's 592 - 64 (the biases).
        assert net.to_dagnet().plan.n_edges == 140_816 - (592 - 64)
    finally:
        net.close()
    sparse = fann.FannNet(lib, SPARSE)
    try:  # 0.2 of the full 64-512-512-512-16 wiring's 566,848 connections, and more
        assert 0.2 * 566_848 < sparse.connections < 0.21 * 566_848
    finally:
        sparse.close()


@needs_libfann
@pytest.mark.parametrize("batch", [False, True], ids=["incremental", "batch"])
def test_the_weights_agree_after_one_epoch_on_the_shortcut_network(batch: bool) -> None:
    assert fann.check_weights(lib, SHORTCUT, 16, batch=batch) < 1e-12


@needs_libfann
def test_on_the_sparse_network_only_the_batch_weights_agree() -> None:
    assert fann.check_weights(lib, SPARSE, 8, batch=True) < 1e-12
    # libfann's incremental update of a sparse network uses the wrong neuron's output.
    assert fann.check_weights(lib, SPARSE, 1) > 1e-4


@needs_libfann
def test_the_quick_run_prints_both_modes_and_the_check(capsys) -> None:
    assert fann.main(["--quick", "--busy"]) == 0
    out = capsys.readouterr().out
    assert "one core kept busy" in out
    assert "shortcut 64-128×4-16: 140,816 FANN connections" in out
    assert "per epoch of 128 examples, in runs of 1" in out
    assert "incremental (FANN_TRAIN_INCREMENTAL vs fit(batch_size=1))" in out
    assert "× as fast" in out and "the same" in out


def test_without_libfann_the_script_says_how_to_install_it(monkeypatch, capsys) -> None:
    monkeypatch.setattr(fann, "libfann", lambda: None)
    assert fann.main([]) == 0
    assert "apt-get install libfann-dev" in capsys.readouterr().out
