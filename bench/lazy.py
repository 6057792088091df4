"""Module attributes created on first access (PEP 562), so that importing a module does not import torch.

Modules define their ``nn.Module`` subclasses inside cached factory functions and expose them with::

    __getattr__ = lazy_attributes(__name__, {"Standardize": _standardize_class})

The names still resolve for pickle and for ``from module import Standardize``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(module: str, factories: Mapping[str, Callable[[], Any]]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` that returns ``factories[name]()`` for the names it knows.

    Parameters
    ----------
    module : str
        The module's ``__name__`` (for the AttributeError of an unknown name).
    factories : mapping of str to callable
        Attribute name -> a (cached) function creating it.
    """

    def __getattr__(name: str) -> Any:
        if name in factories:
            return factories[name]()
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
