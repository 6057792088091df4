"""MLflow logging: the only module in bench that imports mlflow.

Layout of a study in MLflow (one experiment per study):

- a **parent run** per (dataset, task, protocol, method, classifier) group, named
  ``dataset/task/protocol/method/classifier``, carrying ``<metric>_mean`` and ``<metric>_std``
  over folds and seeds: sorting the UI's run table by ``balanced_accuracy_mean`` *is* the
  leaderboard. Tags: ``bench.group`` (group key), ``bench.status``, ``bench.leaky``.
- a **nested run** per cell (fold x seed), named ``fold-0/seed-0``, with the flattened cell config
  as params, the cell key as the ``bench.cell`` tag, every metric, and two artifacts:
  ``confusion_matrix.json`` and ``config.yaml``.

Runs are written with :class:`mlflow.tracking.MlflowClient` from the main process only (workers
never touch the store, so a SQLite file is never written concurrently).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from bench.errors import ConfigError

CELL_TAG = "bench.cell"
GROUP_TAG = "bench.group"
PARENT_TAG = "mlflow.parentRunId"
NAME_TAG = "mlflow.runName"
_BATCH = 100  # MLflow's limit of params per log_batch call


def _chunks(items: list[Any], size: int = _BATCH) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _artifact_root(uri: str) -> str | None:
    """For a SQLite store, keep artifacts in ``mlruns/`` beside the database file."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or len(uri) == len(prefix):
        return None
    return (Path(uri[len(prefix):]).resolve().parent / "mlruns").as_uri()


class Tracker:
    """Writes a study's runs to an MLflow tracking store.

    Parameters
    ----------
    uri : str
        Tracking URI, e.g. ``sqlite:///mlflow.db`` or ``http://host:5000``.
    experiment : str
        Experiment name; created when missing.
    """

    def __init__(self, uri: str, experiment: str) -> None:
        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)
        try:
            found = self.client.get_experiment_by_name(experiment)
            if found is None:
                self.experiment_id = self.client.create_experiment(experiment, artifact_location=_artifact_root(uri))
            else:
                self.experiment_id = found.experiment_id
        except mlflow.exceptions.MlflowException as e:
            raise ConfigError(f"cannot open MLflow tracking store {uri!r} ({e}); pass a valid --tracking-uri, "
                              "e.g. sqlite:///mlflow.db") from e
        self.experiment = experiment

    def _runs(self, filter_string: str) -> list[Any]:
        runs, token = [], None
        while True:
            page = self.client.search_runs([self.experiment_id], filter_string=filter_string, max_results=1000,
                                           page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def logged_cells(self) -> dict[str, list[str]]:
        """``bench.cell`` tag -> run ids of the finished nested runs already in the experiment."""
        out: dict[str, list[str]] = {}
        for run in self._runs("attributes.status = 'FINISHED'"):
            key = run.data.tags.get(CELL_TAG)
            if key:
                out.setdefault(key, []).append(run.info.run_id)
        return out

    def parent_runs(self) -> dict[str, str]:
        """``bench.group`` tag -> run id of the experiment's parent runs."""
        return {r.data.tags[GROUP_TAG]: r.info.run_id for r in self._runs(f"tags.`{GROUP_TAG}` != ''")
                if GROUP_TAG in r.data.tags}

    def ensure_parent(self, group_key: str, name: str, params: Mapping[str, Any], tags: Mapping[str, str],
                      known: dict[str, str]) -> str:
        """The parent run of a group, created (with its params) when missing; ``known`` is updated."""
        if group_key in known:
            return known[group_key]
        run = self.client.create_run(self.experiment_id, run_name=name, tags={GROUP_TAG: group_key, **tags})
        self._log(run.info.run_id, params=params)
        known[group_key] = run.info.run_id
        return run.info.run_id

    def log_cell(self, parent_id: str, name: str, params: Mapping[str, Any], metrics: Mapping[str, float],
                 tags: Mapping[str, str], artifacts: Mapping[str, Any], replace: Iterable[str] = ()) -> str:
        """One finished nested run; runs listed in ``replace`` (an older copy of the cell) are deleted."""
        for run_id in replace:
            self.client.delete_run(run_id)
        run = self.client.create_run(self.experiment_id, run_name=name, tags={PARENT_TAG: parent_id, **tags})
        run_id = run.info.run_id
        self._log(run_id, params=params, metrics=metrics)
        for path, content in artifacts.items():
            if isinstance(content, str):
                self.client.log_text(run_id, content, path)
            else:
                self.client.log_dict(run_id, content, path)
        self.client.set_terminated(run_id, "FINISHED")
        return run_id

    def finish_parent(self, run_id: str, metrics: Mapping[str, float], tags: Mapping[str, str],
                      artifacts: Mapping[str, str] = {}) -> None:
        """Log a group's aggregated metrics (overwriting earlier values) and mark it finished."""
        self._log(run_id, metrics=metrics, tags=tags)
        for path, text in artifacts.items():
            self.client.log_text(run_id, text, path)
        self.client.set_terminated(run_id, "FINISHED")

    def _log(self, run_id: str, params: Mapping[str, Any] = {}, metrics: Mapping[str, float] = {},
             tags: Mapping[str, str] = {}) -> None:
        now = int(time.time() * 1000)
        p = [Param(k, str(v)[:6000]) for k, v in params.items()]
        m = [Metric(k, float(v), now, 0) for k, v in metrics.items() if v is not None and not math.isnan(float(v))]
        t = [RunTag(k, str(v)) for k, v in tags.items()]
        for chunk in _chunks(p):
            self.client.log_batch(run_id, params=chunk)
        if m or t:
            self.client.log_batch(run_id, metrics=m, tags=t)

    def experiment_url_hint(self) -> str:
        """How to open this experiment in the MLflow UI."""
        if self.uri.startswith(("http://", "https://")):
            return f"{self.uri.rstrip('/')}/#/experiments/{self.experiment_id}"
        return f"mlflow ui --backend-store-uri {self.uri}   (then open http://127.0.0.1:5000, experiment {self.experiment!r})"
