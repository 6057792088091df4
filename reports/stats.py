"""Statistics over the tidy results table: paired tests against ``none``, Holm, Friedman and Nemenyi.

Pure functions over DataFrames; the tests themselves come from :mod:`scipy.stats`.

- **Method vs none** (:func:`wilcoxon_vs_baseline`): the pairs are the matched (seed, fold) cells of
  the same dataset, task, protocol and classifier (folds are subjects for ``loso`` and
  ``within-subject``). The one-sided alternative is fixed in advance, ``greater`` = "the method
  beats none", and is never picked from the data: MOABB picked the tail from the sign of the mean
  difference, which contradicts the signed-rank statistic whenever a few large differences outweigh
  many small ones of the other sign (NeuroTechX/moabb#1176).
- **Across datasets** (:func:`friedman_nemenyi`): Friedman's test on the methods' ranks within
  blocks, Nemenyi's critical difference for the post-hoc comparison of average ranks (Demšar 2006).

References
----------
Demšar, J. (2006). Statistical comparisons of classifiers over multiple data sets. JMLR 7, 1-30.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J. Stat. 6, 65-70.
Kerby, D. S. (2014). The simple difference formula: an approach to teaching nonparametric
correlation. Comprehensive Psychology 3, 11.IT.3.1.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from bench.summary import BASELINE

BLOCK = ["dataset", "task", "protocol", "classifier"]
PAIR = ["seed", "fold"]


class StatsWarning(UserWarning):
    """A test was run on too little data to mean much (or could not be run)."""


def method_label(frame: pd.DataFrame) -> pd.Series:
    """Treatment names: the method, with its recipe when it is not the default one (``escgan+paper``)."""
    recipe = frame["recipe"] if "recipe" in frame else pd.Series("default", index=frame.index)
    return frame["method"].where(recipe == "default", frame["method"] + "+" + recipe.astype(str))


def min_pairs(alpha: float = 0.05) -> int:
    """The fewest pairs with which the exact two-sided Wilcoxon test can reach ``p < alpha``.

    With n untied non-zero differences the smallest exact two-sided p is ``2 / 2**n`` (every
    difference of one sign), so the answer is the least n with ``2**(1 - n) < alpha``: 6 for 0.05.
    """
    return int(math.floor(1 - math.log2(alpha))) + 1


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control).

    With the m non-NaN p-values sorted ascending, ``p_(1) <= ... <= p_(m)``, the adjusted value is
    ``p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``. NaN entries stay NaN and do not count in m.

    Parameters
    ----------
    pvalues : array_like, shape (n,)

    Returns
    -------
    ndarray, shape (n,)
    """
    p = np.asarray(pvalues, dtype=np.float64).reshape(-1)
    out = np.full_like(p, np.nan)
    kept = np.flatnonzero(~np.isnan(p))
    m = kept.size
    if m == 0:
        return out
    order = kept[np.argsort(p[kept], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def rank_biserial(differences: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation (Kerby 2014), the Wilcoxon test's effect size.

    ``r = (T+ - T-) / (T+ + T-)`` where ``T+`` and ``T-`` are the sums of the ranks of ``|d|`` over
    the positive and the negative differences (zeros dropped, as in the ``wilcox`` zero method).
    +1: every pair favours the method; -1: every pair favours the baseline.

    Parameters
    ----------
    differences : array_like, shape (n,)

    Returns
    -------
    float
        NaN when every difference is zero.
    """
    d = np.asarray(differences, dtype=np.float64).reshape(-1)
    d = d[d != 0]
    if d.size == 0:
        return float("nan")
    ranks = stats.rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


def paired_scores(frame: pd.DataFrame, metric: str, baseline: str = BASELINE) -> pd.DataFrame:
    """Each method's score beside the baseline's on the same (seed, fold) of the same block.

    Parameters
    ----------
    frame : DataFrame
        The tidy results table (one row per cell); only ``ok`` cells with a finite ``metric`` count.
    metric : str
    baseline : str

    Returns
    -------
    DataFrame
        Columns: the block keys (dataset, task, protocol, classifier), ``label``, seed, fold,
        ``score``, ``baseline_score``; one row per matched pair.
    """
    ok = frame[(frame["status"] == "ok") & frame[metric].notna()].assign(label=method_label(frame))
    base = ok[ok["method"] == baseline][BLOCK + PAIR + [metric]].rename(columns={metric: "baseline_score"})
    base = base.drop_duplicates(BLOCK + PAIR)
    others = ok[ok["method"] != baseline][BLOCK + ["label"] + PAIR + [metric]].rename(columns={metric: "score"})
    return others.merge(base, on=BLOCK + PAIR, how="inner")


def wilcoxon_vs_baseline(frame: pd.DataFrame, metric: str = "balanced_accuracy", baseline: str = BASELINE,
                         alpha: float = 0.05) -> pd.DataFrame:
    """Paired Wilcoxon signed-rank test of every method against the baseline, Holm-corrected.

    For each block (dataset, task, protocol, classifier) and method, ``d = score - baseline_score``
    over the matched (seed, fold) pairs; :func:`scipy.stats.wilcoxon` tests ``H1: d > 0`` (the
    pre-specified one-sided alternative: the method beats the baseline) and, for reference, the
    two-sided alternative. Holm's correction (:func:`holm`) runs over the methods of one block: the
    family is "which methods beat none with this classifier on this dataset/task/protocol".

    Parameters
    ----------
    frame : DataFrame
        The tidy results table.
    metric : str
    baseline : str
    alpha : float
        Level used for the ``significant`` column and the too-few-pairs warning.

    Returns
    -------
    DataFrame
        One row per (block, method): ``n_pairs``, ``mean_diff``, ``median_diff``, ``statistic``
        (W+, the sum of the ranks of the positive differences), ``p_greater``, ``p_two_sided``,
        ``p_holm`` (of ``p_greater``), ``significant`` (``p_holm < alpha``), ``rank_biserial`` and
        ``warning`` (empty, or why the test means little). Each rule broken is also issued as one
        :class:`StatsWarning` that lists the rows it affects (:func:`grouped`).
    """
    pairs = paired_scores(frame, metric, baseline)
    records = []
    rules: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    need = min_pairs(alpha)
    for key, group in pairs.groupby(BLOCK + ["label"], sort=False):
        d = (group["score"] - group["baseline_score"]).to_numpy(dtype=np.float64)
        n, nonzero = d.size, int(np.count_nonzero(d))
        record = dict(zip(BLOCK + ["method"], key), n_pairs=n, mean_diff=float(d.mean()),
                      median_diff=float(np.median(d)), statistic=np.nan, p_greater=np.nan, p_two_sided=np.nan,
                      rank_biserial=rank_biserial(d), warning="")
        if nonzero == 0:
            record["warning"] = f"all {n} pairs tied with {baseline}: no test"
            rules.setdefault(f"every pair tied with {baseline} (the method changed nothing): no test", []).append(
                (key[:-1], f"{key[-1]} ({n})"))
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # scipy's own small-sample notes
                greater = stats.wilcoxon(d, alternative="greater")
                both = stats.wilcoxon(d, alternative="two-sided")
            record.update(statistic=float(greater.statistic), p_greater=float(greater.pvalue),
                          p_two_sided=float(both.pvalue))
            if nonzero < need:
                record["warning"] = (f"only {nonzero} non-tied pairs: the Wilcoxon test needs at least {need} "
                                     f"to reach two-sided p < {alpha:g}; add folds or seeds")
                rules.setdefault(f"fewer non-tied pairs with {baseline} than the {need} the Wilcoxon test needs to "
                                 f"reach two-sided p < {alpha:g}; add folds or seeds", []).append(
                    (key[:-1], f"{key[-1]} ({nonzero})"))
        records.append(record)
    columns = BLOCK + ["method", "n_pairs", "mean_diff", "median_diff", "statistic", "p_greater", "p_two_sided",
                       "p_holm", "significant", "rank_biserial", "warning"]
    if not records:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(records)
    out["p_holm"] = np.nan
    for _, idx in out.groupby(BLOCK, sort=False).groups.items():
        out.loc[idx, "p_holm"] = holm(out.loc[idx, "p_greater"].to_numpy())
    out["significant"] = out["p_holm"] < alpha
    for rule, rows in rules.items():
        warnings.warn(grouped(rule, rows), StatsWarning, stacklevel=2)
    return out[columns]


def grouped(rule: str, rows: list[tuple[tuple[str, ...], str]]) -> str:
    """One line for a rule and every row it affects: ``rule (n rows: block: a (5), b (4); other block: ...)``.

    Parameters
    ----------
    rule : str
    rows : list of (block key, item)
        The block (dataset, task, protocol, classifier) and what in it the rule hit, e.g. ``smote (5)``.
    """
    by_block: dict[tuple[str, ...], list[str]] = {}
    for block, item in rows:
        by_block.setdefault(block, []).append(item)
    listed = "; ".join(f"{'/'.join(map(str, block))}: {', '.join(items)}" for block, items in by_block.items())
    return f"{rule} ({len(rows)} row{'s' * (len(rows) != 1)}: {listed})"


def nemenyi_cd(k: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical difference of average ranks (Demšar 2006, eq. 5).

    ``CD = q_alpha * sqrt(k (k + 1) / (6 N))`` with ``q_alpha`` the studentized range statistic's
    upper ``alpha`` quantile for k groups and infinite degrees of freedom, divided by sqrt(2)
    (Demšar's table: 2.343 for k = 3, 2.569 for k = 4 at alpha = 0.05).

    Parameters
    ----------
    k : int
        Number of methods (at least 2).
    n_blocks : int
        Number of blocks (datasets) N.
    alpha : float
    """
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6 * n_blocks)))


@dataclass
class RankTest:
    """Friedman's test and Nemenyi's post-hoc over methods ranked within blocks.

    Attributes
    ----------
    methods : list of str
        Sorted by average rank (best first).
    average_ranks : ndarray, shape (k,)
        Average rank of each method (1 = best), same order.
    n_blocks : int
    blocks : str
        What a block is (e.g. ``dataset x task x protocol x classifier``).
    statistic, pvalue : float
        Friedman's chi-square and its p-value (NaN when the test could not run).
    cd : float
        Nemenyi's critical difference at ``alpha``.
    alpha : float
    cliques : list of tuple of int
        Maximal runs of methods (indices into ``methods``) whose average ranks differ by less than ``cd``.
    dropped : list of str
        Methods left out because they lack a score in some block.
    warnings : list of str
    """

    methods: list[str]
    average_ranks: np.ndarray
    n_blocks: int
    blocks: str
    statistic: float
    pvalue: float
    cd: float
    alpha: float
    cliques: list[tuple[int, ...]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def block_scores(frame: pd.DataFrame, metric: str, by: list[str]) -> pd.DataFrame:
    """Mean score of each method in each block: rows blocks (``by`` keys), columns methods.

    Only ``ok`` cells with a finite score count; a method missing from a block gives NaN.
    """
    ok = frame[(frame["status"] == "ok") & frame[metric].notna()].assign(label=method_label(frame))
    return ok.groupby(by + ["label"], sort=False)[metric].mean().unstack("label")


def friedman_nemenyi(scores: pd.DataFrame, alpha: float = 0.05, blocks: str = "") -> RankTest:
    """Friedman's test over blocks and Nemenyi's critical difference (Demšar 2006, section 3.2.2).

    Within each block the methods are ranked by score, 1 = best, ties sharing the average rank;
    ``R_j`` is method j's average rank over the N blocks. Friedman's statistic
    ``chi2_F = 12 N / (k (k + 1)) * (sum_j R_j**2 - k (k + 1)**2 / 4)`` (with scipy's tie correction,
    :func:`scipy.stats.friedmanchisquare`) has k - 1 degrees of freedom; two methods differ
    significantly when their average ranks differ by at least :func:`nemenyi_cd`.

    Parameters
    ----------
    scores : DataFrame, shape (N blocks, k methods)
        Higher is better (see :func:`block_scores`). Methods with a NaN in any block are dropped.
    alpha : float
    blocks : str
        What a block is, for the report.

    Returns
    -------
    RankTest
    """
    complete = scores.dropna(axis=1, how="any")
    dropped = sorted(set(scores.columns) - set(complete.columns))
    notes = [f"left out of the rank test (no score in some block): {', '.join(dropped)}"] if dropped else []
    n, k = complete.shape
    if k < 2 or n < 1:
        notes.append(f"rank test needs at least 2 methods scored in every block, got {k} methods in {n} blocks")
        for note in notes:
            warnings.warn(note, StatsWarning, stacklevel=2)
        return RankTest(list(complete.columns), np.full(k, np.nan), n, blocks, np.nan, np.nan, np.nan, alpha, [],
                        dropped, notes)
    ranks = stats.rankdata(-complete.to_numpy(dtype=np.float64), axis=1)
    average = ranks.mean(axis=0)
    order = np.argsort(average, kind="stable")
    methods = [str(complete.columns[i]) for i in order]
    average = average[order]
    statistic = pvalue = np.nan
    if k >= 3 and n >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.friedmanchisquare(*complete.to_numpy(dtype=np.float64).T)
        statistic, pvalue = float(result.statistic), float(result.pvalue)
    else:
        notes.append(f"Friedman's test needs at least 3 methods and 2 blocks, got {k} and {n}")
    if n < 10:
        notes.append(f"only {n} blocks ({blocks or 'blocks'}): the chi-square approximation of Friedman's "
                     "statistic and Nemenyi's test want about 10 or more (Demšar 2006)")
    cd = nemenyi_cd(k, n, alpha)
    for note in notes:
        warnings.warn(note, StatsWarning, stacklevel=2)
    return RankTest(methods, average, n, blocks, statistic, pvalue, cd, alpha, cliques(average, cd), dropped, notes)


def cliques(average_ranks: np.ndarray, cd: float) -> list[tuple[int, ...]]:
    """Maximal runs of sorted average ranks spanning less than ``cd`` (the CD diagram's bars).

    Parameters
    ----------
    average_ranks : ndarray, shape (k,)
        Sorted ascending.
    cd : float

    Returns
    -------
    list of tuple of int
        Index runs of length >= 2, none contained in another.
    """
    r = np.asarray(average_ranks, dtype=np.float64)
    runs = []
    for i in range(r.size):
        j = i
        while j + 1 < r.size and r[j + 1] - r[i] < cd:
            j += 1
        if j > i and not (runs and runs[-1][-1] >= j):
            runs.append(tuple(range(i, j + 1)))
    return runs
