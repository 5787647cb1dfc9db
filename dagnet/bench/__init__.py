"""``dagnet bench``: the training step timed on generated or given graphs, beside its rivals.

``shapes`` makes graphs by shape and size; ``rivals`` builds the same training step in the
per-unit reference engine, PyTorch, scipy.sparse and plain numpy; ``run`` gathers the engines of
a run and reports their results; ``timing`` runs them interleaved and reports medians; ``busy``
keeps a core busy meanwhile; ``loading`` times the load of a graph file. ``fann`` (beside
libfann) is a script of its own, ``python -m dagnet.bench.fann``. The command in
:mod:`dagnet.cli.bench` only parses, calls and prints.
"""

__all__: list[str] = []  # the modules are the package's contents
