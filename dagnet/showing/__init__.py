"""Showing the work: the reference engine (the derivation as plain loops), the equations of a
network written out, the gradient check, the network's shape in numbers, and pictures.
"""

__all__: list[str] = []  # the modules are the package's contents
