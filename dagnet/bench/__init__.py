"""``dagnet bench``: the training step timed on generated or given graphs, beside its rivals.

``shapes`` makes graphs by shape and size, ``competitors`` builds the same training step in the
per-unit reference engine, PyTorch and plain numpy, and ``timing`` runs them interleaved and
reports medians.
"""
