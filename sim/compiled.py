"""The optional compiled extensions (Cython, built by ``pip install`` where a C compiler is present).

Each module that has one keeps a Python/numpy version giving the same numbers, used when the
extension was not built: ``sim.model._fifo`` (queues), ``sim.model._logit`` (logit draws),
``sim.model._streams`` (the keyed streams' hashing), ``sim.transit._capacity`` (vehicle capacity
boarding) and ``sim.transit._trace`` (journeys traced from the connection scans).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["optional_extension"]


def optional_extension(name: str) -> ModuleType | None:
    """The compiled module ``name``, or None where it was not built (installed without a C compiler)."""
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - depends on the install
        return None
