"""Figures of a report, drawn headless with matplotlib's Agg backend; each returns a Figure.

The caller saves or embeds the figure (:func:`png_bytes`) and closes it. Nothing here reads files.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # headless: no display, no GUI toolkit
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from reports.stats import RankTest  # noqa: E402
from reports.tables import label, method_order  # noqa: E402


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def bar_chart(part: pd.DataFrame, metric: str = "balanced_accuracy", title: str = "") -> Figure:
    """Grouped bars: a group per classifier, a bar per method, error bars = std over folds and seeds.

    Parameters
    ----------
    part : DataFrame
        Summary rows (:func:`bench.summary.summarize`) of one dataset/task/protocol.
    metric : str
    title : str
    """
    ok = part[part["status"] == "ok"].assign(label=lambda d: [label(r) for _, r in d.iterrows()])
    methods = method_order(ok["label"])
    classifiers = list(dict.fromkeys(ok["classifier"]))
    width = 0.8 / max(len(methods), 1)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 + 0.45 * len(methods) * len(classifiers)), 3.2))
    colors = plt.get_cmap("tab10" if len(methods) <= 10 else "tab20")
    for i, m in enumerate(methods):
        rows = ok[ok["label"] == m].set_index("classifier").reindex(classifiers)
        x = np.arange(len(classifiers)) + (i - (len(methods) - 1) / 2) * width
        ax.bar(x, rows[f"{metric}_mean"], width, yerr=rows[f"{metric}_std"], capsize=2, label=m, color=colors(i % 20))
    ax.set_xticks(np.arange(len(classifiers)), classifiers)
    if ok[f"{metric}_mean"].notna().any():
        spread = ok[f"{metric}_std"].fillna(0)
        low, high = float((ok[f"{metric}_mean"] - spread).min()), float((ok[f"{metric}_mean"] + spread).max())
        ax.set_ylim(max(0.0, low - 0.05), min(1.0, high + 0.05))
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, ncol=min(len(methods), 4), loc="lower center", bbox_to_anchor=(0.5, 1.08), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return fig


def robustness_curves(curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], metric: str = "accuracy",
                      title: str = "") -> Figure:
    """Score against attack strength, one line per method, error bars = std over folds and seeds.

    Parameters
    ----------
    curves : dict of str to (eps, mean, std)
        Per method: arrays of shape (n_eps,) each, eps ascending (0 = clean).
    metric : str
    title : str
    """
    fig, ax = plt.subplots(figsize=(4.8, 3.2))
    for name, (eps, mean, std) in curves.items():
        ax.errorbar(eps, mean, yerr=std, marker="o", ms=3, capsize=2, label=name)
    ax.set_xlabel("eps (training-data std units)")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def cd_diagram(test: RankTest, title: str = "") -> Figure:
    """Critical-difference diagram (Demšar 2006, fig. 1).

    An axis of average ranks (1 = best, on the left), each method's name joined to its rank, a bar
    the length of Nemenyi's CD, and thick lines joining methods whose ranks differ by less than CD.
    """
    k = len(test.methods)
    fig, ax = plt.subplots(figsize=(6.4, 1.6 + 0.3 * k))
    lo, hi = 1, max(k, 2)
    ax.set_xlim(lo - 0.5, hi + 0.5)
    ax.set_ylim(-0.6 * ((k + 1) // 2) - 0.4 - 0.18 * len(test.cliques), 1.6)
    ax.axis("off")
    ax.hlines(0, lo, hi, color="black", lw=1)
    for r in range(lo, hi + 1):
        ax.vlines(r, 0, 0.15, color="black", lw=1)
        ax.text(r, 0.25, str(r), ha="center", va="bottom", fontsize=8)
    if np.isfinite(test.cd):
        ax.hlines(1.1, lo, lo + test.cd, color="black", lw=1.5)
        ax.vlines([lo, lo + test.cd], 1.0, 1.2, color="black", lw=1.5)
        ax.text(lo + test.cd / 2, 1.25, f"CD = {test.cd:.2f}", ha="center", va="bottom", fontsize=8)
    half = (k + 1) // 2
    for i, (name, r) in enumerate(zip(test.methods, test.average_ranks)):
        left = i < half
        depth = -(i + 1) if left else -(k - i)
        edge = lo - 0.3 if left else hi + 0.3
        ax.plot([r, r, edge], [0, depth * 0.6, depth * 0.6], color="black", lw=0.8)
        ax.text(edge - 0.05 if left else edge + 0.05, depth * 0.6, f"{name} ({r:.2f})", ha="right" if left else "left",
                va="center", fontsize=8)
    for j, clique in enumerate(test.cliques):
        y = -0.25 - 0.18 * j
        ax.hlines(y, test.average_ranks[clique[0]] - 0.03, test.average_ranks[clique[-1]] + 0.03, color="black", lw=3)
    p = "" if np.isnan(test.pvalue) else f"Friedman p = {test.pvalue:.3g}; "
    ax.set_title(title or f"{p}N = {test.n_blocks} blocks ({test.blocks})", fontsize=9)
    return fig


def spectra(freqs: np.ndarray, real: np.ndarray, synthetic: np.ndarray, class_names: Sequence[str],
            title: str = "") -> Figure:
    """Real against synthetic power spectra, a panel per class, log power axis.

    Parameters
    ----------
    freqs : ndarray, shape (F,)
    real, synthetic : ndarray, shape (C, F)
        Mean power per class (µV²/Hz).
    class_names : sequence of str, length C
    title : str
    """
    n = len(class_names)
    fig, axes = plt.subplots(1, n, figsize=(3.0 * n, 2.8), sharey=True, squeeze=False, layout="constrained")
    for c, ax in enumerate(axes[0]):
        ax.semilogy(freqs, real[c], label="real", color="black")
        ax.semilogy(freqs, synthetic[c], label="synthetic", color="tab:red", ls="--")
        ax.set_title(f"class {class_names[c]}", fontsize=9)
        ax.set_xlabel("Hz")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("power (µV²/Hz)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return fig


def topomaps(real: np.ndarray, synthetic: np.ndarray, class_names: Sequence[str], band_names: Sequence[str],
             title: str = "") -> Figure:
    """Mean differential-entropy grids, real above synthetic, a row pair per class and a column per band.

    Parameters
    ----------
    real, synthetic : ndarray, shape (C, B, 9, 9)
        NaN or 0 outside the electrode grid (both shown blank).
    class_names : sequence of str, length C
    band_names : sequence of str, length B
    title : str
    """
    c_n, b_n = real.shape[:2]
    fig, axes = plt.subplots(2 * c_n, b_n, figsize=(1.5 * b_n + 0.8, 1.55 * 2 * c_n + 0.4), squeeze=False,
                             layout="constrained")
    for b in range(b_n):
        both = np.stack([real[:, b], synthetic[:, b]]).astype(np.float64)
        both[both == 0] = np.nan
        vmin, vmax = (np.nanmin(both), np.nanmax(both)) if np.isfinite(both).any() else (0.0, 1.0)
        for c in range(c_n):
            for s, (kind, grid) in enumerate((("real", both[0, c]), ("synthetic", both[1, c]))):
                ax = axes[2 * c + s][b]
                image = ax.imshow(grid, vmin=vmin, vmax=vmax, cmap="viridis")
                ax.set_xticks([])
                ax.set_yticks([])
                if c == 0 and s == 0:
                    ax.set_title(band_names[b], fontsize=9)
                if b == 0:
                    ax.set_ylabel(f"{class_names[c]}\n{kind}", fontsize=8)
        fig.colorbar(image, ax=axes[:, b].tolist(), location="bottom", shrink=0.9).ax.tick_params(labelsize=6)
    fig.suptitle(title, fontsize=10)
    return fig
