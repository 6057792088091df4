"""MLflow logging: the only module in bench that imports mlflow.

Layout of a study in MLflow (one experiment per study):

- a **parent run** per (dataset, task, protocol, method, classifier) group, named
  ``method · classifier`` (:func:`run_name`), with the short params ``dataset``, ``task``,
  ``protocol``, ``method``, ``classifier``, ``recipe``, ``profile`` and ``leaky`` (columns of the
  UI's run table), carrying ``<metric>_mean`` and ``<metric>_std`` over folds and seeds: sorting
  the run table by ``balanced_accuracy_mean`` *is* the leaderboard. Tags: ``bench.group`` (group
  key), ``bench.status``, ``bench.leaky``, and the quality gate's verdict ``bench.gate`` (``pass``,
  ``fail``, empty where nothing was measured) with ``bench.gate_reason`` (:mod:`bench.gate`).
  Cells that are not applicable (status ``not-applicable``) get no run: the parent lists them in the tag
  ``bench.na_cells`` (``fold-0/seed-0, ...: reason``) and the artifact ``na_cells.json`` (cell
  key, seed, fold, status and reason of each, read back by :func:`read_results`).
- every run a ``bench run`` creates names its process in the ``bench.writer`` tag (``host:pid``):
  runs left RUNNING by a process that was killed are marked KILLED when the study runs again
  (:meth:`Tracker.close_stale_runs`).
- a **nested run** per computed cell (fold x seed), named ``fold-0/seed-0``, with the flattened cell config
  as params, the cell key as the ``bench.cell`` tag, every metric, and two artifacts:
  ``confusion_matrix.json`` and ``config.yaml``. Scores under attack are the table's
  ``robust.<attack>@<eps>.<metric>`` columns, named ``robust.<attack>.eps_<eps>.<metric>`` in MLflow
  (which does not allow ``@``; :meth:`Tracker.metric_name`), with the attack settings as
  ``attack.<name>.<field>`` params, ``eps`` and the ``bench.robust_reason`` tag.

The experiment is created with the tag ``mlflow.experimentKind=custom_model_development`` (the kind
MLflow 3 reads for a training experiment, so its kind selector says "Model training", not GenAI).
MLflow 3.17's UI picks the page an experiment opens on from its *workflow type* (the ``workflowType``
URL parameter, else the last choice of the GenAI / Model training switch, kept in the browser, else
GenAI), so :meth:`Tracker.experiment_url_hint` prints the runs page's address with
``workflowType=machine_learning`` and the leaderboard's sort (:func:`leaderboard_path`).

``bench report`` (and the end of ``bench run``) logs the report folder as the artifacts of one run per
experiment named ``report`` (tag ``bench.kind=report``, reused by later reports); :func:`read_results`
reads an experiment's cell runs back into the tidy results table.

``bench tune`` writes to its own experiment (``bench-tune`` by default): a parent run ``tune/<study>``
per Optuna study (tags ``bench.kind=tune``, ``bench.optuna_study``, ``bench.optuna_storage``; a resumed
study reuses it) with a nested run ``trial-<n>`` per trial: the trial's params, the intermediate values
it reported (stepped), its final value and the ``bench.trial_state`` tag. The parent runs of a
``bench run`` of a tuned config carry the ``bench.tuned_from`` tag.

Nothing counts twice: a parent run is found or created idempotently (two processes that create one for
the same group at once both keep the oldest and the other is deleted), and :func:`read_results` holds
each cell once (:func:`bench.results.unique_cells`). Opening a store is error-handled: an unreachable
server, a missing database driver or an Optuna database given as tracking URI is a one-line
:class:`~bench.errors.ConfigError`, and two processes creating a fresh SQLite store at once take turns
at MLflow's schema set-up. URIs are shown with their credentials masked (:mod:`bench.urls`).

Runs are written with :class:`mlflow.tracking.MlflowClient`. ``bench run`` writes from its main
process only (its cell workers never touch the store); each ``bench tune`` process writes its own
trials, so concurrent tuning workers on one SQLite file wait for its lock (a tracking server is the
store for many machines).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import mlflow
import pandas as pd
from filelock import FileLock
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from bench.cell import Cell, cell_params
from bench.config import flatten, to_dict, to_yaml
from bench.errors import ConfigError
from bench.registry import PROTOCOLS
from bench.results import NOT_APPLICABLE, current_status, unique_cells
from bench.robustness import eps_label
from bench.study import StudyConfig
from bench.study_lock import writer_gone, writer_id
from bench.summary import GROUP
from bench.urls import database_file, mask_logs, mask_text, mask_url, sqlite_holds

log = logging.getLogger(__name__)
mask_logs(logging.getLogger("mlflow"))  # MLflow's own handler prints its log lines
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # reading na_cells.json prints no bar

CELL_TAG = "bench.cell"
GROUP_TAG = "bench.group"
PARENT_TAG = "mlflow.parentRunId"
NAME_TAG = "mlflow.runName"
KIND_TAG = "bench.kind"
STUDY_TAG = "bench.optuna_study"
STORAGE_TAG = "bench.optuna_storage"
TRIAL_TAG = "bench.optuna_trial"
STATE_TAG = "bench.trial_state"
WRITER_TAG = "bench.writer"
KIND_EXPERIMENT_TAG = "mlflow.experimentKind"
TRAINING_KIND = "custom_model_development"
NA_TAG = "bench.na_cells"
NA_ARTIFACT = "na_cells.json"
LEADERBOARD_METRIC = "balanced_accuracy_mean"
_TAG_LIMIT = 8000  # MLflow's longest tag value
_RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}
_BATCH = 100  # MLflow's limit of params per log_batch call


def _chunks(items: list[Any], size: int = _BATCH) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _artifact_root(uri: str) -> str | None:
    """For a SQLite store, keep artifacts in ``mlruns/`` beside the database file."""
    path = database_file(uri)
    return None if path is None else (path.parent / "mlruns").as_uri()


_OPEN_ATTEMPTS = 3


@contextlib.contextmanager
def _schema_lock(uri: str) -> Iterator[None]:
    """Hold a lock of this machine for the SQLite file of ``uri`` (nothing for other stores).

    MLflow creates a fresh database's schema when a client first opens it; two processes doing so at
    once collide. The lock file lives in the temporary folder, named by a hash of the database path.
    """
    path = database_file(uri)
    if path is None:
        yield
        return
    name = hashlib.blake2b(str(path).encode(), digest_size=8).hexdigest()
    with FileLock(os.path.join(tempfile.gettempdir(), f"bench-mlflow-{name}.lock"), timeout=300):
        yield


def open_error(uri: str, error: BaseException) -> ConfigError:
    """The one-line error of a tracking store that cannot be opened (credentials masked)."""
    reason = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    return ConfigError(mask_text(f"cannot open the MLflow tracking store {uri} ({reason}); pass a reachable "
                                 "--tracking-uri, e.g. sqlite:///mlflow.db or http://host:5000"))


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
        if sqlite_holds(uri) == "optuna":
            raise ConfigError(mask_text(f"--tracking-uri {uri} is an Optuna storage; MLflow and Optuna cannot share "
                                        "one database: pass another --tracking-uri, e.g. sqlite:///mlflow.db"))
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                with _schema_lock(uri):
                    self.client = MlflowClient(tracking_uri=uri)
                    self.experiment_id = self._experiment_id(experiment)
                break
            except Exception as e:  # unreachable server, missing driver, bad URI, a schema set-up that collided
                if attempt + 1 == _OPEN_ATTEMPTS or database_file(uri) is None:
                    raise open_error(uri, e) from e
                time.sleep(0.5 * (attempt + 1))
        self.experiment = experiment

    def _experiment_id(self, experiment: str) -> str:
        """The id of ``experiment``, created when missing (another process may create it at the same time)."""
        found = self.client.get_experiment_by_name(experiment)
        if found is not None:
            return found.experiment_id
        try:
            return self.client.create_experiment(experiment, artifact_location=_artifact_root(self.uri),
                                                 tags={KIND_EXPERIMENT_TAG: TRAINING_KIND})
        except mlflow.exceptions.MlflowException:
            found = self.client.get_experiment_by_name(experiment)
            if found is None:
                raise
            return found.experiment_id

    def _runs(self, filter_string: str) -> list[Any]:
        runs, token = [], None
        while True:
            page = self.client.search_runs([self.experiment_id], filter_string=filter_string, max_results=1000,
                                           page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    @staticmethod
    def metric_name(column: str) -> str:
        """The MLflow name of a results-table column: ``robust.pgd@0.01.accuracy`` -> ``robust.pgd.eps_0.01.accuracy``.

        MLflow names may hold letters, digits, ``_ - . / :`` and spaces (``:`` not on Windows), not ``@``.
        """
        return column.replace("@", ".eps_")

    def logged_cells(self) -> dict[str, list[str]]:
        """``bench.cell`` tag -> run ids of the finished nested runs already in the experiment.

        An n/a cell recorded on its parent maps to no run id (nothing to replace).
        """
        out: dict[str, list[str]] = {}
        for run in self._runs("attributes.status = 'FINISHED'"):
            key = run.data.tags.get(CELL_TAG)
            if key:
                out.setdefault(key, []).append(run.info.run_id)
        for run_id in self.parent_runs().values():
            for cell in self.na_cells(run_id):
                out.setdefault(cell["cell_key"], [])
        return out

    def close_stale_runs(self) -> list[str]:
        """Mark KILLED the experiment's RUNNING runs whose writer (``bench.writer`` tag) was a process of
        this host that no longer runs (a ``bench run`` or ``bench tune`` killed while logging); say so in
        the log and return their ids.

        Runs of live processes, and of other hosts (which cannot be checked), are left as they are.
        """
        stale = [run.info.run_id for run in self._runs("attributes.status = 'RUNNING'")
                 if writer_gone(run.data.tags.get(WRITER_TAG, ""))]
        for run_id in stale:
            self.client.set_terminated(run_id, "KILLED")
        if stale:
            log.warning("marked KILLED %d run(s) of experiment %r left RUNNING by a bench process that was killed: %s",
                        len(stale), self.experiment, ", ".join(stale))
        return stale

    def na_cells(self, parent_id: str) -> list[dict[str, Any]]:
        """The n/a cells recorded on a parent run (``cell_key``, ``seed``, ``fold``, ``status``, ``reason`` each)."""
        if not self.client.get_run(parent_id).data.tags.get(NA_TAG):
            return []
        with tempfile.TemporaryDirectory() as folder:
            return json.loads(Path(self.client.download_artifacts(parent_id, NA_ARTIFACT, folder)).read_text())

    def record_na(self, parent_id: str, cells: list[dict[str, Any]]) -> None:
        """Record a group's n/a cells on its parent: the artifact ``na_cells.json`` and the tag ``bench.na_cells``.

        Parameters
        ----------
        parent_id : str
        cells : list of dict
            Every n/a cell of the group so far: ``cell_key``, ``seed``, ``fold``, ``status``, ``reason``.
        """
        self.client.log_dict(parent_id, cells, NA_ARTIFACT)
        by_reason: dict[str, list[str]] = {}
        for cell in cells:
            by_reason.setdefault(cell["reason"], []).append(f"{cell['fold']}/seed-{cell['seed']}")
        text = "\n".join(f"{', '.join(names)}: {reason}" for reason, names in by_reason.items())
        self.client.set_tag(parent_id, NA_TAG, text if len(text) <= _TAG_LIMIT else text[:_TAG_LIMIT - 1] + "…")

    def parent_runs(self) -> dict[str, str]:
        """``bench.group`` tag -> run id of the experiment's parent run (the oldest, should there be several)."""
        found: dict[str, Any] = {}
        for run in self._runs(f"tags.`{GROUP_TAG}` != ''"):
            key = run.data.tags.get(GROUP_TAG)
            if key and (key not in found or _order(run) < _order(found[key])):
                found[key] = run
        return {key: run.info.run_id for key, run in found.items()}

    def ensure_parent(self, group_key: str, name: str, params: Mapping[str, Any], tags: Mapping[str, str],
                      known: dict[str, str]) -> str:
        """The parent run of a group, found or created (with its params); ``known`` is updated.

        Idempotent across processes: after creating its run, a process looks again and keeps the
        oldest parent of the group (start time, then run id), deleting its own when another is older,
        so two processes that create one at once end up sharing one.
        """
        if group_key in known:
            return known[group_key]
        existing = self._group_parents(group_key)
        if existing:
            known[group_key] = existing[0].info.run_id
            return known[group_key]
        run = self.client.create_run(self.experiment_id, run_name=name,
                                     tags={GROUP_TAG: group_key, WRITER_TAG: writer_id(), **tags})
        self._log(run.info.run_id, params=params)
        oldest = self._group_parents(group_key)[0].info.run_id
        if oldest != run.info.run_id:
            self.client.delete_run(run.info.run_id)
        known[group_key] = oldest
        return oldest

    def _group_parents(self, group_key: str) -> list[Any]:
        """The group's parent runs, oldest first."""
        return sorted(self._runs(f"tags.`{GROUP_TAG}` = '{group_key}'"), key=_order)

    def log_cell(self, parent_id: str, name: str, params: Mapping[str, Any], metrics: Mapping[str, float],
                 tags: Mapping[str, str], artifacts: Mapping[str, Any], replace: Iterable[str] = (),
                 series: Mapping[str, Mapping[int, float]] = {}) -> str:
        """One finished nested run; runs listed in ``replace`` (an older copy of the cell) are deleted.

        ``series`` maps a metric name to its values by step (a generator's inner signal per epoch),
        logged as that metric's history so the MLflow UI plots it.
        """
        for run_id in replace:
            self.client.delete_run(run_id)
        run = self.client.create_run(self.experiment_id, run_name=name,
                                     tags={PARENT_TAG: parent_id, WRITER_TAG: writer_id(), **tags})
        run_id = run.info.run_id
        self._log(run_id, params=params, metrics=metrics)
        self._log_series(run_id, series)
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

    # -- tuning: a parent run per Optuna study, a nested run per trial -------------------------------

    def find_tune_parent(self, study: str, storage: str) -> str | None:
        """The run id of the parent run of Optuna ``study`` in ``storage`` (as tagged), or None."""
        runs = self._runs(f"tags.`{KIND_TAG}` = 'tune' and tags.`{STUDY_TAG}` = '{study}'")
        runs = [r for r in runs if r.data.tags.get(STORAGE_TAG) == storage]
        return min(runs, key=lambda r: r.info.start_time).info.run_id if runs else None

    def start_tune_parent(self, study: str, storage: str, params: Mapping[str, Any]) -> str:
        """Create the parent run ``tune/<study>`` of an Optuna study, with the tuning settings as params."""
        run = self.client.create_run(self.experiment_id, run_name=f"tune/{study}",
                                     tags={KIND_TAG: "tune", STUDY_TAG: study, STORAGE_TAG: storage,
                                           WRITER_TAG: writer_id()})
        self._log(run.info.run_id, params=params)
        return run.info.run_id

    def reopen(self, run_id: str) -> None:
        """Mark a run as running again (a resumed study), written by this process from now on."""
        self.client.set_tag(run_id, WRITER_TAG, writer_id())
        self.client.update_run(run_id, status="RUNNING")

    def log_trial(self, parent_id: str, study: str, number: int, state: str, params: Mapping[str, Any],
                  metrics: Mapping[str, float], series: Mapping[str, Mapping[int, float]]) -> str:
        """One finished Optuna trial as a nested run ``trial-<number>``.

        Parameters
        ----------
        parent_id : str
            The study's parent run.
        study : str
        number : int
            Optuna's trial number.
        state : {"COMPLETE", "PRUNED", "FAIL"}
            Recorded as the ``bench.trial_state`` tag; the run ends FINISHED, KILLED or FAILED.
        params : mapping
            The trial's parameters (``method.<field>``, ``classifier.<field>``).
        metrics : mapping of str to float
            Single values (the trial's final value).
        series : mapping of str to (step -> value)
            Stepped metrics, e.g. the intermediate values reported for pruning.
        """
        run = self.client.create_run(self.experiment_id, run_name=f"trial-{number}",
                                     tags={PARENT_TAG: parent_id, KIND_TAG: "tune-trial", STUDY_TAG: study,
                                           TRIAL_TAG: str(number), STATE_TAG: state})
        run_id = run.info.run_id
        self._log(run_id, params=params, metrics=metrics)
        self._log_series(run_id, series)
        self.client.set_terminated(run_id, _RUN_STATUS.get(state, "FAILED"))
        return run_id

    def update_tune_parent(self, run_id: str, metrics: Mapping[str, float], tags: Mapping[str, str],
                           finished: bool = False) -> None:
        """Log the study's best value so far (overwriting earlier values); ``finished`` ends the run."""
        self._log(run_id, metrics=metrics, tags=tags)
        if finished:
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

    def _log_series(self, run_id: str, series: Mapping[str, Mapping[int, float]]) -> None:
        """Stepped metrics: each name's values by step (NaN and None left out)."""
        now = int(time.time() * 1000)
        stepped = [Metric(name, float(v), now, int(step)) for name, values in series.items()
                   for step, v in sorted(values.items()) if v is not None and not math.isnan(float(v))]
        for chunk in _chunks(stepped, 1000):
            self.client.log_batch(run_id, metrics=chunk)

    def log_report(self, folder: str | Path) -> str:
        """Log the files of a report folder as artifacts ``report/...`` of the experiment's ``report`` run."""
        runs = self._runs(f"tags.`{KIND_TAG}` = 'report'")
        run_id = (min(runs, key=lambda r: r.info.start_time).info.run_id if runs else
                  self.client.create_run(self.experiment_id, run_name="report", tags={KIND_TAG: "report"}).info.run_id)
        self.client.log_artifacts(run_id, str(folder), "report")
        self.client.set_terminated(run_id, "FINISHED")
        return run_id

    def experiment_url_hint(self, metric: str | None = LEADERBOARD_METRIC) -> str:
        """How to open this experiment's runs table in the MLflow UI, best ``metric`` first (None: newest first).

        Credentials are masked: it is printed and put in reports.
        """
        uri = mask_url(self.uri)
        path = leaderboard_path(self.experiment_id, metric)
        if uri.startswith(("http://", "https://")):
            return f"{uri.rstrip('/')}/{path}"
        return f"mlflow ui --backend-store-uri {uri}   (then open http://127.0.0.1:5000/{path})"


def leaderboard_path(experiment_id: str, metric: str | None = LEADERBOARD_METRIC) -> str:
    """The UI address (after the host) of an experiment's runs table in the ML view, best ``metric`` first.

    ``workflowType=machine_learning`` is what MLflow 3.17 reads to open the runs table instead of the
    GenAI overview; the default order, ``balanced_accuracy_mean`` descending, is the printed leaderboard's.
    """
    path = f"#/experiments/{experiment_id}/runs?workflowType=machine_learning"
    return path if metric is None else f"{path}&orderByKey={quote(f'metrics.`{metric}`')}&orderByAsc=false"


def run_name(method: str, classifier: str) -> str:
    """The name of a group's parent run: ``method · classifier`` (dataset, protocol, ... are its params)."""
    return f"{method} · {classifier}"


def _order(run: Any) -> tuple[int, str]:
    """How runs of one group are ordered: by start time, then run id (the same in every process)."""
    return (run.info.start_time or 0, run.info.run_id)


class StudyLog:
    """A ``bench run``'s rows in MLflow: a parent run per leaderboard group, a nested run per cell.

    Parameters
    ----------
    config : StudyConfig
    contexts : dict of str to DataContext
        The study's prepared datasets (their keys and notes are logged).
    """

    def __init__(self, config: StudyConfig, contexts: Mapping[str, Any]) -> None:
        self.config, self.contexts = config, contexts
        self.tracker = Tracker(config.resolved_tracking_uri, config.experiment)
        self.tracker.close_stale_runs()
        self.logged = self.tracker.logged_cells()
        self.parents = self.tracker.parent_runs()
        self.na: dict[str, list[dict[str, Any]]] = {}  # parent run id -> its n/a cells

    def recorded(self, cell: Cell, row: Any) -> None:
        """A row found on disk: logged now unless this tracking store has it already."""
        if row.cell_key not in self.logged:
            self._log_cell(cell, row, replace=())

    def cell(self, cell: Cell, row: Any) -> None:
        """A row just computed: logged, replacing an older copy of the cell."""
        self._log_cell(cell, row, replace=self.logged.get(row.cell_key, ()))

    def _log_cell(self, cell: Cell, row: Any, replace: Iterable[str]) -> None:
        config, tracker = self.config, self.tracker
        params = flatten(cell_params(config, cell))
        leaky = PROTOCOLS.get(cell.protocol).leaky
        parent = tracker.ensure_parent(
            row.group_key, run_name(cell.method, cell.classifier), _group_params(params, leaky),
            {"bench.leaky": str(leaky).lower(), "bench.status": "running",
             "bench.data": self.contexts[cell.dataset].prepared.key,
             **({"bench.tuned_from": config.tuned_from} if config.tuned_from else {})},
            self.parents,
        )
        if row.status == NOT_APPLICABLE:  # listed on the parent, no run of its own
            cells = self.na.setdefault(parent, tracker.na_cells(parent))
            cells[:] = [c for c in cells if c["cell_key"] != row.cell_key]
            cells.append({"cell_key": row.cell_key, "seed": cell.seed, "fold": cell.fold_name, "status": row.status,
                          "reason": row.reason})
            tracker.record_na(parent, cells)
            for run_id in replace:  # an older run of the cell
                tracker.client.delete_run(run_id)
            return
        metrics = {**row.metrics, **row.times, "n_train": row.n_train, "n_synthetic": row.n_synthetic,
                   "n_test": row.n_test,
                   **{f"method.{k}": v for k, v in row.method_stats.items()},
                   **{f"quality.{k}": v for k, v in row.quality.items()},
                   **{tracker.metric_name(f"robust.{k}"): v for k, v in row.robust.items()}}
        tags = {CELL_TAG: row.cell_key, "bench.status": row.status, "bench.reason": row.reason[:5000],
                "bench.seed": str(cell.seed), "bench.fold": cell.fold_name,
                **({"bench.robust_reason": "; ".join(dict.fromkeys(row.robust_reasons.values()))[:5000]}
                   if row.robust_reasons else {})}
        attack_params = {"eps": ",".join(map(eps_label, config.eps))} if row.attacks else {}
        attack_params.update(flatten({"attack": {a: to_dict(config.attack_config(a)) for a in row.attacks}}))
        artifacts: dict[str, Any] = {"config.yaml": to_yaml(config)}
        if row.confusion:
            artifacts["confusion_matrix.json"] = {"labels": list(range(len(row.confusion))),
                                                  "rows_true_cols_pred": row.confusion}
        if row.fit_stop:
            tags["bench.fit_stop"] = row.fit_stop
        series = {f"fit.{name}": {int(p["epoch"]): p[name] for p in row.fit_curve} for name in ("signal", "seconds")
                  if row.fit_curve}
        tracker.log_cell(parent, f"{cell.fold_name}/seed-{cell.seed}",
                         {**params, "seed": cell.seed, "fold": cell.fold_name, **attack_params}, metrics, tags,
                         artifacts, replace=replace, series=series)

    def finish(self, summary: pd.DataFrame, table: pd.DataFrame) -> None:
        """Log every group's aggregated metrics and gate verdict on its parent run, and finish it."""
        metric_cols = [c for c in summary.columns
                       if c.endswith(("_mean", "_std")) or c in ("delta_vs_none", "n_cells")]
        group_keys = dict(zip(map(tuple, table[GROUP].to_numpy()), table["group_key"]))
        for _, s in summary.iterrows():
            run_id = self.parents.get(group_keys[tuple(s[GROUP])])
            if run_id is None:  # every cell failed: nothing was logged
                continue
            notes = "\n".join(self.contexts[s["dataset"]].prepared.notes)
            self.tracker.finish_parent(run_id, {self.tracker.metric_name(c): s[c] for c in metric_cols},
                                       {"bench.status": s["status"], "bench.reason": s["reason"][:5000],
                                        "bench.gate": s["gate"], "bench.gate_reason": s["gate_reason"][:5000]},
                                       {"data_notes.txt": notes} if notes else {})


_GROUP_PARAMS = ("dataset", "task", "protocol", "method", "classifier", "recipe", "profile")


def _group_params(params: Mapping[str, Any], leaky: bool) -> dict[str, Any]:
    """A parent run's params: the short columns of the run table (the full config is on the fold runs)."""
    return {**{k: params[k] for k in _GROUP_PARAMS}, "leaky": str(leaky).lower()}


_RESULT_TAGS = {"status": "bench.status", "reason": "bench.reason", "cell_key": CELL_TAG}
_RESULT_PARAMS = ("dataset", "task", "protocol", "method", "classifier", "recipe", "seed", "fold")


def _na_records(parent: Any, cells: list[dict[str, Any]], experiment: str) -> list[dict[str, Any]]:
    """The results-table rows of the n/a cells recorded on ``parent`` (no metrics)."""
    params, tags = parent.data.params, parent.data.tags
    return [{"study": experiment, **{k: params.get(k, "") for k in _RESULT_PARAMS[:6]}, "seed": int(c["seed"]),
             "fold": c["fold"], "leaky": tags.get("bench.leaky", "false") == "true", "group_key": tags[GROUP_TAG],
             "status": current_status(c["status"]), "reason": c["reason"], "cell_key": c["cell_key"]}
            for c in cells]


def read_results(uri: str, experiment: str) -> tuple[pd.DataFrame, str]:
    """An experiment's finished cell runs as the tidy results table, and how to open the experiment.

    Parameters
    ----------
    uri : str
        Tracking URI.
    experiment : str
        Experiment name (a ``bench run`` study).

    Returns
    -------
    table : DataFrame
        One row per cell, n/a cells from their parent's ``na_cells.json`` (:func:`bench.results.unique_cells`: a cell logged twice by two runs counts
        once; two runs of one cell with different scores are an error), from its finished nested run: ``study``, the cell's ids (from its params), ``leaky``
        and ``group_key`` (from its parent run's tags), ``status``, ``reason``, ``cell_key`` and every
        logged metric as a column; sorted like :func:`bench.results.results_table`.
    hint : str
        :meth:`Tracker.experiment_url_hint`.
    """
    try:
        client = MlflowClient(tracking_uri=uri)
        found = client.get_experiment_by_name(experiment)
        names = [e.name for e in client.search_experiments()] if found is None else []
    except Exception as e:  # unreachable server, missing driver, bad URI
        raise open_error(uri, e) from e
    if found is None:
        raise ConfigError(f"--experiment {experiment!r}: no such experiment in {mask_url(uri)}; experiments there: "
                          f"{', '.join(sorted(names)) or '(none)'}; pass one of them or the right --tracking-uri")
    tracker = Tracker(uri, experiment)
    runs = tracker._runs("")
    parents = {r.info.run_id: r.data.tags for r in runs if GROUP_TAG in r.data.tags}  # finished or not
    records = []
    for run in runs:
        tags, params = run.data.tags, run.data.params
        if run.info.status != "FINISHED" or CELL_TAG not in tags or any(k not in params for k in _RESULT_PARAMS[:5]):
            continue
        parent = parents.get(tags.get(PARENT_TAG, ""), {})
        record: dict[str, Any] = {"study": experiment, **{k: params.get(k, "") for k in _RESULT_PARAMS}}
        record.update(seed=int(params.get("seed", 0)), recipe=params.get("recipe", "default"),
                      leaky=parent.get("bench.leaky", "false") == "true", group_key=parent.get(GROUP_TAG, ""),
                      **{k: tags.get(t, "") for k, t in _RESULT_TAGS.items()})
        record["status"] = current_status(record["status"])  # earlier versions logged "n/a"
        record.update(run.data.metrics)
        records.append(record)
    for run in runs:
        if GROUP_TAG in run.data.tags and NA_TAG in run.data.tags:
            records.extend(_na_records(run, tracker.na_cells(run.info.run_id), experiment))
    table = pd.DataFrame(records)
    if not table.empty:
        table = unique_cells(table, f"MLflow experiment {experiment!r}")
        table = table.sort_values(["dataset", "task", "protocol", "method", "classifier", "seed", "fold"],
                                  kind="stable").reset_index(drop=True)
    return table, tracker.experiment_url_hint()
