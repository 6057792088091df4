"""Named registries of components: datasets, methods, classifiers and attacks.

A component registers itself with a decorator under one canonical kebab-case name::

    @DATASETS.register("deap")
    class Deap: ...

Looking up a name that does not exist raises :class:`~bench.errors.UnknownNameError` listing
what exists and the closest match. Components live in the packages named by
``Registry.packages``; they are imported on first look-up so ``import bench`` stays light.

Other packages add components through entry points: a distribution that declares, in its
``pyproject.toml``::

    [project.entry-points."bench.methods"]
    my-method = "my_package.my_method"

has ``my_package.my_method`` imported (and so registered) on the registry's first look-up. The
groups are ``bench.datasets``, ``bench.methods``, ``bench.classifiers``, ``bench.attacks`` and
``bench.protocols``.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import re
from importlib.metadata import entry_points
from collections.abc import Callable, Iterator
from typing import Any

from bench.errors import ConfigError, UnknownNameError

_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Registry:
    """A mapping from canonical names to component classes.

    Parameters
    ----------
    kind : str
        What the registry holds, singular ("dataset"), used in messages.
    packages : tuple of str
        Modules imported before the first look-up; importing them registers their components.
    group : str, optional
        Entry-point group whose modules are imported after ``packages`` (plug-ins).
    """

    def __init__(self, kind: str, packages: tuple[str, ...] = (), group: str | None = None) -> None:
        self.kind = kind
        self.packages = packages
        self.group = group
        self._items: dict[str, Any] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[Any], Any]:
        """Class decorator registering ``cls`` under ``name`` (kebab-case, unique)."""
        if not _NAME.match(name):
            raise ConfigError(
                f"{self.kind} name {name!r} is not kebab-case (lower-case words joined by '-'); "
                "rename it, e.g. 'borderline-smote'"
            )

        def decorator(cls: Any) -> Any:
            if name in self._items and self._items[name] is not cls:
                raise ConfigError(
                    f"{self.kind} name {name!r} is registered twice: by "
                    f"{_qualname(self._items[name])} and {_qualname(cls)}; names must be unique"
                )
            cls.name = name
            self._items[name] = cls
            return cls

        return decorator

    @contextlib.contextmanager
    def temporarily(self, name: str, cls: Any) -> Iterator[Any]:
        """Register ``cls`` as ``name`` for the duration of a ``with`` block (tests, plug-ins)."""
        self._load()
        self.register(name)(cls)
        try:
            yield cls
        finally:
            self._items.pop(name, None)

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for package in self.packages:
                importlib.import_module(package)
            for point in entry_points(group=self.group) if self.group else ():
                try:
                    point.load()
                except Exception as e:
                    raise ConfigError(f"the {self.kind} plug-in {point.name!r} ({point.value}, entry point group "
                                      f"{self.group}) failed to import: {type(e).__name__}: {e}; fix or uninstall "
                                      "the package that declares it") from e

    def get(self, name: str) -> Any:
        """Return the component registered as ``name``."""
        self._load()
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self._unknown_message(name)) from None

    def _unknown_message(self, name: str) -> str:
        names = sorted(self._items)
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.kind} {name!r}.{hint} Available: {', '.join(names) or '(none)'}."

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._load()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def describe(self) -> dict[str, str]:
        """Name -> first line of the component's docstring."""
        lines = {}
        for name in self.names():
            doc = (self.get(name).__doc__ or "").strip()
            lines[name] = doc.splitlines()[0] if doc else ""
        return lines


def _qualname(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


DATASETS = Registry("dataset", packages=("datasets",), group="bench.datasets")
METHODS = Registry("method", packages=("methods",), group="bench.methods")
CLASSIFIERS = Registry("classifier", packages=("bench.classifiers",), group="bench.classifiers")
ATTACKS = Registry("attack", packages=("bench.attacks",), group="bench.attacks")
PROTOCOLS = Registry("protocol", packages=("bench.protocols",), group="bench.protocols")
