"""Fixtures of the method tests."""

import pytest

from bench.context import context
from bench.study import StudyConfig
from tests.methods.generator_evidence import READER_SIZE


@pytest.fixture(scope="session")
def synthetic_fold(tmp_path_factory):
    """Training windows of fold 0 (trial-kfold, valence) of a small synthetic dataset: 3 subjects x 10 trials.

    Returns
    -------
    dict
        ``raw`` (n, 32, 128) and ``de-grid`` (n, 5, 9, 9) float32 windows, ``y`` (n,), ``info``.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENCH_CACHE_DIR", str(tmp_path_factory.mktemp("generator-cache")))
        ctx = context(StudyConfig(methods=("none",), classifiers=("esc-cnn",),
                                  dataset={"synthetic": {**READER_SIZE, "n_subjects": 3, "n_trials": 10}}), "synthetic")
        y, info = ctx.labels("valence")
        train = ctx.folds("valence", "trial-kfold", 0)[0].train
        return {"raw": ctx.views.real("raw", train), "de-grid": ctx.views.real("de-grid", train), "y": y[train],
                "info": info}
