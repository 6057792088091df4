"""Constructed tidy results tables (and quality files) for the report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.quality_files import quality_path, write_quality


def results(scores: dict[tuple[str, str], list[float]], dataset: str = "synthetic", task: str = "valence",
            protocol: str = "trial-kfold", leaky: bool = False, seeds: int = 1) -> pd.DataFrame:
    """A tidy table: ``scores[(method, classifier)]`` holds one balanced accuracy per (seed, fold) cell.

    Cells are numbered seed-major: cell i is seed ``i // n_folds``, fold ``fold-{i % n_folds}``.
    """
    rows = []
    for (method, classifier), values in scores.items():
        folds = len(values) // seeds
        for i, v in enumerate(values):
            rows.append(dict(study="t", dataset=dataset, task=task, protocol=protocol, method=method,
                             classifier=classifier, seed=i // folds, fold=f"fold-{i % folds}", leaky=leaky, status="ok",
                             recipe="default", reason="", balanced_accuracy=v, accuracy=v, macro_f1=v,
                             minority_recall=v, auroc=v))
    return pd.DataFrame(rows)


def with_robustness(frame: pd.DataFrame, attack: str = "pgd", eps: tuple[float, ...] = (0.01, 0.05)) -> pd.DataFrame:
    """Add ``robust.<attack>@<eps>.accuracy`` columns: the clean accuracy minus ``eps`` times a per-method slope."""
    out = frame.copy()
    slope = out["method"].map(lambda m: 2.0 if m == "none" else 1.0)
    for e in eps:
        out[f"robust.{attack}@{format(e, 'g')}.accuracy"] = out["accuracy"] - e * slope
        out[f"robust.{attack}@{format(e, 'g')}.success_rate"] = e * slope
    return out


def with_quality(frame: pd.DataFrame) -> pd.DataFrame:
    """Add quality columns for the methods other than ``none`` (NaN for none), one unknown to the report."""
    out = frame.copy()
    gen = out["method"] != "none"
    out["quality.mmd"] = np.where(gen, 0.1 + 0.01 * out["fold"].str[-1].astype(int), np.nan)
    out["quality.tstr_balanced_accuracy"] = np.where(gen, out["balanced_accuracy"] - 0.1, np.nan)
    out["quality.custom_score"] = np.where(gen, 1.0, np.nan)
    return out


def with_gate(frame: pd.DataFrame, ratios: dict[str, float]) -> pd.DataFrame:
    """Give the methods in ``ratios`` a real-data score (the cell's own), TSTR = ``ratios[method]`` x it and the ratio."""
    out = frame.copy()
    out["quality.tstr_ratio"] = out["method"].map(ratios).astype(float)
    out["quality.real_balanced_accuracy"] = np.where(out["quality.tstr_ratio"].notna(), out["balanced_accuracy"], np.nan)
    out["quality.tstr_balanced_accuracy"] = out["quality.tstr_ratio"] * out["balanced_accuracy"]
    return out


def write_quality_files(out, frame: pd.DataFrame, n_freqs: int = 20) -> None:
    """One quality file per (method, seed, fold) of the non-``none`` methods, with both pairs of arrays."""
    freqs = np.linspace(1, 45, n_freqs)
    real = np.stack([10.0 / freqs, 12.0 / freqs])
    de = np.zeros((2, 5, 9, 9))
    de[:, :, 2:7, 1:8] = np.arange(5)[None, :, None, None] + np.array([0.0, 0.5])[:, None, None, None] + 1.0
    keys = ["dataset", "task", "protocol", "method", "seed", "fold"]
    for _, r in frame[frame["method"] != "none"].drop_duplicates(keys).iterrows():
        path = quality_path(out, r["dataset"], r["task"], r["protocol"], r["method"], r["seed"], r["fold"])
        write_quality(path, ["low", "high"], freqs, real, real * 1.2, ["delta", "theta", "alpha", "beta", "gamma"],
                      de, de * 0.9)
