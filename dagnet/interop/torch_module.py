"""PyTorch bridge: a network as a ``torch.nn.Module``, for GPUs and many machines, and back.

:func:`to_torch` builds a :class:`DagnetModule` whose two parameters are the network's own:
``weight``, one entry per edge in the graph file's order, and ``bias``, one per unit in file
order (the inputs' entries unused, so their gradient is 0, as in dagnet). Its forward pass takes
(N, input units) and returns (N, output units), both in file order, computed a topological level
at a time (:mod:`dagnet.interop.levels`): per level, one ``index_select`` of the sources' columns
of the state (or the whole state, when they are most of it), one matrix product with the level's
weights (scattered from ``weight`` on every call, so autograd sends each edge its own gradient),
the biases, and each activation's array form ``ACTIVATIONS[name].array(s, torch)`` from the one
table. The work grows with levels, not units,
and every index is a buffer, so ``module.to("cuda")`` moves all of it.
:meth:`DagnetModule.to_network` (or :func:`from_torch`) is the way back: a
:class:`~dagnet.engine.network.Network` with the module's parameters, whose ``to_graph()`` is
a graph file. torch is the optional extra ``torch``
(``pip install 'dagnet[torch]'``); this module imports it and is imported only when used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dagnet.engine.network import Network
from dagnet.errors import ArgumentError, ExtraMissing
from dagnet.functions.activations import ACTIVATIONS
from dagnet.functions.losses import head_terms
from dagnet.graph.model import Graph
from dagnet.interop.levels import level_layout

try:
    import torch
except ImportError:
    raise ExtraMissing("the PyTorch bridge", "torch", "torch") from None

__all__ = ["DagnetModule", "from_torch", "to_torch"]

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


class DagnetModule(torch.nn.Module):
    """A dagnet network as a ``torch.nn.Module`` (see the module docstring).

    Parameters
    ----------
    net : Network
        Its graph and current parameters are copied.
    dtype : {"float64", "float32"}, optional
        The parameters' type; defaults to the network's.

    Attributes
    ----------
    weight : torch.nn.Parameter, shape (edges,)
        w per edge, in the graph file's edge order.
    bias : torch.nn.Parameter, shape (units,)
        b per unit, in the graph file's unit order; the inputs' entries are not used.
    input_ids, output_ids : tuple of str
        The columns of the forward pass's input and output.

    Examples
    --------
    >>> import torch, dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/xor.json"))
    >>> module = dagnet.to_torch(net)
    >>> x = torch.tensor([[0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    >>> bool(torch.allclose(module(x), torch.from_numpy(net.forward(x.numpy()))))
    True
    >>> module.weight.shape, module.bias.shape
    (torch.Size([9]), torch.Size([5]))
    """

    gather_share = 0.5
    """A level fed by at most this share of the state's columns gathers them; above it, the
    level multiplies the whole state."""

    def __init__(self, net: Network, dtype: str | None = None) -> None:
        super().__init__()
        precision = _DTYPES.get(dtype or np.dtype(net.dtype).name)
        if precision is None:
            raise ArgumentError(f"dtype must be float64 or float32, not {dtype}")
        self.graph: Graph = net.to_graph()
        self.heads = net.heads
        self.input_ids, self.output_ids = net.input_ids, net.output_ids
        self.weight = torch.nn.Parameter(torch.tensor(np.array(net.weights), dtype=precision))
        self.bias = torch.nn.Parameter(torch.tensor(np.array(net.biases), dtype=precision))
        plan = net.plan
        layout = level_layout(plan)
        self.shapes: list[tuple[int, int]] = []
        self.runs: list[list[tuple[str, int, int]]] = []
        self.gathers: list[bool] = []
        columns = layout.n_inputs  # the state's width when the level is computed
        for number, level in enumerate(layout.levels):
            sources, place, shape = level.sources, level.place, level.shape
            # A level fed by most of the state multiplies the whole state: gathering it first
            # (and scattering the gradient back) would cost more than the zeros it saves.
            gather = len(sources) <= self.gather_share * columns
            if not gather:
                place = sources[place // level.width] * level.width + place % level.width
                shape = (columns, level.width)
            for name, values in (
                ("sources", sources),
                ("edges", plan.edge_file_index[level.edges]),
                ("place", place),
                ("units", plan.unit_file_index[level.units]),
            ):
                self.register_buffer(f"{name}{number}", _index(values), persistent=False)
            self.shapes.append(shape)
            self.runs.append(level.runs)
            self.gathers.append(gather)
            columns += level.width
        self.register_buffer("outputs", _index(layout.output_columns), persistent=False)

    def _buffer(self, name: str, number: int) -> Any:
        return self.get_buffer(f"{name}{number}")

    def forward(self, inputs: Any) -> Any:
        """ŷ (N, output units) for ``inputs`` (N, input units), both in file order; a tensor
        of another type or device is converted to the parameters' first."""
        weight, bias = self.weight, self.bias
        state = torch.as_tensor(inputs, dtype=weight.dtype, device=weight.device)
        if state.dim() != 2 or state.shape[1] != len(self.input_ids):
            raise ArgumentError(
                f"inputs must have shape (N, {len(self.input_ids)}), one column per input unit "
                f"{', '.join(self.input_ids)}; got shape {tuple(state.shape)}"
            )
        levels = zip(self.shapes, self.runs, self.gathers, strict=True)
        for number, (shape, runs, gather) in enumerate(levels):
            sources = state.index_select(1, self._buffer("sources", number)) if gather else state
            matrix = weight.new_zeros(shape[0] * shape[1]).index_put(
                (self._buffer("place", number),),
                weight.index_select(0, self._buffer("edges", number)),
            )
            s = torch.addmm(
                bias.index_select(0, self._buffer("units", number)),
                sources,
                matrix.view(shape),
            )
            if len(runs) == 1:
                z = ACTIVATIONS[runs[0][0]].array(s, torch)
            else:
                z = torch.cat([ACTIVATIONS[f].array(s[:, a:b], torch) for f, a, b in runs], 1)
            state = torch.cat((state, z), 1)
        return state.index_select(1, self.get_buffer("outputs"))

    def loss(self, inputs: Any, targets: Any) -> Any:
        """The mean loss E over the batch, as dagnet trains it (the network's loss).

        Its gradients are dagnet's ``net.gradients(inputs, targets)``.
        """
        y_hat = self(inputs)
        y = torch.as_tensor(targets, dtype=y_hat.dtype, device=y_hat.device)
        # Example-major (N, outputs): the heads' formulas take the outputs along axis 0.
        return head_terms(self.heads, None, y_hat.T, y.T, torch).sum() / y_hat.shape[0]

    def to_network(self) -> Network:
        """A :class:`Network` with the module's current parameters (in the module's precision).

        Examples
        --------
        >>> import torch, dagnet
        >>> module = dagnet.to_torch(dagnet.Network(dagnet.load_graph("graphs/xor.json")))
        >>> with torch.no_grad():
        ...     _ = module.weight.fill_(0.5)
        >>> module.to_network().weights.tolist()[:2]
        [0.5, 0.5]
        """
        precision = "float64" if self.weight.dtype == torch.float64 else "float32"
        net = Network(self.graph, dtype=precision)
        with torch.no_grad():
            net.weights = self.weight.detach().cpu().double().numpy()
            net.biases = self.bias.detach().cpu().double().numpy()
        return net


def _index(values: ArrayLike) -> Any:
    return torch.as_tensor(np.ascontiguousarray(values, dtype=np.int64))


def to_torch(net: Network, dtype: str | None = None) -> DagnetModule:
    """The network as a :class:`DagnetModule` (a ``torch.nn.Module``) with its parameters.

    Parameters
    ----------
    net : Network
    dtype : {"float64", "float32"}, optional
        Defaults to the network's precision.

    Examples
    --------
    >>> import dagnet
    >>> module = dagnet.to_torch(dagnet.Network(dagnet.load_graph("graphs/one_path.json")))
    >>> [name for name, _ in module.named_parameters()]
    ['weight', 'bias']
    """
    return DagnetModule(net, dtype)


def from_torch(module: DagnetModule) -> Network:
    """A :class:`Network` with ``module``'s parameters: :meth:`DagnetModule.to_network`.

    DistributedDataParallel's wrapper is unwrapped (its ``module``).
    """
    inner = getattr(module, "module", module)
    if not isinstance(inner, DagnetModule):
        raise ArgumentError(f"from_torch takes a module made by dagnet.to_torch, not {module!r}")
    return inner.to_network()
