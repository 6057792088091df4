"""The quality gate's rule, its maths and its place in the study config (bench.gate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.errors import ConfigError
from bench.gate import GateRule, judge, tstr_ratio
from bench.study import StudyConfig, build_study


def cells(tstr, real=0.9, asked=None, kept=None):
    """One leaderboard row's cells: fold i of seed 0 has ``tstr[i]`` (and ``real``, a number or a list)."""
    n = len(tstr)
    frame = pd.DataFrame({"seed": 0, "fold": [f"fold-{i}" for i in range(n)],
                          "quality.tstr_balanced_accuracy": tstr,
                          "quality.real_balanced_accuracy": real if np.ndim(real) else [real] * n})
    if asked is not None:
        frame["method.asked"], frame["method.kept"] = asked, kept
    return frame


def test_the_rule_states_itself_and_defaults_to_nine_tenths_and_eight_tenths():
    assert (GateRule().ratio, GateRule().fold_floor, GateRule().signal_ratio) == (0.9, 0.8, 0.9)
    assert str(GateRule()) == ("TSTR >= 0.9 x real (mean), >= 0.8 x real (every fold); "
                               "inner signal >= 0.9 x real (mean)")
    assert str(GateRule(ratio=0.75, fold_floor=0.5, signal_ratio=0.6)) == (
        "TSTR >= 0.75 x real (mean), >= 0.5 x real (every fold); inner signal >= 0.6 x real (mean)")


def test_the_ratio_is_tstr_over_real_and_nan_without_a_real_score():
    assert tstr_ratio(0.45, 0.9) == pytest.approx(0.5)
    assert np.isnan(tstr_ratio(0.5, np.nan)) and np.isnan(tstr_ratio(np.nan, 0.9)) and np.isnan(tstr_ratio(0.5, 0.0))
    ratios = tstr_ratio(pd.Series([0.45, 0.8]), pd.Series([0.9, np.nan]))
    assert ratios.iloc[0] == pytest.approx(0.5) and np.isnan(ratios.iloc[1])


def test_a_row_passes_when_the_mean_and_every_fold_clear_the_rule():
    assert judge(cells([0.855, 0.81, 0.765]), GateRule()) == ("pass", "")  # ratios 0.95, 0.9, 0.85
    assert judge(cells([0.45, 0.45], real=0.5), GateRule()) == ("pass", "")  # exactly 0.9 passes


def test_a_low_mean_fails_with_tstr_real_and_the_ratio():
    gate, reason = judge(cells([0.55, 0.55, 0.55], real=0.89), GateRule(ratio=0.9, fold_floor=0.6))
    assert gate == "fail"
    assert reason == "generator below gate: TSTR 0.550 vs real 0.890 (ratio 0.618 < 0.9)"


def test_one_fold_under_the_floor_fails_and_is_named():
    gate, reason = judge(cells([0.9, 0.9, 0.675]), GateRule())  # ratios 1, 1, 0.75: the mean passes
    assert gate == "fail" and "below gate" not in reason
    assert reason == "generator below fold floor on fold-2, seed 0: TSTR 0.675 vs real 0.900 (ratio 0.750 < 0.8)"
    _, reason = judge(cells([0.9, 0.7, 0.63]), GateRule(ratio=0.8, fold_floor=0.8))  # mean 0.83 passes
    assert "on 2 of 3 folds, worst fold-2, seed 0" in reason


def test_cells_without_quality_are_left_out_and_a_row_without_any_has_no_gate():
    assert judge(cells([0.9, np.nan, 0.9], real=[0.9, 0.9, np.nan]), GateRule()) == ("pass", "")
    assert judge(cells([np.nan, np.nan], real=np.nan), GateRule()) == ("", "")
    assert judge(pd.DataFrame({"seed": [0], "fold": ["fold-0"]}), GateRule()) == ("", "")  # quality off: no columns


def test_a_generator_that_produced_fewer_windows_than_asked_for_fails_with_the_counts():
    gate, reason = judge(cells([0.9, 0.9], asked=[100.0, 100.0], kept=[100.0, 80.0]), GateRule())
    assert gate == "fail" and reason == "generator produced 80 of 100 windows asked for on fold-1, seed 0"
    no_quality = cells([np.nan, np.nan], real=np.nan, asked=[100.0, 100.0], kept=[90.0, 100.0])
    assert judge(no_quality, GateRule())[0] == "fail"  # a shortfall is a fact with or without quality
    assert judge(cells([0.9, 0.9], asked=[100.0, 100.0], kept=[100.0, 100.0]), GateRule()) == ("pass", "")


def test_every_broken_rule_is_in_the_reason():
    _, reason = judge(cells([0.45, 0.45], asked=[10.0, 10.0], kept=[5.0, 10.0]), GateRule())
    assert reason.count("; ") == 2 and "5 of 10" in reason and "below gate" in reason and "fold floor" in reason


def with_signal(frame, signal, real=0.9):
    """``frame`` with the inner signal of every cell (``signal[i]``) and the probe on real windows (``real``)."""
    return frame.assign(**{"method.fit.signal": signal, "method.fit.signal_real": real})


def test_a_generator_whose_inner_signal_stays_low_did_not_learn_and_fails_without_the_test_fold():
    gate, reason = judge(with_signal(cells([0.9, 0.9]), [0.25, 0.5], real=0.84), GateRule())  # TSTR alone passes
    assert gate == "fail"
    assert reason == ("did not learn (held-out training trials, no test data): inner signal 0.375 vs probe on real "
                      "0.840 (ratio 0.446 < 0.9)")
    no_quality = with_signal(cells([np.nan, np.nan], real=np.nan), [0.3, 0.3])  # e.g. quality off
    assert judge(no_quality, GateRule())[0] == "fail"
    assert judge(with_signal(cells([np.nan], real=np.nan), [0.85]), GateRule()) == ("pass", "")
    assert judge(with_signal(cells([0.9, 0.9]), [0.25, 0.5], real=0.84), GateRule(signal_ratio=0.4))[0] == "pass"


def test_a_generator_that_learnt_on_the_inner_split_but_fails_on_the_test_fold_says_both():
    gate, reason = judge(with_signal(cells([0.55, 0.55], real=0.89), [0.85, 0.87]), GateRule())
    assert gate == "fail"
    assert reason == ("generator below gate: TSTR 0.550 vs real 0.890 (ratio 0.618 < 0.9); generator below fold "
                      "floor on 2 of 2 folds, worst fold-0, seed 0: TSTR 0.550 vs real 0.890 (ratio 0.618 < 0.8); "
                      "learnt on the inner split: inner signal 0.860 vs probe on real 0.900 (ratio 0.956 >= 0.9)")
    # no inner split (val_fraction 0): the signals are NaN and the TSTR rules alone decide
    assert judge(with_signal(cells([0.855, 0.81]), [np.nan, np.nan], real=np.nan), GateRule()) == ("pass", "")


def test_the_gate_is_set_in_yaml_or_with_set_and_changes_nothing_that_is_computed(tmp_path):
    f = tmp_path / "study.yaml"
    f.write_text("gate: {ratio: 0.85, fold_floor: 0.7}\n")
    config = build_study(f, ["gate.ratio=0.8"], {})
    assert config.gate == GateRule(ratio=0.8, fold_floor=0.7)
    assert config.computed() == StudyConfig().computed()  # cells are not recomputed for another gate


@pytest.mark.parametrize("sets, message", [
    (["gate.ratio=0"], r"gate.ratio must be in \(0, 1\]"), (["gate.ratio=1.5"], r"gate.ratio must be in \(0, 1\]"),
    (["gate.fold_floor=-0.1"], r"gate.fold_floor must be in \(0, 1\]"),
    (["gate.signal_ratio=2"], r"gate.signal_ratio must be in \(0, 1\]"),
    (["gate.ratio=.nan"], r"gate.ratio must be in \(0, 1\]"),
    (["gate.ratio=0.7"], r"gate.fold_floor must be <= gate.ratio .* lower gate.fold_floor or raise gate.ratio"),
    (["gate.ratio=high"], "expected a number"), (["gate.floor=0.5"], "Did you mean 'fold_floor'"),
])
def test_bad_gates_fail_before_any_work_and_say_how_to_fix_them(sets, message):
    with pytest.raises(ConfigError, match=message):
        build_study(None, sets, {})
