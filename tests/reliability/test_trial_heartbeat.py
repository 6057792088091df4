"""A tuning trial whose worker was killed (no more heartbeats) is failed and queued again with its parameters."""

from __future__ import annotations

import time

import optuna
import pytest

from bench.tuning import _storage


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_a_trial_without_heartbeat_is_failed_and_retried(tmp_path):
    storage = _storage(f"sqlite:///{tmp_path}/optuna.db", heartbeat_s=1)
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0.0, 1.0)})
    storage.record_heartbeat(trial._trial_id)  # the worker beat once, then was killed
    # Past the grace period (twice the heartbeat interval). SQLite stores the heartbeat to the whole
    # second, so 2.5 s can read as 2 s, which is not past it: wait 3.5 s.
    time.sleep(3.5)

    optuna.storages.fail_stale_trials(study)  # what the next worker does before its trial

    states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
    assert states[trial.number] == optuna.trial.TrialState.FAIL
    retry = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.WAITING]
    assert len(retry) == 1 and retry[0].params == trial.params
