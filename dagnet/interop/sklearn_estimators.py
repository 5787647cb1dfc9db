"""scikit-learn estimators: a dagnet network trained and used as a scikit-learn regressor or
classifier.

:class:`DagnetRegressor` and :class:`DagnetClassifier` take a graph (a graph file's path or a
:class:`~dagnet.graph.model.Graph`) and the training settings as parameters, so they work
wherever scikit-learn expects an estimator: in a ``Pipeline``, in ``GridSearchCV`` (over
``learning_rate``, ``epochs``, or the graph itself), in ``cross_val_score``. ``fit`` trains a
fresh :class:`~dagnet.engine.network.Network` with :func:`dagnet.fit` (X's columns in the order
of the input units in the file); without a graph it builds a small layered one to fit X and y.
The regressor's y has one column per output unit, in file order. The classifier's outputs are
its graph's one classifying head (:mod:`dagnet.graph.heads`): a softmax group of K outputs for
K classes, or one cross-entropy output for two; its labels may be anything scikit-learn takes
(ints, strings), sorted into ``classes_`` and given to the group's outputs in order (by name,
when the group's ``classes`` are the labels). scikit-learn is the optional extra ``sklearn``
(``pip install 'dagnet[sklearn]'``); this module imports it and is imported only when used.
"""

from __future__ import annotations

import os
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dagnet.engine.network import Network
from dagnet.errors import ArgumentError, ExtraMissing
from dagnet.functions.losses import LOSSES, Head
from dagnet.graph.heads import heads as heads_of
from dagnet.graph.messages import listing
from dagnet.graph.model import FORMAT_VERSION, Graph
from dagnet.graph.reading import load_graph
from dagnet.training.fit import fit as train
from dagnet.training.history import History

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:
    raise ExtraMissing("a dagnet scikit-learn estimator", "sklearn", "sklearn") from None

__all__ = ["DagnetClassifier", "DagnetRegressor", "layered_graph"]

GraphParameter = str | os.PathLike[str] | Graph | None


def layered_graph(
    n_inputs: int,
    n_outputs: int,
    hidden: tuple[int, ...] = (8,),
    activation: str = "tanh",
    loss: str = "squared_error",
) -> Graph:
    """A dense layered graph: inputs x0.., hidden layers h{layer}_{unit}, outputs y0.., all of
    them with ``loss`` (and the activation it needs: sigmoid for cross-entropy, else linear).

    Examples
    --------
    >>> graph = layered_graph(2, 1, (3,))
    >>> len(graph.units), len(graph.edges)
    (6, 9)
    >>> layered_graph(2, 3, loss="softmax_cross_entropy").training.loss
    'softmax_cross_entropy'
    """
    layers = [[f"x{k}" for k in range(n_inputs)]]
    layers += [[f"h{n}_{k}" for k in range(width)] for n, width in enumerate(hidden)]
    layers.append([f"y{k}" for k in range(n_outputs)])
    units: list[dict[str, Any]] = [{"id": unit, "role": "input"} for unit in layers[0]]
    for layer in layers[1:-1]:
        units += [{"id": unit, "activation": activation} for unit in layer]
    needs = LOSSES[loss].activation if loss in LOSSES else None
    units += [
        {"id": unit, "role": "output", **({"activation": needs} if needs else {})}
        for unit in layers[-1]
    ]
    edges = [
        {"source": source, "target": target}
        for below, above in pairwise(layers)
        for target in above
        for source in below
    ]
    document: dict[str, Any] = {"format_version": FORMAT_VERSION, "units": units, "edges": edges}
    if loss != "squared_error":
        document["training"] = {"loss": loss}
    return Graph.model_validate(document)


class _DagnetEstimator(BaseEstimator):  # type: ignore[misc]
    """What the regressor and the classifier share: the parameters, the graph, the training."""

    def __init__(
        self,
        graph: GraphParameter = None,
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

    def _given_graph(self) -> Graph:
        assert self.graph is not None
        return self.graph if isinstance(self.graph, Graph) else load_graph(self.graph)

    def _train(
        self, graph: Graph, inputs: NDArray[np.float64], targets: NDArray[np.float64]
    ) -> None:
        """Fit a fresh network of ``graph`` to the data: ``network_`` and ``history_``."""
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


class DagnetRegressor(RegressorMixin, _DagnetEstimator):  # type: ignore[misc]
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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _graph(self, n_inputs: int, n_outputs: int) -> Graph:
        if self.graph is None:
            return layered_graph(n_inputs, n_outputs, tuple(self.hidden), self.activation)
        graph = self._given_graph()
        inputs = sum(unit.role == "input" for unit in graph.units)
        outputs = sum(unit.role == "output" for unit in graph.units)
        if (inputs, outputs) != (n_inputs, n_outputs):
            raise ArgumentError(
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
        self._train(self._graph(inputs.shape[1], self.n_outputs_), inputs, targets)
        return self

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """ŷ for X: (N,) when fitted on a 1-D y, else (N, outputs)."""
        check_is_fitted(self, "network_")
        inputs = validate_data(self, X, reset=False, dtype=np.float64)
        y_hat = self.network_.forward(inputs)
        return y_hat[:, 0] if self._single_output else y_hat


class DagnetClassifier(ClassifierMixin, _DagnetEstimator):  # type: ignore[misc]
    """A dagnet network as a scikit-learn classifier, trained by minibatch gradient descent on
    its classifying loss.

    Parameters
    ----------
    graph : str, path-like, Graph or None, default None
        The network: a graph file's path or a Graph, its inputs taking X's columns in file
        order, its outputs one classifying head (see the module docstring). Weights it has are
        the starting point; missing ones are drawn from ``seed``. None builds
        :func:`layered_graph` with ``hidden`` and ``activation``: a sigmoid cross-entropy
        output for two classes, else a softmax group of one output per class.
    hidden, activation, epochs, learning_rate, batch_size, shuffle, seed, dtype
        As for :class:`DagnetRegressor`.

    Attributes
    ----------
    classes_ : ndarray
        The labels of y, sorted: ``predict_proba``'s columns.
    network_ : Network
        The trained network (``network_.to_graph()`` is its graph file).
    history_ : History
        The loss of every epoch.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from dagnet.interop.sklearn_estimators import DagnetClassifier
    >>> X = np.linspace(-1, 1, 40)[:, None]
    >>> y = np.where(X[:, 0] > 0.2, "high", "low")
    >>> model = DagnetClassifier(epochs=300, learning_rate=0.5).fit(X, y)
    >>> model.classes_.tolist(), model.predict([[-0.9], [0.9]]).tolist()
    (['high', 'low'], ['low', 'high'])
    >>> bool(model.score(X, y) > 0.95), model.predict_proba(X).shape
    (True, (40, 2))
    """

    def _head(self, graph: Graph, n_inputs: int, classes: int) -> Head:
        """The graph's classifying head, which must be all its outputs and fit the classes."""
        inputs = sum(unit.role == "input" for unit in graph.units)
        if inputs != n_inputs:
            raise ArgumentError(f"the graph has {inputs} inputs, but X has {n_inputs} columns")
        outputs = [unit.id for unit in graph.units if unit.role == "output"]
        heads = heads_of(graph)
        head = heads[0]
        need = (
            "DagnetClassifier needs the graph's outputs to be one softmax_cross_entropy group "
            "of K identity outputs (K classes) or one cross_entropy output with a sigmoid "
            "activation (2 classes), given in its training section (training.loss or "
            "training.losses)"
        )
        if len(heads) != 1 or not head.function.classifies:
            found = "; ".join(
                f"{h.loss} over {listing([outputs[r] for r in h.slots])}" for h in heads
            )
            raise ArgumentError(f"{need}; this graph has {found}")
        if head.function.grouped:
            if len(head.slots) != classes:
                raise ArgumentError(
                    f"y has {classes} classes, but the graph's softmax group '{head.name}' has "
                    f"{len(head.slots)} outputs ({listing(outputs)}); give the group one output "
                    "per class"
                )
        elif len(head.slots) != 1:
            raise ArgumentError(f"{need}; this graph has {len(head.slots)} cross_entropy outputs")
        elif classes != 2:
            raise ArgumentError(
                f"y has {classes} classes, but the graph's one cross_entropy output "
                f"'{outputs[head.slots[0]]}' tells 2 apart; for more, give it a "
                "softmax_cross_entropy group of one identity output per class"
            )
        return head

    def _order(self, head: Head) -> NDArray[np.int64]:
        """The output (by place among the outputs) of each class of ``classes_``: the group's
        outputs in order, or by name when the group's class names are the labels."""
        names = [str(label) for label in self.classes_]
        if head.function.grouped and head.classes and sorted(names) == sorted(head.classes):
            by_name = dict(zip(head.classes, head.slots, strict=True))
            return np.array([by_name[name] for name in names], dtype=np.int64)
        return np.array(head.slots, dtype=np.int64)

    def fit(self, X: ArrayLike, y: ArrayLike) -> DagnetClassifier:
        """Train a fresh network on X (N, inputs) and labels y (N,); returns self."""
        inputs, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        classes = len(self.classes_)
        if classes < 2:
            raise ArgumentError(
                f"y has one class ({self.classes_.tolist()[0]!r}); a classifier needs two or more"
            )
        if self.graph is None:
            loss = "cross_entropy" if classes == 2 else "softmax_cross_entropy"
            n_outputs = 1 if classes == 2 else classes
            graph = layered_graph(inputs.shape[1], n_outputs, tuple(self.hidden),
                                  self.activation, loss)  # fmt: skip
        else:
            graph = self._given_graph()
        head = self._head(graph, inputs.shape[1], classes)
        self._grouped = head.function.grouped
        self._outputs = self._order(head)
        targets = np.zeros((len(codes), len(head.slots)))
        if self._grouped:
            targets[np.arange(len(codes)), self._outputs[codes]] = 1.0  # one-hot
        else:
            targets[:, 0] = codes  # the probability of the second class
        self._train(graph, inputs, targets)
        return self

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """The probability of each class (columns as ``classes_``) for X, (N, classes)."""
        check_is_fitted(self, "network_")
        inputs = validate_data(self, X, reset=False, dtype=np.float64)
        values = self.network_.probabilities(inputs)
        if self._grouped:
            return values[:, self._outputs]
        p = values[:, self._outputs[0]]
        return np.stack([1.0 - p, p], axis=1)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The most probable class of each example, a label of ``classes_``."""
        check_is_fitted(self, "network_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]  # type: ignore[no-any-return]
