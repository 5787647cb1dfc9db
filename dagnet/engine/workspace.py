"""The arrays of a training step, made once and reused step after step, and how a minibatch is
cut into column blocks, one per thread that could run them.

New arrays for every step cost more than the step itself on a deep narrow network (fresh memory
is faulted in page by page, and starts out of cache), so a training loop keeps one workspace per
minibatch size. State is (units, N), or, in a workspace split by column block, (blocks, units,
width): each thread's columns then lie together in memory, which spares the two cores of a
machine from fetching each other's half of every row (15% of a step on two threads).

The blocks depend on the Plan, the batch and the cores numba may use (``NUMBA_NUM_THREADS``),
never on the threads numba is set to use at the time. One thread does not run narrow blocks one
after the other: each block pays the set-up of every unit and edge again, which made a step a
quarter (random DAG) to two thirds (deep graph, blocks of 16) slower; it takes the columns as
one block, in a one-block workspace the split one keeps beside it. A split minibatch wider than
a chunk of columns (:data:`~dagnet.engine.kernels.CHUNK_BYTES` per row) is cut into blocks of
at most a chunk, which then pay: in one (units, N) array, a chunk's part of each row lies a row
apart from the next one's, a power of two bytes when N is, so the chunks of all rows fall in a
few of the cache's sets, and chunking within the rows gains far less (FANN's sparse network at
1024 columns, one thread: 53 ms a step at once or chunked within its rows, 32 ms in blocks of
256). A graph too large for the cache is cut narrower still (see :data:`CACHE_BYTES`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from dagnet.engine.calls import Entries
from dagnet.engine.kernels import CHUNK_BYTES, Gradient, State, block_sums
from dagnet.engine.plan import Plan

__all__ = [
    "BLOCK_ALIGNMENT",
    "CACHE_BYTES",
    "MIN_BLOCK_WORK",
    "MIN_COLUMNS",
    "MIN_SPLIT_COLUMNS",
    "SPARE_BYTES",
    "Workspace",
    "borrowed",
    "cached_columns",
    "column_blocks",
    "make_workspace",
    "state_slots",
]

BLOCK_ALIGNMENT = 16
"""Block bounds are multiples of this many columns, so blocks do not share cache lines."""

MIN_COLUMNS = 32
"""The narrowest column block of state shared as (units, N): narrower, two threads' blocks of
a row sit on neighbouring cache lines, which the cores then keep taking from each other."""

MIN_SPLIT_COLUMNS = 16
"""The narrowest column block of state split by block (see :func:`kernels.forward_split`)."""

MIN_BLOCK_WORK = 200_000
"""The least work (edges and units × columns) worth a thread: starting one costs tens of µs."""


CACHE_BYTES = 1 << 25
"""How much of the state read at random, the rows of z (forward) and δ (backward) of every
unit, a split block of a large graph keeps to (32 MiB, a last-level cache): its blocks are cut
narrower than a chunk to keep within it, down to :data:`MIN_SPLIT_COLUMNS`. Past it, every edge
fetches its source's row from memory; within it, every edge pays its set-up once per block more.
A random DAG of 5M edges (62,564 units), one thread, batch 256: steps of 1.61, 1.56, 1.38 s in
blocks of 64, 128 and 256 columns, and in blocks of 32 (within 32 MiB) 0.98 s; blocks of 16
1.27 s (measured with the backward pass in out-edge order, see :attr:`Workspace.out_weight`)."""

SPARE_BYTES = 1 << 26
"""The most memory :func:`borrowed` keeps for the next pass (64 MiB)."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: see CompiledNetwork
class Workspace:
    """The arrays of one forward and backward pass over N examples."""

    state: State
    output_loss: NDArray[np.float64]
    """Each output unit's loss summed over the minibatch, as the last pass left it."""
    output_sums: NDArray[np.float64]
    """(blocks, outputs): each block's share of output_loss."""
    gradient: Gradient
    blocks: NDArray[np.int64]
    """Column blocks of the minibatch, one per thread and no narrower than
    :func:`column_blocks` allows."""
    sums: Gradient
    """Each block's private sums of the weight and bias gradients (the weights' in out-edge
    order, when :attr:`out_weight` is given)."""
    chunked: bool = False
    """Whether the blocks were cut to chunks or to the cache, not to threads only: then one
    thread runs them one after the other, not as one block."""
    out_weight: NDArray[Any] | None = None
    """For blocks cut narrow to keep state in cache: each step's weights in out-edge order
    (``weight[plan.out_edge]``), which the backward pass reads, and writes its sums, in order.
    In edge order, each out-edge reads a weight and writes a sum far from the last in a large
    graph, at every block: on 5M edges in 8 blocks, the backward pass took 1.25 s so, and 0.60 s
    with 0.04 s a step to copy the weights and 0.02 s to put the gradient back in edge order.
    None where the blocks are not narrowed, or where the plan has dense blocks (whose products
    read and write in edge order)."""
    calls: Entries = field(default_factory=dict)
    """The kernels' compiled versions for these arrays (see :mod:`dagnet.engine.calls`), and
    which network has checked that they fit it."""

    @property
    def split(self) -> bool:
        """Whether each block's state is an array of its own (for loss_and_gradients only)."""
        return bool(self.state.s.ndim == 3)


def make_workspace(
    plan: Plan, dtype: np.dtype, batch: int, threads: int | None = None, *, split: bool = False
) -> Workspace:
    """Arrays for steps on minibatches of ``batch`` examples.

    The minibatch is cut into a block for each of ``threads`` threads (default: as many as
    numba may ever use, ``NUMBA_NUM_THREADS``), or fewer when there is too little work for
    them, whatever numba is set to use at the time (one thread takes them as one block, see
    the module).
    """
    work = (plan.n_edges + plan.n_units) * batch
    most = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # (fixed at import)
    threads = min(threads or most, max(1, work // MIN_BLOCK_WORK))
    out_weight, chunked = None, False
    if split:
        chunk = CHUNK_BYTES // dtype.itemsize
        # Narrow blocks pay only in out-edge order, which dense blocks' products do not keep.
        narrow = chunk if len(plan.dense.targets) else min(chunk, cached_columns(plan, dtype))
        blocks = column_blocks(batch, threads, MIN_SPLIT_COLUMNS, narrow)
        chunked = len(blocks) > len(column_blocks(batch, threads, MIN_SPLIT_COLUMNS))
        if narrow < chunk and batch > narrow:
            out_weight = np.empty(plan.n_edges, dtype)
    else:
        blocks = column_blocks(batch, threads)
    outputs = len(plan.output_positions)
    if split and len(blocks) > 2:
        width, slots = int(np.diff(blocks).max()), state_slots(len(blocks) - 1)
        shape: tuple[int, ...] = (slots, plan.n_units, width)
        error_shape: tuple[int, ...] = (slots, outputs, width)
    else:
        shape, error_shape = (plan.n_units, batch), (outputs, batch)
    gradient = Gradient(np.empty(plan.n_edges, dtype), np.empty(plan.n_units, dtype))
    return Workspace(
        state=State(
            s=np.empty(shape, dtype),
            z=np.empty(shape, dtype),
            delta=np.empty(shape, dtype),
            output_error=np.empty(error_shape, dtype),
        ),
        output_loss=np.empty(outputs),
        output_sums=np.empty((len(blocks) - 1, outputs)),
        gradient=gradient,
        blocks=blocks,
        sums=block_sums(len(blocks) - 1, gradient),
        chunked=chunked,
        out_weight=out_weight,
    )


def cached_columns(plan: Plan, dtype: np.dtype) -> int:
    """The most columns whose rows of z and δ, for every unit, fit in :data:`CACHE_BYTES`
    (a multiple of :data:`BLOCK_ALIGNMENT`, and at least :data:`MIN_SPLIT_COLUMNS`): 32 of
    float64 for the 62,564 units of a random DAG of 5M edges, a chunk's 256 or more for
    8,192 units or fewer."""
    columns = CACHE_BYTES // (2 * plan.n_units * dtype.itemsize)
    return max(MIN_SPLIT_COLUMNS, columns // BLOCK_ALIGNMENT * BLOCK_ALIGNMENT)


def state_slots(n_blocks: int) -> int:
    """How many blocks' state a split workspace holds at once: one for each thread that numba
    may ever use (the blocks past those take turns, see :mod:`dagnet.engine.kernels`)."""
    return min(n_blocks, int(numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]


def column_blocks(
    batch: int, threads: int, min_columns: int = MIN_COLUMNS, max_columns: int | None = None
) -> NDArray[np.int64]:
    """Bounds of column blocks of about equal width, none narrower than ``min_columns``: at
    most ``threads`` of them, or, where they would be wider than ``max_columns``, as many more
    as it takes (a multiple of ``threads``, so that each thread gets as many).

    Examples
    --------
    >>> column_blocks(256, 2).tolist(), column_blocks(40, 2).tolist()
    ([0, 128, 256], [0, 40])
    >>> column_blocks(1024, 2, max_columns=256).tolist()
    [0, 256, 512, 768, 1024]
    """
    n_blocks = max(1, min(threads, batch // min_columns))
    if max_columns is not None and batch > n_blocks * max_columns:
        n_blocks = -(-batch // (max_columns * n_blocks)) * n_blocks
    width = -(-batch // n_blocks)
    width = -(-width // BLOCK_ALIGNMENT) * BLOCK_ALIGNMENT
    bounds = np.minimum(np.arange(n_blocks + 1) * width, batch)
    bounds[-1] = batch
    return np.unique(bounds)


_spare_memory: list[NDArray[np.uint8]] = []
_spare_lock = threading.Lock()


@contextmanager
def borrowed(shape: tuple[int, ...], dtype: np.dtype) -> Iterator[NDArray[Any]]:
    """An array of ``shape`` for state that outlives no pass, in memory that an earlier pass
    gave back: fresh memory is faulted in page by page, and a new NEAT population's first pass
    over 200 examples faulted 380 pages of s and z (about 0.3 ms of its 1.5 ms). The array is
    the caller's alone until the block ends, and nothing of it may outlive the block."""
    size = int(np.prod(shape)) * dtype.itemsize
    memory = None
    with _spare_lock:
        fitting = [k for k, spare in enumerate(_spare_memory) if spare.nbytes >= size]
        if fitting:
            memory = _spare_memory.pop(min(fitting, key=lambda k: _spare_memory[k].nbytes))
    if memory is None:
        memory = np.empty(size, np.uint8)
    try:
        yield memory[:size].view(dtype).reshape(shape)
    finally:
        with _spare_lock:  # kept, the largest first, up to SPARE_BYTES
            _spare_memory.append(memory)
            _spare_memory.sort(key=lambda spare: -spare.nbytes)
            while sum(spare.nbytes for spare in _spare_memory) > SPARE_BYTES:
                _spare_memory.pop()
