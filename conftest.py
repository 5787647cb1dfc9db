"""Doctests of the bridges whose optional extras are not installed are not collected: their
modules import the extra (and say which to install) as they load."""

from __future__ import annotations

import importlib.util

NEEDS = {
    "dagnet/interop/onnx_export.py": ("onnx", "onnxruntime"),
    "dagnet/interop/torch_module.py": ("torch",),
    "dagnet/interop/torch_distributed.py": ("torch",),
    "dagnet/interop/sklearn_estimators.py": ("sklearn",),
}

collect_ignore = [
    path
    for path, modules in NEEDS.items()
    if any(importlib.util.find_spec(module) is None for module in modules)
]
