"""scikit-learn estimators: a dagnet network trained and used as a scikit-learn regressor.

:class:`DagnetRegressor` takes a graph (a graph file's path or a :class:`~dagnet.graph.model.Graph`)
and the training settings as parameters, so it works wherever scikit-learn expects an estimator:
in a ``Pipeline``, in ``GridSearchCV`` (over ``learning_rate``, ``epochs``, or the graph itself),
in ``cross_val_score``. ``fit`` trains a fresh :class:`~dagnet.engine.network.Network` with
:func:`dagnet.fit` (the graph's columns: X's in the order of the input units in the file, y's in
the order of the output units); without a graph it builds a small layered one to fit X and y.
A classifier needs the training issue's losses (cross-entropy, softmax groups) and will follow
them; until then the regressor alone. scikit-learn is the optional extra ``sklearn``
(``pip install 'dagnet[sklearn]'``); this module imports it and is imported only when used.
"""

from __future__ import annotations

import os
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dagnet.engine.network import Network
from dagnet.errors import ExtraMissing
from dagnet.graph.model import FORMAT_VERSION, Graph
from dagnet.graph.reading import load_graph
from dagnet.training.fit import fit as train
from dagnet.training.history import History

try:
    from sklearn.base import BaseEstimator, RegressorMixin
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:
    raise ExtraMissing("DagnetRegressor", "sklearn", "sklearn") from None

__all__ = ["DagnetRegressor", "layered_graph"]


def layered_graph(
    n_inputs: int, n_outputs: int, hidden: tuple[int, ...] = (8,), activation: str = "tanh"
) -> Graph:
    """A dense layered graph: inputs x0.., hidden layers h{layer}_{unit}, outputs y0.. (linear).

    Examples
    --------
    >>> graph = layered_graph(2, 1, (3,))
    >>> len(graph.units), len(graph.edges)
    (6, 9)
    """
    layers = [[f"x{k}" for k in range(n_inputs)]]
    layers += [[f"h{n}_{k}" for k in range(width)] for n, width in enumerate(hidden)]
    layers.append([f"y{k}" for k in range(n_outputs)])
    units: list[dict[str, Any]] = [{"id": unit, "role": "input"} for unit in layers[0]]
    for layer in layers[1:-1]:
        units += [{"id": unit, "activation": activation} for unit in layer]
    units += [{"id": unit, "role": "output"} for unit in layers[-1]]
    edges = [
        {"source": source, "target": target}
        for below, above in pairwise(layers)
        for target in above
        for source in below
    ]
    return Graph.model_validate({"format_version": FORMAT_VERSION, "units": units, "edges": edges})


class DagnetRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """A dagnet network as a scikit-learn regressor, trained by minibatch gradient descent.

    Parameters
    ----------
    graph : str, path-like, Graph or None, default None
        The network: a graph file's path or a Graph, its inputs taking X's columns and its
        outputs y's, in file order. Weights it has are the starting point; missing ones are
        drawn from ``seed``. None builds :func:`layered_graph` with ``hidden`` and
        ``activation`` to fit the data.
    hidden : tuple of int, default (8,)
        Without a graph, the widths of the hidden layers.
    activation : str, default "tanh"
        Without a graph, the hidden units' activation.
    epochs : int, default 200
    learning_rate : float, default 0.05
    batch_size : int, default 32
    shuffle : bool, default True
    seed : int, default 0
        Seeds the missing weights and the shuffling, so that a fit is reproducible.
    dtype : {"float64", "float32"}, default "float64"

    Attributes
    ----------
    network_ : Network
        The trained network (``network_.to_graph()`` is its graph file).
    history_ : History
        The loss of every epoch.
    n_features_in_ : int
    n_outputs_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from dagnet.interop.sklearn_estimators import DagnetRegressor
    >>> X = np.linspace(-1, 1, 40)[:, None]
    >>> model = DagnetRegressor(epochs=300, learning_rate=0.1).fit(X, 0.5 * X[:, 0] + 0.2)
    >>> bool(model.score(X, 0.5 * X[:, 0] + 0.2) > 0.99)
    True
    """

    def __init__(
        self,
        graph: str | os.PathLike[str] | Graph | None = None,
        *,
        hidden: tuple[int, ...] = (8,),
        activation: str = "tanh",
        epochs: int = 200,
        learning_rate: float = 0.05,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        dtype: str = "float64",
    ) -> None:
        self.graph = graph
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.dtype = dtype

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _graph(self, n_inputs: int, n_outputs: int) -> Graph:
        if self.graph is None:
            return layered_graph(n_inputs, n_outputs, tuple(self.hidden), self.activation)
        graph = self.graph if isinstance(self.graph, Graph) else load_graph(self.graph)
        inputs = sum(unit.role == "input" for unit in graph.units)
        outputs = sum(unit.role == "output" for unit in graph.units)
        if (inputs, outputs) != (n_inputs, n_outputs):
            raise ValueError(
                f"the graph has {inputs} inputs and {outputs} outputs, but X has {n_inputs} "
                f"columns and y {n_outputs}"
            )
        return graph

    def fit(self, X: ArrayLike, y: ArrayLike) -> DagnetRegressor:
        """Train a fresh network on X (N, inputs) and y (N,) or (N, outputs); returns self."""
        inputs, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self._single_output = y.ndim == 1
        targets = y[:, None] if y.ndim == 1 else y
        self.n_outputs_ = targets.shape[1]
        graph = self._graph(inputs.shape[1], self.n_outputs_)
        net = Network(graph, seed=self.seed, dtype=self.dtype)
        self.history_: History = train(
            net,
            inputs,
            targets,
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            seed=self.seed,
        )
        self.network_ = net
        return self

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """ŷ for X: (N,) when fitted on a 1-D y, else (N, outputs)."""
        check_is_fitted(self, "network_")
        inputs = validate_data(self, X, reset=False, dtype=np.float64)
        y_hat = self.network_.forward(inputs)
        return y_hat[:, 0] if self._single_output else y_hat
