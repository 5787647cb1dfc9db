"""Bridges to other tools, each imported only when used: networkx."""
