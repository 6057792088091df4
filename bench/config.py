"""Frozen dataclass configs: strict loading from dicts and YAML, ``--set`` overrides, stable hashes.

Every config in bench is a frozen dataclass validated in ``__post_init__``. This module holds the
generic machinery they share:

- :func:`from_dict` builds a dataclass from a plain mapping, rejecting unknown keys (with the
  closest valid key as a hint) and converting lists to tuples and nested mappings to nested
  dataclasses, following the type annotations.
- :func:`to_dict` is its inverse; ``from_dict(cls, to_dict(c)) == c`` for every config.
- :func:`parse_set` / :func:`apply_sets` turn ``--set a.b=value`` strings into nested overrides;
  values are parsed as YAML scalars (``3``, ``0.5``, ``true``, ``[1, 2]``, ``null``).
- :func:`config_hash` is a stable hash of a config's plain form.
- :class:`ComponentConfig` is the base of every method's and classifier's ``Config``: named
  profiles (``quick``, ``paper``), ``tiny()`` for tests, and an Optuna search space.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml

from bench.errors import ConfigError
from bench.urls import masked

T = TypeVar("T")

PROFILES = ("quick", "paper")


class TextForm:
    """A config value written as one string: ``str(value)`` writes it, ``cls.parse(text)`` reads it.

    A field annotated with such a type is parsed once, when the config is built, and written back
    as its text (YAML, hashes, MLflow params), e.g. :class:`bench.policy.Policy` (``ratio=0.5``).
    """

    @classmethod
    def parse(cls, text: str) -> Any:
        """The value written as ``text``; raises ConfigError naming the accepted forms."""
        raise NotImplementedError


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(value: Any, hint: Any, where: str) -> Any:
    """Coerce a YAML value to an annotated type: tuples from lists, nested dataclasses, numbers."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not match the expected type {hint}")
    if isinstance(hint, type) and issubclass(hint, TextForm):
        if isinstance(value, hint):
            return value
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        try:
            return hint.parse(value)
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping of {hint.__name__} fields, got {value!r}")
        return from_dict(hint, value, where=where)
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if args and len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}: {value!r}")
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args or [Any] * len(value))))
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        vtype = args[1] if len(args) == 2 else Any
        return {str(k): _convert(v, vtype, f"{where}.{k}") for k, v in value.items()}
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def unknown_key_message(where: str, key: str, valid: list[str]) -> str:
    """The error text for a key that is not a field: the valid keys and the closest one."""
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"{where}: unknown key {key!r}.{hint} Valid keys: {', '.join(sorted(valid))}."


def from_dict(cls: type[T], data: Mapping[str, Any], *, where: str | None = None) -> T:
    """Build the frozen dataclass ``cls`` from a plain mapping, strictly.

    Parameters
    ----------
    cls : dataclass type
    data : mapping
        Field name -> value; values may be plain YAML types (lists for tuples, mappings for
        nested dataclasses).
    where : str, optional
        Name of the config in error messages (defaults to the class name).

    Raises
    ------
    ConfigError
        For an unknown key (with the closest valid key), a value of the wrong type, or whatever
        the dataclass's own validation rejects.
    """
    where = where or cls.__name__
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping of fields, got {type(data).__name__} {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = _hints(cls)
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(unknown_key_message(where, str(key), list(fields)))
        kwargs[key] = _convert(value, hints[key], f"{where}.{key}")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def plain(value: Any, *, tagged: bool = False) -> Any:
    """Plain (JSON/YAML-safe) form: dataclasses become dicts of their init fields, tuples lists.

    With ``tagged``, each dataclass also records its type name (``"__type__"``), so two config
    types with equal fields never look the same (used for cache keys).
    """
    if isinstance(value, TextForm):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: plain(getattr(value, f.name), tagged=tagged) for f in dataclasses.fields(value) if f.init}
        return {"__type__": type(value).__name__, **out} if tagged else out
    if isinstance(value, Mapping):
        return {str(k): plain(v, tagged=tagged) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, tagged=tagged) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def to_dict(config: Any) -> dict[str, Any]:
    """Plain (YAML-safe) form of a config dataclass: tuples become lists, nested configs dicts."""
    return plain(config)


def to_yaml(config: Any) -> str:
    """YAML text of a config, to be stored or shown: credentials in URLs masked (:func:`bench.urls.masked`).

    ``from_dict(type(config), yaml.safe_load(text)) == config`` for every config without a secret.
    """
    return yaml.safe_dump(masked(to_dict(config)), sort_keys=False)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with ``safe_load``; errors name the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; pass an existing YAML file to --config") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys to values, got {type(data).__name__}")
    return data


def _scalar(value: Any) -> str:
    """A config value as it reads in a label: ``true``, ``10``, ``0.5``, ``target``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def config_hash(config: Any) -> str:
    """Stable 16-hex-digit hash of a config's plain form (key order does not matter)."""
    text = json.dumps(plain(config), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping -> ``{"a.b.c": value}``; lists stay values."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def parse_set(item: str) -> tuple[list[str], Any]:
    """Parse one ``--set key.path=value``; the value is read as a YAML scalar or list.

    Raises
    ------
    ConfigError
        When there is no ``=`` or the key is empty.
    """
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(
            f"--set {item!r} is not of the form key=value (e.g. --set folds=3 or "
            "--set method.smote.k_neighbors=3)"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def apply_sets(data: dict[str, Any], items: list[str]) -> dict[str, Any]:
    """Return a deep copy of ``data`` with every ``--set`` applied (creating nested mappings)."""
    out = json.loads(json.dumps(data, default=str)) if data else {}
    for item in items:
        path, value = parse_set(item)
        node = out
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {item!r}: {part!r} holds a value, not a section of keys")
            node = child
        node[path[-1]] = value
    return out


@dataclasses.dataclass(frozen=True)
class ComponentConfig:
    """Base of every method's and classifier's ``Config``.

    Subclasses are frozen dataclasses whose defaults are the ``paper`` profile (the published
    settings). ``PROFILES`` maps a profile name to the field overrides it makes, e.g. fewer
    epochs for ``quick``; :meth:`tiny` is the smallest config that still exercises every code
    path, for tests.
    """

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {}
    ALGORITHM: ClassVar[tuple[str, ...]] = ()
    """Fields that define the published algorithm (loss terms and weights, filters, update schedules).

    Profiles change sizes and time only, so no profile sets one of these (a contract check); a
    value other than the default makes the config a named variant (:meth:`variant`).
    """

    def variant(self) -> str:
        """The algorithm fields set away from the published defaults, ``name=value`` joined by commas.

        Empty for the published algorithm. The runner appends it to the method's name in every
        row (``escgan[filter=target]``), so a changed algorithm is never reported as the paper's.
        """
        fields = {f.name: f for f in dataclasses.fields(self)}
        changed = [name for name in self.ALGORITHM if getattr(self, name) != fields[name].default]
        return ",".join(f"{name}={_scalar(getattr(self, name))}" for name in changed)

    @classmethod
    def for_profile(cls, profile: str, overrides: Mapping[str, Any] | None = None, *, where: str | None = None):
        """The config of ``profile`` (``quick`` or ``paper``) with ``overrides`` applied strictly."""
        if profile not in PROFILES:
            raise ConfigError(f"profile must be one of {PROFILES}, got {profile!r}")
        return from_dict(cls, {**cls.PROFILES.get(profile, {}), **dict(overrides or {})}, where=where)

    @classmethod
    def tiny(cls):
        """Smallest useful config, for tests; defaults to the quick profile."""
        return cls.for_profile("quick")

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """Field overrides suggested by an Optuna ``trial``; empty when there is nothing to tune."""
        return {}


def check_positive_ints(config: Any, *fields: str) -> None:
    """Raise ConfigError unless each named field of ``config`` is an integer >= 1."""
    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    for field in fields:
        value = getattr(config, field)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(
                f"{type(config).__qualname__}.{field} must be an integer >= 1, got {value!r}; "
                f"set a positive whole number (default {defaults[field]!r})"
            )


def check_width(config: Any) -> None:
    """Raise ConfigError unless ``config.width`` (a multiplier of the paper's channel counts) is a finite number > 0."""
    width = config.width
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not (math.isfinite(width) and width > 0):
        raise ConfigError(f"{type(config).__qualname__}.width must be a finite number > 0, got {width!r}; "
                          "use 1 for the paper's widths or a fraction such as 0.125 for a smaller network")
