"""Benchmarks: graphs to time on, and the same training step in other engines to compare with.

:mod:`dagnet.bench.competitors` holds the other side of ``dagnet bench --compare``: one training
step (forward, backward, gradient-descent update) of a network in the plain-Python reference
engine, in PyTorch autograd (two formulations) and, for dense layered networks, in plain numpy
matrix products. PyTorch is an optional extra (``pip install 'dagnet[compare]'``); nothing here
imports it until a PyTorch step is asked for.
"""
