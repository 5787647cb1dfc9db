"""The functions a graph file names: one table of activations and one of losses.

Each table is the single source of its names: the file format's schema, the validation rules,
the compiled kernels, the reference engine, ``explain`` and the benchmark's rivals all read it.
These modules import nothing else from dagnet.
"""

__all__: list[str] = []  # the modules are the package's contents
