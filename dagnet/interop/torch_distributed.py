"""Training on many processes or machines: the exported module under DistributedDataParallel.

When a graph or its data outgrow one machine, training moves to PyTorch's distributed engine, not
to anything of dagnet's own. Each process builds the network's :class:`DagnetModule`, wraps it in
``torch.nn.parallel.DistributedDataParallel`` (which starts every process from the first one's
parameters), takes its shard of the examples (``numpy.array_split``: contiguous, sizes differing
by at most one), and runs full-batch gradient descent, one synchronised step per epoch: each
process's loss is its shard's share of the mean over *all* N examples, scaled by the number of
processes so that DDP's average of the gradients is the full batch's gradient exactly. The first
process then writes the trained network as a dagnet graph file, atomically. Run it with
``torchrun``, one process per core or GPU (gloo on CPUs, nccl on GPUs)::

    torchrun --standalone --nproc-per-node 2 -m dagnet.interop.torch_distributed \\
        graphs/multi_output.json -o multi_output.ddp.json --epochs 200
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np
from numpy.typing import NDArray

from dagnet import __version__
from dagnet.engine.network import Network
from dagnet.errors import DagnetError, ExtraMissing
from dagnet.functions.losses import head_terms
from dagnet.graph.data import load_data
from dagnet.graph.model import Graph, Trained
from dagnet.graph.reading import load_graph
from dagnet.graph.writing import rebase_paths, save_graph
from dagnet.interop.torch_module import DagnetModule

try:
    import torch
except ImportError:
    raise ExtraMissing("distributed training", "torch", "torch") from None

__all__ = ["main", "shard", "train_distributed"]

Array = NDArray[np.float64]


def shard(n: int, rank: int, world_size: int) -> slice:
    """The examples of process ``rank``: a contiguous slice, sizes differing by at most one.

    Examples
    --------
    >>> [shard(5, rank, 2) for rank in range(2)]
    [slice(0, 3, None), slice(3, 5, None)]
    """
    bounds = np.cumsum([0] + [len(part) for part in np.array_split(np.arange(n), world_size)])
    return slice(int(bounds[rank]), int(bounds[rank + 1]))


def train_distributed(
    graph: Graph,
    inputs: Array,
    targets: Array,
    *,
    epochs: int,
    learning_rate: float,
    device: str = "cpu",
) -> Network:
    """Full-batch gradient descent across the processes of the default process group.

    Each process passes all N examples and trains on its :func:`shard`; one step per epoch, each
    equal to one full-batch step of ``dagnet.fit(..., batch_size=N, shuffle=False)``.

    Parameters
    ----------
    graph : Graph
        Missing weights are drawn from its seed; the first process's parameters are used.
    inputs, targets : ndarray, shapes (N, input units), (N, output units)
    epochs : int
    learning_rate : float
        η.
    device : str, default "cpu"

    Returns
    -------
    Network
        The trained network (the same in every process), its ``trained`` section filled in.
    """
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    rank, world_size = dist.get_rank(), dist.get_world_size()
    net = Network(graph)
    module = DagnetModule(net).to(device)
    ddp = DistributedDataParallel(module)  # broadcasts the first process's parameters
    part = shard(len(inputs), rank, world_size)
    x = torch.as_tensor(inputs[part], dtype=module.weight.dtype, device=device)
    y = torch.as_tensor(targets[part], dtype=module.weight.dtype, device=device)

    def loss_terms(y_hat: Any, y: Any) -> Any:  # (N, outputs); the heads take (outputs, N)
        return head_terms(net.heads, None, y_hat.T, y.T, torch)

    scale = world_size / len(inputs)  # DDP averages: world_size × (1/N) Σ_shard = (1/N) Σ_all
    optimizer = torch.optim.SGD(ddp.parameters(), lr=learning_rate)
    total = torch.zeros((), dtype=torch.float64, device=device)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_terms(ddp(x), y).sum() * scale
        loss.backward()
        optimizer.step()
    with torch.no_grad():  # the final loss over all examples
        total = loss_terms(ddp(x), y).sum().double() / len(inputs)
    dist.all_reduce(total)
    trained = module.to_network()
    record = Trained(
        final_loss=float(total), epochs=epochs, examples=len(inputs), dagnet_version=__version__
    )
    trained.graph = trained.to_graph().model_copy(update={"trained": record})
    return trained


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@click.option("--data", type=click.Path(path_type=Path), help="Default: the file's own data.")
@click.option("--epochs", type=click.IntRange(min=1), help="Default: the file's training.epochs.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True))
@click.option("--backend", type=click.Choice(["gloo", "nccl"]), default="gloo", show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
def main(
    file: Path,
    output: Path,
    data: Path | None,
    epochs: int | None,
    learning_rate: float | None,
    backend: str,
    force: bool,
) -> None:
    """Train FILE with DistributedDataParallel, one process per torchrun worker; write -o."""
    import torch.distributed as dist

    rank = int(os.environ.get("RANK", "0"))
    try:
        if output.exists() and not force:
            raise DagnetError(f"{output} exists; add --force to replace it")
        graph = load_graph(file)
        dataset = load_data(graph, data, base=file.parent)
        training = graph.training
        assert dataset.targets is not None  # load_data needs them by default
        dist.init_process_group(backend)
        device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if backend == "nccl" else "cpu"
        try:
            net = train_distributed(
                graph,
                dataset.inputs,
                dataset.targets,
                epochs=epochs or (training.epochs if training else 100),
                # Plain gradient steps, so sgd's default rate when neither gives one.
                learning_rate=learning_rate or (training and training.learning_rate) or 0.1,
                device=device,
            )
            # Both processes leave together: one that tears gloo down while the other's
            # threads still talk to it can abort ("terminate called without an active
            # exception"), seen on a loaded machine.
            dist.barrier()
        finally:
            dist.destroy_process_group()
        if rank == 0:
            save_graph(rebase_paths(net.graph, file, output), output)
            assert net.graph.trained is not None
            click.echo(f"wrote {output} (final loss {net.graph.trained.final_loss:.6g})", err=True)
    except (DagnetError, OSError) as exc:
        if rank == 0:
            click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


def _entry(arguments: list[str] | None = None) -> Any:
    return main.main(arguments, prog_name="dagnet.interop.torch_distributed")


if __name__ == "__main__":
    _entry()
