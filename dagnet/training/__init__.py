"""Training: the fit loop over epochs and minibatches, the optimizers, the divergence watch and
the record of a run.
"""
