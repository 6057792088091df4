"""Parents found or created idempotently; a cell logged twice is read once, a conflicting one refused."""

from __future__ import annotations

import pytest

from bench.errors import ConfigError, DataFormatError
from bench.tracking import Tracker, read_results


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('store')}/mlflow.db"


PARAMS = {"dataset": "synthetic", "task": "valence", "protocol": "trial-kfold", "method": "none", "classifier": "svm",
          "seed": 0, "fold": "fold-0"}


def test_two_processes_creating_one_parent_at_once_share_the_oldest(store, monkeypatch):
    first, second = Tracker(store, "parents"), Tracker(store, "parents")
    a = first.ensure_parent("g1", "group", {}, {}, {})
    unseen = iter([[]])  # the second process looked before the first one's run existed
    real = second._group_parents
    monkeypatch.setattr(second, "_group_parents", lambda key: next(unseen, None) or real(key))
    b = second.ensure_parent("g1", "group", {}, {}, {})
    assert a == b
    assert first.parent_runs() == {"g1": a}
    assert len(first._runs("")) == 1  # the second process's copy was deleted


def test_a_cell_logged_twice_counts_once_and_a_conflict_is_refused(store):
    tracker = Tracker(store, "cells")
    parent = tracker.ensure_parent("g", "group", {}, {"bench.group": "g"}, {})
    for _ in range(2):
        tracker.log_cell(parent, "fold-0/seed-0", PARAMS, {"balanced_accuracy": 0.7, "train_s": 1.0},
                         {"bench.cell": "c0", "bench.status": "ok"}, {})
    table, _ = read_results(store, "cells")
    assert len(table) == 1
    tracker.log_cell(parent, "fold-0/seed-0", PARAMS, {"balanced_accuracy": 0.9}, {"bench.cell": "c0",
                                                                                     "bench.status": "ok"}, {})
    with pytest.raises(DataFormatError, match="cell synthetic/valence/trial-kfold/none/svm/default/0/fold-0 appears 3 "
                                              "times with different balanced_accuracy"):
        read_results(store, "cells")


def test_a_store_that_cannot_be_opened_is_one_config_error():
    with pytest.raises(ConfigError, match=r"cannot open the MLflow tracking store postgresql\+nodriver://u:\*\*\*@h/db"):
        Tracker("postgresql+nodriver://u:s3cret@h/db", "x")


def test_a_cell_logged_as_n_a_by_an_earlier_version_and_again_today_counts_once(store):
    tracker = Tracker(store, "renamed")
    parent = tracker.ensure_parent("g", "group", {}, {"bench.group": "g"}, {})
    for status in ("n/a", "not-applicable"):
        tracker.log_cell(parent, "fold-0/seed-0", PARAMS, {}, {"bench.cell": "c0", "bench.status": status}, {})
    table, _ = read_results(store, "renamed")
    assert table["status"].tolist() == ["not-applicable"]
