"""``python -m dagnet.bench.fann``: dagnet beside libfann on FANN's own kinds of network.

Two networks are built in libfann (the double build, ``libdoublefann``, through ctypes):
FANN's shortcut network 64-128-128-128-128-16 (``fann_create_shortcut``: every neuron fed by
every earlier one, 140,816 connections with the biases) and a sparse 64-512-512-512-16
(``fann_create_sparse`` at connection rate 0.2), tanh neurons (FANN_SIGMOID_SYMMETRIC,
steepness 1) throughout. Each is saved with ``fann_save`` and read into dagnet by
:func:`dagnet.interop.fann.read_fann`, so both engines start from the same weights. Then a run
of 5 epochs of 1024 examples is timed in both engines, the two taking turns: incremental
(libfann's ``FANN_TRAIN_INCREMENTAL``, ``fann_train_epoch`` 5 times, against
``dagnet.fit(epochs=5, batch_size=1)``) and batch (``FANN_TRAIN_BATCH`` against full-batch
steps), plain gradient descent, no momentum, the same learning rate; the time per epoch is
reported. The run includes what ``fit`` does beyond libfann's epochs: a pass over the data
for ``History.final_loss`` at the end, and one over the first minibatch at the start.

libfann's gradient is not quite dagnet's, as its ``fann_train.c`` shows: ``fann_update_MSE``
halves the output error (ŷ − y) of a symmetric activation such as tanh, and
``fann_activation_derived`` takes tanh' at z clipped to ±0.98. Its error function is set to
FANN_ERRORFUNC_LINEAR here (the default, FANN_ERRORFUNC_TANH, bends the error). The halving
scales every δ, so libfann at learning rate η takes dagnet's steps at η/2 while no |z|
reaches 0.98; :func:`check_weights` trains both that way and compares the weights. They
agree to rounding in batch mode on both networks and in incremental mode on the shortcut one.
On the sparse network libfann's incremental steps are not gradient steps: its
``fann_update_weights``, for a connection rate below 1, updates a neuron's i-th connection
with the output of the network's i-th neuron (``prev_neurons[i]``, ``prev_neurons`` being the
first neuron) instead of the connection's source (``connections[i]``, which its batch update
``fann_update_slopes_batch`` uses), so the weights differ from the first example on. The
timing uses the same η in both (the work of a step does not depend on it).

Without libfann the script says so and exits with status 0; ``apt-get install libfann-dev``
(Debian, Ubuntu) provides it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dagnet.bench.busy import busy_core
from dagnet.engine.network import Network
from dagnet.engine.threads import PROBE_STEPS, SETTLE_STEPS
from dagnet.interop.fann import read_fann
from dagnet.training.fit import fit

__all__ = [
    "NETWORKS",
    "FannNet",
    "Timing",
    "check_weights",
    "libfann",
    "main",
    "time_epochs",
]

Array = NDArray[np.float64]

SIGMOID_SYMMETRIC = 5
TRAIN_INCREMENTAL, TRAIN_BATCH = 0, 1
ERRORFUNC_LINEAR = 0
LEARNING_RATE = 2.0**-7
"""η, exact in float32 (libfann keeps its learning rate in a float) and in η/2 and η/1024."""
EXAMPLES = 1024
EPOCHS = 5
"""The epochs of a timed run: a training run is many, and fit's passes before and after
its epochs are paid once per run."""
WARM_UP_STEPS = SETTLE_STEPS + PROBE_STEPS
"""Untimed batch-mode steps (one an epoch) of each engine first, in whole runs: enough for
``threads="auto"`` to finish its first comparison of one thread and two, which a training run
of many epochs pays once."""


@dataclass(frozen=True)
class Spec:
    """One of FANN's networks: how to create it and its layers' widths."""

    name: str
    layers: tuple[int, ...]
    connection_rate: float | None  # None: a shortcut network


NETWORKS = (
    Spec("shortcut 64-128×4-16", (64, 128, 128, 128, 128, 16), None),
    Spec("sparse 64-512×3-16, rate 0.2", (64, 512, 512, 512, 16), 0.2),
)


class _TrainData(ctypes.Structure):
    """libfann's struct fann_train_data (fann_data.h, 2.2), double build."""

    _fields_ = [
        ("errno_f", ctypes.c_int),
        ("error_log", ctypes.c_void_p),
        ("errstr", ctypes.c_char_p),
        ("num_data", ctypes.c_uint),
        ("num_input", ctypes.c_uint),
        ("num_output", ctypes.c_uint),
        ("input", ctypes.POINTER(ctypes.POINTER(ctypes.c_double))),
        ("output", ctypes.POINTER(ctypes.POINTER(ctypes.c_double))),
    ]


def libfann() -> ctypes.CDLL | None:
    """libfann's double build, or None when it is not installed."""
    for name in (ctypes.util.find_library("doublefann"), "libdoublefann.so.2"):
        if name:
            try:
                lib = ctypes.CDLL(name)
            except OSError:
                continue
            _declare(lib)
            return lib
    return None


def _declare(lib: ctypes.CDLL) -> None:
    """The signatures used here (fann.h, fann_train.h, fann_io.h of libfann 2.2)."""
    p, u, f, d = ctypes.c_void_p, ctypes.c_uint, ctypes.c_float, ctypes.c_double
    uints = ctypes.POINTER(ctypes.c_uint)
    for name, result, arguments in [
        ("fann_create_shortcut_array", p, [u, uints]),
        ("fann_create_sparse_array", p, [f, u, uints]),
        ("fann_set_activation_function_hidden", None, [p, ctypes.c_int]),
        ("fann_set_activation_function_output", None, [p, ctypes.c_int]),
        ("fann_set_activation_steepness_hidden", None, [p, d]),
        ("fann_set_activation_steepness_output", None, [p, d]),
        ("fann_set_training_algorithm", None, [p, ctypes.c_int]),
        ("fann_set_train_error_function", None, [p, ctypes.c_int]),
        ("fann_set_learning_rate", None, [p, f]),
        ("fann_set_learning_momentum", None, [p, f]),
        ("fann_randomize_weights", None, [p, d, d]),
        ("fann_get_total_connections", u, [p]),
        ("fann_save", ctypes.c_int, [p, ctypes.c_char_p]),
        ("fann_create_train", ctypes.POINTER(_TrainData), [u, u, u]),
        ("fann_train_epoch", f, [p, ctypes.POINTER(_TrainData)]),
        ("fann_destroy_train", None, [ctypes.POINTER(_TrainData)]),
        ("fann_destroy", None, [p]),
    ]:
        function = getattr(lib, name)
        function.restype, function.argtypes = result, arguments


class FannNet:
    """A libfann network of one :class:`Spec`, tanh (steepness 1) throughout, weights drawn
    uniformly in ±0.1 by libfann from C's ``rand`` seeded with ``seed``."""

    def __init__(self, lib: ctypes.CDLL, spec: Spec, seed: int = 0) -> None:
        self.lib, self.spec = lib, spec
        ctypes.CDLL(None).srand(seed)
        layers = (ctypes.c_uint * len(spec.layers))(*spec.layers)
        if spec.connection_rate is None:
            self.ann = lib.fann_create_shortcut_array(len(spec.layers), layers)
        else:
            self.ann = lib.fann_create_sparse_array(spec.connection_rate, len(spec.layers), layers)
        if not self.ann:
            raise MemoryError(f"libfann could not create the {spec.name} network")
        lib.fann_set_activation_function_hidden(self.ann, SIGMOID_SYMMETRIC)
        lib.fann_set_activation_function_output(self.ann, SIGMOID_SYMMETRIC)
        lib.fann_set_activation_steepness_hidden(self.ann, 1.0)
        lib.fann_set_activation_steepness_output(self.ann, 1.0)
        lib.fann_set_train_error_function(self.ann, ERRORFUNC_LINEAR)
        lib.fann_set_learning_momentum(self.ann, 0.0)

    @property
    def connections(self) -> int:
        return int(self.lib.fann_get_total_connections(self.ann))

    def to_dagnet(self) -> Network:
        """The network as dagnet reads it from the file fann_save writes."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "net.net"
            if self.lib.fann_save(self.ann, str(path).encode()) != 0:
                raise OSError(f"fann_save could not write {path}")
            return Network(read_fann(path))

    def train_epoch(self, data: Any, algorithm: int, learning_rate: float) -> None:
        self.lib.fann_set_training_algorithm(self.ann, algorithm)
        self.lib.fann_set_learning_rate(self.ann, learning_rate)
        self.lib.fann_train_epoch(self.ann, data)

    def close(self) -> None:
        self.lib.fann_destroy(self.ann)


@contextmanager
def train_data(lib: ctypes.CDLL, x: Array, y: Array) -> Iterator[Any]:
    """The examples as libfann's training data (copied in), destroyed at the end."""
    data = lib.fann_create_train(len(x), x.shape[1], y.shape[1])
    if not data:
        raise MemoryError("libfann could not allocate the training data")
    try:
        for rows, pointers in ((x, data.contents.input), (y, data.contents.output)):
            for n, row in enumerate(rows):
                ctypes.memmove(pointers[n], np.ascontiguousarray(row).ctypes.data, row.nbytes)
        yield data
    finally:
        lib.fann_destroy_train(data)


def examples(spec: Spec, count: int = EXAMPLES, seed: int = 0) -> tuple[Array, Array]:
    """``count`` inputs uniform in ±1 and targets uniform in ±0.5, example-major."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (count, spec.layers[0]))
    return x, rng.uniform(-0.5, 0.5, (count, spec.layers[-1]))


@dataclass(frozen=True)
class Timing:
    """One network's seconds per epoch (medians over runs) in both modes and both engines."""

    spec: Spec
    examples: int
    epochs: int
    connections: int
    edges: int
    fann_incremental: float
    dagnet_incremental: float
    fann_batch: float
    dagnet_batch: float
    runs: int


def time_epochs(
    lib: ctypes.CDLL, spec: Spec, repeat: int = 3, count: int = EXAMPLES, epochs: int = EPOCHS
) -> Timing:
    """Median seconds per epoch of runs of ``epochs`` epochs of ``count`` examples in both
    engines and modes, the engines taking turns."""
    fann = FannNet(lib, spec)
    try:
        net = fann.to_dagnet()
        x, y = examples(spec, count)
        times: dict[str, list[float]] = {key: [] for key in ("fi", "di", "fb", "db")}
        n = len(x)

        def dagnet_run(batch_size: int) -> Callable[[], object]:
            return lambda: fit(net, x, y, epochs=epochs, learning_rate=LEARNING_RATE,
                               batch_size=batch_size, shuffle=False)  # fmt: skip

        def fann_run(data: Any, algorithm: int) -> Callable[[], object]:
            def run() -> None:
                for _ in range(epochs):
                    fann.train_epoch(data, algorithm, LEARNING_RATE)

            return run

        with train_data(lib, x, y) as data:
            runs: list[tuple[str, Callable[[], object]]] = [
                ("fi", fann_run(data, TRAIN_INCREMENTAL)),
                ("di", dagnet_run(1)),
                ("fb", fann_run(data, TRAIN_BATCH)),
                ("db", dagnet_run(n)),
            ]
            for _ in range(-(-WARM_UP_STEPS // epochs)):  # numba loads, caches fill, auto chooses
                for _, run in runs:
                    run()
            for _ in range(repeat):
                for key, run in runs:
                    started = time.perf_counter()
                    run()
                    times[key].append((time.perf_counter() - started) / epochs)
        median = {key: statistics.median(values) for key, values in times.items()}
        return Timing(spec, count, epochs, fann.connections, net.plan.n_edges, median["fi"],
                      median["di"], median["fb"], median["db"], repeat)  # fmt: skip
    finally:
        fann.close()


def check_weights(
    lib: ctypes.CDLL, spec: Spec, examples_used: int = EXAMPLES, *, batch: bool = False
) -> float:
    """The largest difference between libfann's weights and biases after one epoch at η and
    dagnet's after one epoch at η/2 (see the module docstring), of batch size 1 (libfann's
    incremental mode) or one full batch (``batch``), on ``examples_used`` examples, both from
    the same start."""
    fann = FannNet(lib, spec)
    try:
        net = fann.to_dagnet()
        x, y = examples(spec, examples_used)
        with train_data(lib, x, y) as data:
            fann.train_epoch(data, TRAIN_BATCH if batch else TRAIN_INCREMENTAL, LEARNING_RATE)
        trained = fann.to_dagnet()
    finally:
        fann.close()
    fit(net, x, y, epochs=1, learning_rate=LEARNING_RATE / 2,
        batch_size=len(x) if batch else 1, shuffle=False)  # fmt: skip
    assert net.plan.unit_ids == trained.plan.unit_ids
    ours = _by_edge(net)
    theirs = _by_edge(trained)
    assert ours.keys() == theirs.keys()
    weight = max(abs(ours[edge] - theirs[edge]) for edge in ours)
    return max(weight, float(np.max(np.abs(net.bias - trained.bias))))


def _by_edge(net: Network) -> dict[tuple[str, str], float]:
    ids = net.plan.unit_ids
    return {
        (ids[i], ids[j]): float(w)
        for i, j, w in zip(net.plan.in_source, net.plan.edge_target, net.weight, strict=True)
    }


def report(timing: Timing) -> str:
    """The lines printed for one network."""
    t = timing
    return "\n".join([
        f"{t.spec.name}: {t.connections:,} FANN connections = {t.edges:,} dagnet edges "
        f"+ biases; per epoch of {t.examples} examples, in runs of {t.epochs}, median of {t.runs}",
        f"  incremental (FANN_TRAIN_INCREMENTAL vs fit(batch_size=1)): libfann "
        f"{t.fann_incremental * 1e3:.1f} ms, dagnet {t.dagnet_incremental * 1e3:.1f} ms, "
        f"dagnet {t.fann_incremental / t.dagnet_incremental:.2f}× as fast",
        f"  batch (FANN_TRAIN_BATCH vs fit(batch_size={t.examples})): libfann "
        f"{t.fann_batch * 1e3:.1f} ms, dagnet {t.dagnet_batch * 1e3:.1f} ms, "
        f"dagnet {t.fann_batch / t.dagnet_batch:.2f}× as fast",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Time both networks (``--repeat N`` runs per engine and mode, default 3; ``--quick``
    for one run of one epoch of 128 examples of the shortcut network only; ``--busy`` with one
    core kept busy, as ``dagnet bench --busy``) and check the weights after one epoch
    (incremental, of 16 examples, with ``--quick``)."""
    arguments = sys.argv[1:] if argv is None else argv
    quick, busy = "--quick" in arguments, "--busy" in arguments
    repeat = int(arguments[arguments.index("--repeat") + 1]) if "--repeat" in arguments else 3
    lib = libfann()
    if lib is None:
        print("libfann (libdoublefann) is not installed, so there is nothing to compare with: "
              "install it with apt-get install libfann-dev (Debian, Ubuntu)")  # fmt: skip
        return 0
    if busy:
        print("(timed with one core kept busy by a competing process)")
    for spec in NETWORKS[:1] if quick else NETWORKS:
        with busy_core() if busy else nullcontext():
            timing = time_epochs(lib, spec, 1, 128, 1) if quick else time_epochs(lib, spec, repeat)
        print(report(timing), flush=True)
        used = 16 if quick else EXAMPLES
        for mode, batch in (("incremental", False), ("batch", True))[: 1 if quick else 2]:
            difference = check_weights(lib, spec, used, batch=batch)
            verdict = "the same" if difference < 1e-9 else "different"
            if verdict == "different" and spec.connection_rate is not None and not batch:
                verdict += (
                    ": libfann's incremental update of a sparse network multiplies "
                    "each connection by the wrong neuron's output (see the docstring)"
                )
            print(
                f"  weights after one {mode} epoch (libfann at η = {LEARNING_RATE}, dagnet "
                f"at η/2): largest difference {difference:.1e}, {verdict}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
