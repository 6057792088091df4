import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reports.stats import (StatsWarning, block_scores, cliques, friedman_nemenyi, holm, min_pairs, nemenyi_cd,
                           rank_biserial, wilcoxon_vs_baseline)
from tests.reports.fixtures import results

NONE = [0.60, 0.62, 0.55, 0.70, 0.66, 0.58, 0.61, 0.64]
SMOTE = [0.65, 0.61, 0.60, 0.78, 0.70, 0.59, 0.66, 0.70]


def test_holm_matches_the_step_down_formula_and_keeps_nan():
    adjusted = holm([0.01, 0.04, np.nan, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005, 3*0.01, 2*0.03, 1*0.04 -> running max 0.02, 0.03, 0.06, 0.06
    np.testing.assert_allclose(adjusted, [0.03, 0.06, np.nan, 0.06, 0.02])
    assert holm([0.6, 0.9])[1] == 1.0  # capped at 1


def test_min_pairs_is_the_first_n_whose_smallest_exact_two_sided_p_is_below_alpha():
    assert min_pairs(0.05) == 6 and min_pairs(0.01) == 8
    assert stats.wilcoxon(np.arange(1, 6)).pvalue >= 0.05 > stats.wilcoxon(np.arange(1, 7)).pvalue


def test_rank_biserial_known_values():
    assert rank_biserial([1, 2, 3]) == 1.0 and rank_biserial([-1, -2]) == -1.0
    # |d| ranks 1, 2, 3, 4; positives hold ranks 4 and 1: (5 - 5) / 10
    assert rank_biserial([0.1, -0.2, -0.3, 0.4, 0.0]) == pytest.approx(0.0)
    assert np.isnan(rank_biserial([0.0, 0.0]))


def test_wilcoxon_against_scipy_on_a_fixed_table_with_holm_over_the_methods():
    noise = [v + d for v, d in zip(NONE, [0.01, -0.02, 0.0, 0.01, 0.03, -0.01, 0.02, 0.015])]
    frame = results({("none", "svm"): NONE, ("smote", "svm"): SMOTE, ("noise", "svm"): noise}, seeds=2)
    out = wilcoxon_vs_baseline(frame).set_index("method")
    for method, scores in (("smote", SMOTE), ("noise", noise)):
        d = np.array(scores) - np.array(NONE)
        r = out.loc[method]
        assert r["n_pairs"] == 8 and r["mean_diff"] == pytest.approx(d.mean())
        assert r["median_diff"] == pytest.approx(np.median(d))
        assert r["p_greater"] == pytest.approx(stats.wilcoxon(SMOTE if method == "smote" else noise, NONE,
                                                              alternative="greater").pvalue)
        assert r["p_two_sided"] == pytest.approx(stats.wilcoxon(d).pvalue)
        assert r["statistic"] == pytest.approx(stats.wilcoxon(d, alternative="greater").statistic)
        assert r["rank_biserial"] == pytest.approx(rank_biserial(d))
    np.testing.assert_allclose(out.loc[["smote", "noise"], "p_holm"], holm(out.loc[["smote", "noise"], "p_greater"]))
    assert out.loc["smote", "p_greater"] < 0.05 and out.loc["smote", "warning"] == ""
    # noise has one zero difference (dropped): 7 pairs remain, still enough
    assert out.loc["noise", "warning"] == ""


def test_the_one_sided_direction_is_fixed_even_when_the_mean_points_the_other_way():
    # one large gain and eleven small losses: the mean difference is positive, the signed ranks negative
    d = np.r_[-0.01 * np.arange(1, 12), 0.9]
    assert d.mean() > 0
    base = np.full(12, 0.5)
    out = wilcoxon_vs_baseline(results({("none", "svm"): list(base), ("gan", "svm"): list(base + d)})).iloc[0]
    assert out["mean_diff"] > 0 and out["rank_biserial"] < 0
    # the pre-specified H1 "gan beats none" is tested whatever the mean says, and is not supported
    assert out["p_greater"] == pytest.approx(stats.wilcoxon(d, alternative="greater").pvalue) and out["p_greater"] > 0.9
    mirrored = wilcoxon_vs_baseline(results({("none", "svm"): list(base), ("gan", "svm"): list(base - d)})).iloc[0]
    # the mean says worse, the ranks say better: a tail picked from the mean's sign would test "less" and
    # never report the significant gain that H1 "greater" finds
    assert mirrored["mean_diff"] < 0 and mirrored["p_greater"] < 0.05 and mirrored["rank_biserial"] > 0
    assert mirrored["p_greater"] == pytest.approx(stats.wilcoxon(-d, alternative="greater").pvalue)


def test_too_few_pairs_and_all_ties_warn_and_say_so_in_the_table():
    frame = results({("none", "svm"): [0.5, 0.6, 0.7], ("smote", "svm"): [0.6, 0.7, 0.8],
                     ("noise", "svm"): [0.5, 0.6, 0.7]})
    with pytest.warns(StatsWarning) as caught:
        out = wilcoxon_vs_baseline(frame).set_index("method")
    assert "only 3 non-tied pairs" in out.loc["smote", "warning"] and "at least 6" in out.loc["smote", "warning"]
    assert "all 3 pairs tied" in out.loc["noise", "warning"] and np.isnan(out.loc["noise", "p_greater"])
    assert len(caught) == 2


def test_a_rule_broken_by_many_rows_is_one_warning_that_lists_them():
    scores = {("none", "svm"): [0.5, 0.6, 0.7], ("none", "cnn"): [0.5, 0.6, 0.7]}
    for method in ("smote", "noise", "mixup"):
        scores.update({(method, "svm"): [0.6, 0.7, 0.8], (method, "cnn"): [0.4, 0.7, 0.8]})
    with pytest.warns(StatsWarning) as caught:
        wilcoxon_vs_baseline(results(scores))
    assert len(caught) == 1
    assert str(caught[0].message) == (
        "fewer non-tied pairs with none than the 6 the Wilcoxon test needs to reach two-sided p < 0.05; add folds or "
        "seeds (6 rows: synthetic/valence/trial-kfold/svm: smote (3), noise (3), mixup (3); "
        "synthetic/valence/trial-kfold/cnn: smote (3), noise (3), mixup (3))")


def test_pairs_are_matched_by_seed_and_fold_within_the_classifier():
    frame = results({("none", "svm"): NONE, ("smote", "svm"): SMOTE, ("none", "cnn"): SMOTE, ("smote", "cnn"): NONE},
                    seeds=2)
    frame = frame.sample(frac=1.0, random_state=0)  # order must not matter
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = wilcoxon_vs_baseline(frame).set_index("classifier")
    assert out.loc["svm", "mean_diff"] == pytest.approx(-out.loc["cnn", "mean_diff"])


def test_friedman_matches_scipy_and_nemenyi_cd_matches_demsar():
    rng = np.random.default_rng(0)
    scores = pd.DataFrame(rng.random((12, 4)) + np.array([0.3, 0.2, 0.0, 0.1]), columns=["a", "b", "c", "d"])
    test = friedman_nemenyi(scores, blocks="datasets")
    expected = stats.friedmanchisquare(*scores.to_numpy().T)
    assert test.statistic == pytest.approx(expected.statistic) and test.pvalue == pytest.approx(expected.pvalue)
    ranks = stats.rankdata(-scores.to_numpy(), axis=1).mean(axis=0)
    assert test.methods[0] == scores.columns[np.argmin(ranks)]
    np.testing.assert_allclose(test.average_ranks, np.sort(ranks))
    # Demsar (2006), table 5(a): q_0.05 = 2.343 (k=3), 2.569 (k=4), 2.728 (k=5); CD = q sqrt(k(k+1)/(6N))
    for k, q in ((3, 2.343), (4, 2.569), (5, 2.728)):
        assert nemenyi_cd(k, 14) == pytest.approx(q * np.sqrt(k * (k + 1) / (6 * 14)), abs=1e-3)
    assert test.cd == pytest.approx(nemenyi_cd(4, 12)) and test.warnings == []


def test_cliques_join_runs_closer_than_cd_and_drop_contained_runs():
    assert cliques(np.array([1.0, 1.5, 2.2, 3.9]), 1.0) == [(0, 1), (1, 2)]
    assert cliques(np.array([1.0, 3.0]), 1.0) == []


def test_rank_test_warns_with_few_blocks_and_drops_methods_missing_a_block():
    frame = results({("none", "svm"): [0.5, 0.6], ("smote", "svm"): [0.6, 0.7], ("noise", "svm"): [0.55, 0.58]})
    frame = frame[~((frame["method"] == "noise") & (frame["fold"] == "fold-1"))]
    with pytest.warns(StatsWarning) as caught:
        test = friedman_nemenyi(block_scores(frame, "balanced_accuracy", ["dataset", "classifier", "seed", "fold"]))
    assert [str(w.message) for w in caught] == test.warnings and "left out" in test.warnings[0]
    assert test.dropped == ["noise"] and test.methods == ["smote", "none"]
    assert np.isnan(test.pvalue) and any("only 2 blocks" in w for w in test.warnings)
