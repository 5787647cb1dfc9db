"""The optional extras the bridges need, imported only when a bridge is used.

Each bridge asks :func:`require` for its module; when the module is missing, the user reads one
sentence naming the extra that installs it (``pip install 'dagnet[torch]'``) instead of an
ImportError from deep inside dagnet.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from dagnet.errors import ExtraMissing

__all__ = ["EXTRAS", "require"]

EXTRAS = {"onnx": "onnx", "onnxruntime": "onnx", "torch": "torch", "sklearn": "sklearn"}
"""module → the extra that installs it."""


def require(module: str, what: str) -> ModuleType:
    """``module`` imported, or an :class:`~dagnet.errors.ExtraMissing` naming its extra.

    Examples
    --------
    >>> require("numpy", "counting").__name__
    'numpy'
    >>> require("not_a_module_at_all", "dreaming")
    Traceback (most recent call last):
    ...
    dagnet.errors.ExtraMissing: dreaming needs not_a_module_at_all, which is not installed; \
install it with pip install 'dagnet[not_a_module_at_all]'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise ExtraMissing(what, top, EXTRAS.get(top, top)) from None
