"""The fit cache: a second run loads every generator fit, and what must invalidate an entry does."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench import fit_cache
from bench.cli import _parser
from bench.fit_cache import FitInputs, fit_key, fits_dir, load_or_fit
from bench.registry import METHODS
from bench.runner import run_study
from bench.study import build_study
from bench.testing.contracts import INFO
from tests.bench.spies import SEEN, SpyMethod, seen

TINY = ["dataset.synthetic.n_subjects=4", "dataset.synthetic.n_trials=6", "dataset.synthetic.trial_s=4"]
SCORES = ["method", "classifier", "fold", "cell_key", "balanced_accuracy", "accuracy", "auroc", "n_synthetic",
          "method.offset"]
"""Columns the same fit must reproduce, loaded or fitted again: the cell, its scores, what the method reports."""
RESULTS = [*SCORES, "fit_s"]
"""What a loaded fit reproduces: also the original fit's seconds."""


class CountingMethod(SpyMethod):
    """A cached spy: its fitted state (class means plus an offset drawn from the fit's rng) shapes its samples."""

    cache_fit = True

    def _fit(self, X, y, *, rng):
        super()._fit(X, y, rng=rng)
        offset = rng.normal()
        self.means_ = np.stack([X[y == c].mean(axis=0) for c in range(self.info.n_classes)]) + offset
        self.stats_ = {"offset": offset}
        return self

    def _sample(self, counts, rng):
        classes = sorted(counts)
        y = np.repeat(np.array(classes, dtype=np.int64), [counts[c] for c in classes])
        return self.means_[y] + rng.normal(scale=0.1, size=(len(y),) + self.means_.shape[1:]), y


class CountingPaperMethod(CountingMethod):
    """A cached spy with a paper recipe: it trains the classifier on the real windows."""

    paper_recipe = True

    def paper_incompatibility(self, classifier):
        return None

    def train_paper(self, classifier, X, y, *, rng):
        classifier.fit(X, y, rng=rng)


def study(tmp_path, name, *sets, **cli):
    cli = {"methods": ["counting"], "classifiers": ["svm"], "folds": 2, "seeds": [0], "jobs": 1, "quality": False,
           "out": str(tmp_path / name), "tracking_uri": f"sqlite:///{tmp_path}/mlflow.db", **cli}
    return build_study(None, TINY + list(sets), cli)


def run(config):
    """Run a study (a new one keeps no fit of an earlier one in memory)."""
    SEEN.clear()
    table = run_study(config).table
    return table, len(seen("method.fit"))


@pytest.fixture
def counting():
    with METHODS.temporarily("counting", CountingMethod):
        yield


def entries() -> list[Path]:
    return sorted(p for p in fits_dir().iterdir() if not p.name.startswith(".")) if fits_dir().is_dir() else []


def test_a_second_run_loads_every_fit_and_gives_the_same_results(tmp_path, counting):
    first, fits = run(study(tmp_path, "a", quality=True))
    assert fits == 2 and len(entries()) == 2  # one entry per fold
    assert (first["status"] == "ok").all() and (first["n_synthetic"] > 0).all() and "fit_load_s" not in first
    second, fits = run(study(tmp_path, "b", quality=True))
    assert fits == 0
    assert first[RESULTS].equals(second[RESULTS])
    quality = [c for c in first if c.startswith("quality.")]
    assert quality and first[quality].equals(second[quality])
    assert (second["fit_load_s"] >= 0).all()


def test_no_fit_cache_fits_again_and_does_not_touch_the_cache(tmp_path, counting):
    first, _ = run(study(tmp_path, "a"))
    stored = {p: (p / fit_cache.PAYLOAD).stat().st_mtime_ns for p in entries()}
    again, fits = run(study(tmp_path, "b", fit_cache=False))
    assert fits == 2 and "fit_load_s" not in again
    assert first[SCORES].equals(again[SCORES])  # the cache changes speed, not results (nor cell keys)
    assert {p: (p / fit_cache.PAYLOAD).stat().st_mtime_ns for p in entries()} == stored


def test_the_paper_recipe_fits_through_the_cache_too(tmp_path):
    with METHODS.temporarily("counting", CountingPaperMethod):
        first, fits = run(study(tmp_path, "a", recipe="paper"))
        assert fits == 2 and (first["recipe"] == "paper").all()
        second, fits = run(study(tmp_path, "b", recipe="paper"))
    assert fits == 0 and (second["fit_load_s"] >= 0).all()
    assert first[RESULTS].equals(second[RESULTS])


def _damage(entry: Path, how: str) -> None:
    path = entry / fit_cache.PAYLOAD
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[:100])
    else:
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(255 - b for b in data[middle : middle + 64]) + data[middle + 64 :])


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bench.fit_cache"]


def test_a_corrupt_or_truncated_entry_is_warned_about_removed_and_rebuilt(tmp_path, counting, caplog):
    first, _ = run(study(tmp_path, "a"))
    damaged = entries()
    for entry, how in zip(damaged, ("overwrite", "truncate")):
        _damage(entry, how)
    with caplog.at_level(logging.WARNING, logger="bench.fit_cache"):
        second, fits = run(study(tmp_path, "b"))
    assert fits == 2
    for entry in damaged:  # one line each, naming the entry, the rule and what happens
        (warning,) = [w for w in _warnings(caplog) if str(entry) in w]
        assert "method.pt does not match the checksum in entry.json" in warning and "fitting again" in warning
    assert first[SCORES].equals(second[SCORES])
    _, fits = run(study(tmp_path, "c"))
    assert fits == 0  # the rebuilt entries are whole


def test_an_entry_of_other_code_is_never_used(tmp_path, counting, monkeypatch, caplog):
    run(study(tmp_path, "a"))
    with monkeypatch.context() as patch:
        patch.setattr(fit_cache, "code_version", lambda cls: "other code")
        _, fits = run(study(tmp_path, "b"))
    assert fits == 2 and len(entries()) == 4  # other keys
    # An entry whose recorded inputs differ from its key's (e.g. copied from another checkout) is rebuilt.
    sidecars = {e: json.loads((e / fit_cache.SIDECAR).read_text()) for e in entries()}
    other, sidecar = next((e, s) for e, s in sidecars.items() if s["inputs"]["code"] != "other code")
    sidecar["inputs"]["code"] = "other code"
    (other / fit_cache.SIDECAR).write_text(json.dumps(sidecar))
    with caplog.at_level(logging.WARNING, logger="bench.fit_cache"):
        _, fits = run(study(tmp_path, "c"))
    assert fits == 1
    (warning,) = _warnings(caplog)
    assert str(other) in warning and "entry.json was written for other inputs" in warning


def _inputs(**changes) -> FitInputs:
    fields = {"method": "cgan", "representation": "raw", "data": "data-key", "labels": {"task": "valence"},
              "split": ("synthetic", "valence", "trial-kfold", 0, "fold-0"), "train": "train-hash",
              "rng": (0, "synthetic", "valence", "trial-kfold", 0, "fold-0", "cgan", "fit"), **changes}
    return FitInputs(**fields)


def _cgan(device="cpu", **config):
    cls = METHODS.get("cgan")
    return cls.from_config(replace(cls.Config.tiny(), **config), info=INFO, device=device)


def test_the_key_changes_with_config_fold_seed_and_extra_fields_but_not_the_device():
    key, parts = fit_key(_cgan(), _inputs())
    assert fit_key(_cgan(epochs=3), _inputs())[0] != key
    assert fit_key(_cgan(), _inputs(split=("synthetic", "valence", "trial-kfold", 0, "fold-1"),
                                    train="other-hash"))[0] != key
    assert fit_key(_cgan(), _inputs(rng=(1, "other")))[0] != key
    assert fit_key(_cgan(), _inputs(extra={"fit_budget": 60}))[0] != key
    assert fit_key(_cgan(device="cuda:1"), _inputs()) == (key, parts)
    assert parts["class"] == "methods.cgan.ConditionalGan" and parts["code"] == fit_cache.code_version(type(_cgan()))
    assert "cpu" not in json.dumps(parts) and "device" not in json.dumps(parts)


def test_the_code_version_changes_with_every_source_it_covers(tmp_path, monkeypatch):
    sources = ["methods/a.py", "methods/gan/b.py", "bench/components.py"]
    for name in sources:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    monkeypatch.setattr(fit_cache, "_SOURCE_ROOT", tmp_path)

    def version():
        fit_cache._sources_hash.cache_clear()  # sources are read once per process
        return fit_cache.code_version(CountingMethod)

    versions = [version()]
    for name in sources:
        (tmp_path / name).write_text("x = 2\n")
        versions.append(version())
    monkeypatch.setattr(fit_cache, "CODE_VERSION", -1)  # the data code's version
    versions.append(version())
    assert len(set(versions)) == len(versions)


def test_writers_of_one_key_at_once_leave_one_whole_entry(tmp_path, caplog):
    methods = [_cgan(epochs=1 + i) for i in range(6)]  # different objects, so different bytes
    barrier = threading.Barrier(len(methods))
    key, parts = fit_key(methods[0], _inputs())

    def write(method):
        barrier.wait()
        fit_cache._store(tmp_path / key, method, parts, 1.0)

    threads = [threading.Thread(target=write, args=(m,)) for m in methods]
    with caplog.at_level(logging.WARNING, logger="bench.fit_cache"):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        loaded = fit_cache._load(tmp_path / key, parts, "cpu")
    assert loaded is not None and not caplog.records  # the first rename won, the others discarded their copies
    assert [p.name for p in tmp_path.iterdir()] == [key]


def test_a_method_without_cache_fit_is_never_stored(tmp_path):
    calls = []
    method = METHODS.get("smote").from_config(METHODS.get("smote").Config(), info=INFO)
    fitted = load_or_fit(method, _inputs(), lambda: calls.append(1) or 2.0, root=tmp_path)
    assert fitted.fit_s == 2.0 and fitted.load_s is None and fitted.method is method and calls == [1]
    assert not any(tmp_path.iterdir())


def test_no_fit_cache_on_the_command_line():
    for command in (["run"], ["tune", "--method", "cgan", "--classifier", "svm"]):
        assert _parser().parse_args([*command, "--no-fit-cache"]).fit_cache is False
        assert _parser().parse_args(command).fit_cache is None  # the config's default: on
    assert build_study(None, [], {"fit_cache": False}).fit_cache is False
    assert "fit_cache" not in build_study(None, [], {}).computed()  # not hashed into any cell
