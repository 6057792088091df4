"""Two studies run at once on a fresh tracking database: no crash, one parent per group, each cell counted once."""

from __future__ import annotations

import warnings

import pytest
from mlflow.tracking import MlflowClient

from bench.tracking import read_results
from reports.stats import wilcoxon_vs_baseline
from tests.reliability.helpers import bench_process, tiny_run


@pytest.mark.slow  # several processes, 10-25 s: run by `make test-slow`
def test_two_concurrent_runs_share_parents_and_count_each_cell_once(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"  # does not exist yet: both processes set up its schema
    procs = [bench_process(tiny_run(tmp_path / f"out{i}", uri, "twice"), tmp_path) for i in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        assert "Traceback" not in err

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("twice").experiment_id
    runs = client.search_runs([experiment], max_results=1000)
    parents = [r.data.tags["bench.group"] for r in runs if "bench.group" in r.data.tags]
    cells = [r.data.tags["bench.cell"] for r in runs if "bench.cell" in r.data.tags]
    assert sorted(parents) == sorted(set(parents)) and len(parents) == 2  # none/svm and noise/svm
    assert len(set(cells)) == 4 and len(cells) >= 4  # usually 8: both logged every cell (neither saw the other's)

    table, _ = read_results(uri, "twice")
    assert len(table) == 4 and table["cell_key"].is_unique  # each counts once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # two pairs are too few for significance; the count is what matters
        tests = wilcoxon_vs_baseline(table, "balanced_accuracy")
    assert tests["n_pairs"].tolist() == [2]  # two folds, not four pairs
