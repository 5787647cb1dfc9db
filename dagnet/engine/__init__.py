"""The engine: a validated graph compiled into a Plan, and the compiled kernels that run the
forward pass and the backpropagation of error signals over it, minibatch at once.
"""
