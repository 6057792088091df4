"""Choosing the executor, and scheduling a distributed study: estimates, longest-first order, resources."""

from __future__ import annotations

import json
import signal
import sys

import pytest

from bench.cell import fit_inputs
from bench.cli import main
from bench.errors import ConfigError, ExecutorError
from bench.executor import units as make_units
from bench import executor_ray
from bench.executor_ray import _check_device
from bench.fit_cache import SIDECAR, fit_key, fits_dir, recorded_fit_s
from bench.registry import METHODS
from bench.runner import plan
from bench.schedule import GPU_SHARE, MEMORY_BASE, MEMORY_FACTOR, longest_first, unit_resources, unit_seconds
from bench.study import build_study
from tests.bench.test_cli import args as cli_args

TINY = ["dataset.synthetic.n_subjects=3", "dataset.synthetic.n_trials=6", "dataset.synthetic.trial_s=4"]


def planned(methods, classifiers=("svm",), **cli):
    config = build_study(None, TINY, {"methods": list(methods), "classifiers": list(classifiers), "folds": 2,
                                      "seeds": [0], **cli})
    cells, contexts = plan(config)
    return config, make_units([(c, (str(i), "g")) for i, c in enumerate(cells)]), contexts


@pytest.mark.parametrize("cli, message", [
    ({"executor": "dask"}, "executor must be one of local, ray, got 'dask'"),
    ({"ray_address": "auto"}, "add --executor ray"),
])
def test_executor_options_are_checked(cli, message):
    with pytest.raises(ConfigError, match=message):
        build_study(None, [], cli)


def test_executor_ray_without_ray_is_one_line_before_anything_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert main(cli_args(tmp_path, "--executor", "ray")) == 2
    err = capsys.readouterr().err
    assert "error: --executor ray needs Ray, which is not installed: pip install -e '.[ray]'" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out" / "cells").exists()


def test_a_ray_study_on_cuda_needs_gpus_in_the_cluster_and_lets_ray_pick_them():
    _check_device("cpu", 0)
    _check_device("cuda", 1)
    with pytest.raises(ConfigError, match="the Ray cluster has no GPU"):
        _check_device("cuda", 0)
    with pytest.raises(ConfigError, match="Ray gives each unit its GPU; pass --device cuda"):
        _check_device("cuda:1", 2)


def test_generator_units_go_first_and_a_cached_fit_time_replaces_the_estimate():
    config, units, contexts = planned(["none", "smote", "vae"])
    seconds = [unit_seconds(config, u, contexts) for u in units]
    order = [u.cells[0][0].method for u in longest_first(units, seconds)]
    assert order == ["vae", "vae", "none", "none", "smote", "smote"]  # none before smote: the plan's order

    slow = next(u for u in units if u.cells[0][0].method == "smote")  # no fit cache: the estimate stays
    vae = [u for u in units if u.cells[0][0].method == "vae"]
    cell = vae[1].cells[0][0]
    ctx = contexts[cell.dataset]
    method = METHODS.get("vae").from_config(config.method_config("vae"), info=ctx.labels(cell.task)[1])
    split = ctx.fold(cell.task, cell.protocol, cell.seed, cell.fold)
    inputs = fit_inputs(config, cell, ctx, split, "raw")
    key, parts = fit_key(method, inputs)
    assert recorded_fit_s(method, inputs) is None
    (fits_dir() / key).mkdir(parents=True)
    (fits_dir() / key / SIDECAR).write_text(json.dumps({"inputs": parts, "fit_s": 500.0, "checksum": "x"}))
    assert recorded_fit_s(method, inputs) == 500.0
    again = [unit_seconds(config, u, contexts) for u in units]
    assert again[units.index(vae[1])] > 500 > again[units.index(vae[0])]
    assert longest_first(units, again)[0] is vae[1] and again[units.index(slow)] == seconds[units.index(slow)]


@pytest.mark.parametrize("device, gpus, expected", [("cpu", 4, (0.0, 0.0)), ("cuda", 4, (1.0, GPU_SHARE)),
                                                    ("cuda", 0, (0.0, 0.0))])
def test_a_unit_asks_for_its_threads_a_gpu_for_a_generator_fit_and_memory_for_its_data(device, gpus, expected):
    config, units, _ = planned(["none", "vae"], device=device)
    vae = next(u for u in units if u.cells[0][0].method == "vae")
    none = next(u for u in units if u.cells[0][0].method == "none")
    asked = [unit_resources(config, u, threads=2, gpus=gpus, memory=1000) for u in (vae, none)]
    assert tuple(a["num_gpus"] for a in asked) == expected
    assert all(a["num_cpus"] == 2 and a["memory"] == MEMORY_FACTOR * 1000 + MEMORY_BASE for a in asked)


def test_joining_no_cluster_is_one_line(monkeypatch):
    import ray  # make test installs it (the [ray] extra)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ExecutorError) as caught:
        executor_ray._connect(ray, build_study(None, [], {"executor": "ray", "ray_address": "auto"}))
    assert str(caught.value).startswith("--ray-address auto: cannot join a Ray cluster (")
    assert "ray start --head" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("data_dir", [True, False], ids=["data-dir", "object-store"])
def test_a_worker_reads_its_nodes_data_dir_or_the_drivers_arrays_and_returns_rows_and_files(
        tmp_path, monkeypatch, data_dir):
    config, units, contexts = planned(["none", "smote"], out=str(tmp_path / "out"),
                                      data_dir=str(tmp_path) if data_dir else None)
    unit = next(u for u in units if u.cells[0][0].method == "smote")
    fetched = []

    class FakeRay:  # what the worker asks Ray for: the driver's arrays
        @staticmethod
        def get(ref):
            fetched.append(ref)
            return contexts

    monkeypatch.setattr(executor_ray, "_CACHES", None)
    monkeypatch.setattr(executor_ray, "import_ray", lambda: FakeRay)
    result = executor_ray.bench_unit(config, unit, "s", ["ref"])
    assert result.data == (f"--data-dir {tmp_path}" if data_dir else executor_ray.OBJECT_STORE)
    assert fetched == ([] if data_dir else ["ref"])
    assert [r.status for r in result.rows] == ["ok"] and result.rows[0].method == "smote"
    assert result.files and all(name.startswith("quality/synthetic/") for name in result.files)
    assert not (tmp_path / "out").exists()  # the worker wrote nothing under --out: the driver does


def test_a_unit_larger_than_every_node_is_refused_instead_of_waiting_forever():
    class FakeRay:
        @staticmethod
        def nodes():
            return [{"Alive": True, "Resources": {"CPU": 4.0, "memory": 2.0 * 2**30}},
                    {"Alive": False, "Resources": {"CPU": 64.0, "memory": 512.0 * 2**30}}]

    executor_ray._check_fits(FakeRay, [{"num_cpus": 4, "memory": 2**30}])
    with pytest.raises(ConfigError, match=r"--threads 8: each unit asks Ray for 8 CPUs, more than any node has \(4\); "
                                          "pass --threads 4"):
        executor_ray._check_fits(FakeRay, [{"num_cpus": 8, "memory": 2**30}])
    with pytest.raises(ConfigError, match=r"3.0 GiB of memory .* more than any node offers \(2.0 GiB\)"):
        executor_ray._check_fits(FakeRay, [{"num_cpus": 1, "memory": 3 * 2**30}])


def test_ctrl_c_while_ray_starts_is_acted_on_once_it_has_started():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever an earlier test left in place
    steps = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with executor_ray._signals_deferred():
                signal.raise_signal(signal.SIGINT)
                steps.append("went on")  # the start is not cut half-way
        assert steps == ["went on"] and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
