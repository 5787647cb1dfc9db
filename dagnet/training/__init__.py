"""Training: the fit loop over epochs and minibatches, the optimizers, the divergence watch and
the record of a run.
"""

__all__: list[str] = []  # the modules are the package's contents
