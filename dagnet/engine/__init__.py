"""The engine: a validated graph compiled into a Plan, and the compiled kernels that run the
forward pass and the backpropagation of error signals over it, minibatch at once.
"""

__all__: list[str] = []  # the modules are the package's contents
