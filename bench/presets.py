"""Presets: YAML files in this package that make a run the paper's with one flag (``--preset NAME``).

A preset file (``bench/presets/<name>.yaml``) holds

- ``description``: one line for ``bench list``;
- ``study``: :class:`~bench.study.StudyConfig` fields, as in a ``--config`` file;
- ``datasets``: per registered dataset, fields laid over ``study`` when that dataset runs (e.g.
  SEED's official features and its filter threshold).

A preset is a config like any other. Its settings come first and everything the user gives
overrides them: defaults <- preset ``study`` <- preset ``datasets.<name>`` <- ``--config`` file
<- command-line options <- ``--set``. Datasets whose resolved settings differ become separate
studies (:func:`build_studies`), each logged with its full resolved config and the preset's name.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.config import apply_sets, from_dict, load_yaml, unknown_key_message
from bench.errors import ConfigError
from bench.registry import DATASETS

PRESET_DIR = Path(__file__).with_name("presets")
SECTIONS = ("description", "study", "datasets")


def names() -> list[str]:
    """The presets shipped in :data:`PRESET_DIR`, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load(name: str) -> dict[str, Any]:
    """The parsed preset ``name``, checked for its three sections and registered dataset names.

    Raises
    ------
    ConfigError
        For an unknown preset (listing the known ones), an unknown section or dataset.
    """
    if name not in names():
        raise ConfigError(f"--preset {name!r}: no such preset; choose one of {', '.join(names())} (bench list shows them)")
    path = PRESET_DIR / f"{name}.yaml"
    data = load_yaml(path)
    for key in data:
        if key not in SECTIONS:
            raise ConfigError(unknown_key_message(f"preset file {path}", key, list(SECTIONS)))
    for dataset in data.get("datasets") or {}:
        if dataset not in DATASETS.names():
            raise ConfigError(f"preset file {path}: datasets.{dataset} is not a registered dataset "
                              f"({', '.join(DATASETS.names())})")
    return data


def describe() -> dict[str, str]:
    """Preset name -> its one-line description."""
    return {name: " ".join(str(load(name).get("description", "")).split()) for name in names()}


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, recursively for nested mappings (a deep copy)."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve(preset: str | None, dataset: str | None, file_data: Mapping[str, Any] | None = None,
            cli: Mapping[str, Any] | None = None, sets: list[str] | None = None) -> dict[str, Any]:
    """The plain study settings of ``preset`` for ``dataset`` with the user's overrides on top.

    Parameters
    ----------
    preset : str or None
    dataset : str or None
        With None the preset's per-dataset sections are left out (used to find the datasets).
    file_data : mapping, optional
        A ``--config`` file's settings.
    cli : mapping, optional
        Command-line options the user set (None values are ignored).
    sets : list of str, optional
        ``--set key=value`` items, applied last.

    Returns
    -------
    dict
        StudyConfig fields; ``datasets`` is ``[dataset]`` when a dataset is given.
    """
    data: dict[str, Any] = {}
    if preset is not None:
        spec = load(preset)
        data = merge(spec.get("study") or {}, {})
        if dataset is not None:
            data = merge(data, (spec.get("datasets") or {}).get(dataset) or {})
        data["preset"] = preset
    data = merge(data, file_data or {})
    data = merge(data, {k: v for k, v in (cli or {}).items() if v is not None})
    data = apply_sets(data, list(sets or []))
    if dataset is not None:
        data["datasets"] = [dataset]
    return data


def build_studies(preset: str | None, file: str | os.PathLike[str] | None = None, sets: list[str] | None = None,
                  cli: Mapping[str, Any] | None = None) -> list[Any]:
    """The studies of one ``bench run``: one per group of datasets with the same resolved settings.

    Without a preset (or when every dataset resolves alike) that is a single study over all the
    requested datasets, exactly :func:`bench.study.build_study`.

    Returns
    -------
    list of StudyConfig
        In the order the datasets were requested.
    """
    from bench.study import StudyConfig

    file_data = load_yaml(file) if file else {}
    first = from_dict(StudyConfig, resolve(preset, None, file_data, cli, sets), where="config")
    if preset is None:
        return [first]
    groups: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for dataset in first.datasets:
        data = resolve(preset, dataset, file_data, cli, sets)
        key = repr(sorted((k, repr(v)) for k, v in data.items() if k != "datasets"))
        groups.setdefault(key, ([], data))[0].append(dataset)
    return [from_dict(StudyConfig, {**data, "datasets": datasets}, where=f"config ({', '.join(datasets)})")
            for datasets, data in groups.values()]
