"""Bridges to other tools, each imported only when used: networkx."""

__all__: list[str] = []  # the modules are the package's contents
