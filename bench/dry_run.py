"""``bench run --dry-run``: the resolved study and its planned cells, without reading data or training.

For every study of the run (:func:`bench.presets.build_studies`) it prints the resolved config
as YAML (what ``study.yaml`` and MLflow would record) and one line per method x classifier: the
number of cells (datasets x tasks x protocols x seeds x folds) and whether they run or are
``not-applicable``, with the reason the runner would record. Compatibility is decided from the settings
alone (representations, conversions, the paper recipe), never from the data files.
"""

from __future__ import annotations

from typing import Any

from bench.components import DataInfo
from bench.config import to_yaml
from bench.errors import IncompatibleError
from bench.protocols import WithinSubject
from bench.registry import CLASSIFIERS, METHODS, PROTOCOLS
from bench.results import NOT_APPLICABLE
from datasets.labels import LabelConfig
from datasets.views import check_conversion


def incompatibility(config: Any, method: str, classifier: str, task: str) -> str | None:
    """Why the cells of ``method`` x ``classifier`` would be ``not-applicable`` under ``config`` (None: they run).

    The same rules as the runner: the method's representation must convert to the classifier's,
    a method that joins a trial's windows needs non-overlapping windows, and under the ``paper``
    recipe the method must be able to train that classifier.
    """
    method_cls, clf_cls = METHODS.get(method), CLASSIFIERS.get(classifier)
    method_config = config.method_config(method)
    method_rep = method_cls.representation_for(method_config, clf_cls.representation)
    try:
        check_conversion(method_rep, clf_cls.representation, config.features, config.segment.baseline)
    except IncompatibleError as e:
        return str(e)
    if method_cls.needs_trials and config.segment.stride_s not in (None, config.segment.window_s):
        return f"{method} joins a trial's windows into one signal, so windows must not overlap"
    if config.recipe_of(method) == "paper":
        # Settings only: no data is read, so the description carries placeholders.
        info = DataInfo(sfreq=0.0, ch_names=(), grid="", band_names=config.features.band_names,
                        class_names=LabelConfig(task=task).class_names)
        instance = clf_cls.from_config(config.classifier_config(classifier), info=info, device=config.device)
        return method_cls.from_config(method_config, info=info, device=config.device).paper_incompatibility(instance)
    return None


def folds_label(config: Any, protocol: str) -> tuple[int | None, str]:
    """Folds per (dataset, task, seed) of ``protocol``: a number, or None and how they are counted."""
    cls = PROTOCOLS.get(protocol)
    if issubclass(cls, WithinSubject):
        return None, f"{config.folds} per subject"
    if not getattr(cls, "uses_n_folds", True):
        return None, "one per subject"
    return config.folds, str(config.folds)


def plan_rows(config: Any) -> list[dict[str, Any]]:
    """One row per method x classifier: label, recipe, cells (or None when subject-dependent) and status."""
    rows = []
    for method in config.methods:
        for classifier in config.classifiers:
            reasons = {incompatibility(config, method, classifier, task) for task in config.tasks} - {None}
            count = 0
            for protocol in config.protocols:
                n, _ = folds_label(config, protocol)
                count = None if n is None or count is None else count + n
            if count is not None:
                count *= len(config.datasets) * len(config.tasks) * len(config.seeds)
            rows.append({"method": config.method_label(method), "classifier": classifier,
                         "recipe": config.recipe_of(method), "cells": count,
                         "status": NOT_APPLICABLE if reasons else "run", "reason": "; ".join(sorted(reasons))})
    return rows


def describe(config: Any) -> str:
    """The dry-run text of one study: its YAML, then the planned cells."""
    folds = ", ".join(f"{p}: {folds_label(config, p)[1]} folds" for p in config.protocols)
    lines = [f"# study over {', '.join(config.datasets)}" + (f" (preset {config.preset})" if config.preset else ""),
             to_yaml(config).rstrip(), "",
             f"# planned cells: {len(config.datasets)} datasets x {len(config.tasks)} tasks x {len(config.seeds)} "
             f"seeds x folds ({folds})"]
    rows = plan_rows(config)
    width = max(len(r["method"]) for r in rows) + 2
    for r in rows:
        cells = "subject-dependent" if r["cells"] is None else str(r["cells"])
        line = f"#   {r['method']:<{width}}{r['classifier']:<14}{r['recipe']:<9}{cells:>6} cells  {r['status']}"
        lines.append(line + (f": {r['reason']}" if r["reason"] else ""))
    runnable = [r["cells"] for r in rows if r["status"] == "run"]
    total = "subject-dependent" if None in runnable else str(sum(runnable))
    lines.append(f"# total: {total} cells to compute, {sum(r['status'] == NOT_APPLICABLE for r in rows)} pairs {NOT_APPLICABLE}")
    return "\n".join(lines)
