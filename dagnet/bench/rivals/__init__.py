"""The same training step in other engines, for ``dagnet bench --compare`` to time against.

Each builder takes a :class:`~dagnet.engine.network.Network`, a fixed minibatch (unit-major, as the
engine keeps it: inputs ``x`` (input units, N) in ``net.input_ids`` order, targets ``y``
(output units, N) in ``net.output_ids`` order) and a learning rate η, copies the network's
parameters, and returns a :class:`Step`: calling it runs one step of the derivation on that
copy — forward, backward, and gradient descent w ← w − η ∂E/∂w with E the mean over the N
examples of the network's loss — exactly what ``dagnet.fit`` does with ``batch_size=N``.

- :func:`reference_step` (:mod:`.reference`): the plain-Python engine of
  :mod:`dagnet.showing.reference`, one unit and one example at a time.
- :func:`torch_index_step`, :func:`torch_masked_step` (:mod:`.torch_levels`): PyTorch autograd,
  level by level, by index or by masked dense matrix.
- :func:`torch_csr_step`, :func:`scipy_csr_step` (:mod:`.sparse_levels`): level by level, each
  level's edges one CSR matrix, the backward written by hand with the transposed CSR.
- :func:`numpy_mlp_step` (:mod:`.numpy_mlp`): a dense layered network (an MLP) as plain numpy
  matrix products, the limit that BLAS sets for networks that happen to be layers.

The rivals are made as fast as we honestly can (every index array built once, no Python work per
unit or per edge inside a step, updates in place), because a weak baseline would flatter dagnet.
Importing this package imports neither PyTorch nor scipy.
"""

from __future__ import annotations

from dagnet.bench.rivals.common import Step, levels, scipy_available, torch_available
from dagnet.bench.rivals.numpy_mlp import dense_layers, numpy_mlp_step
from dagnet.bench.rivals.reference import reference_step
from dagnet.bench.rivals.sparse_levels import scipy_csr_step, torch_csr_step
from dagnet.bench.rivals.torch_levels import torch_index_step, torch_masked_step

__all__ = [
    "Step",
    "dense_layers",
    "levels",
    "numpy_mlp_step",
    "reference_step",
    "scipy_available",
    "scipy_csr_step",
    "torch_available",
    "torch_csr_step",
    "torch_index_step",
    "torch_masked_step",
]
