"""Every registered method and classifier passes the shared contract suite."""

import pytest

from bench.registry import CLASSIFIERS, METHODS
from bench.testing import classifier_checks, method_checks, run_checks
from bench.testing.contracts import SHAPES

METHOD_NAMES = ["none", "smote", "adasyn", "borderline-smote", "noise", "mixup", "escgan", "de3dgan"]
GENERATOR_NAMES = ["cgan", "wgan-gp", "vae", "ddpm"]
"""The baseline generators model raw windows or DE grids, as their config says: checked on both."""
CLASSIFIER_NAMES = ["svm", "esc-cnn", "eegnet", "sa-st-net", "ccnn", "dgcnn", "tsception"]


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_method_contract(name):
    run_checks(method_checks(METHODS.get(name)))


@pytest.mark.parametrize("name", GENERATOR_NAMES)
def test_generator_contract_on_raw_and_de_grid(name):
    run_checks(method_checks(METHODS.get(name), representations=("raw", "de-grid")))


@pytest.mark.parametrize("name", CLASSIFIER_NAMES)
def test_classifier_contract(name):
    run_checks(classifier_checks(CLASSIFIERS.get(name)))


def test_every_registered_component_has_a_contract_run():
    # The lists above are written out so that a new component fails here until it is added.
    assert sorted(METHODS.names()) == sorted(METHOD_NAMES + GENERATOR_NAMES)
    assert sorted(CLASSIFIERS.names()) == sorted(CLASSIFIER_NAMES)


def test_toy_data_covers_every_representation():
    from bench.components import REPRESENTATIONS

    assert set(SHAPES) == set(REPRESENTATIONS)


def test_the_suite_catches_a_broken_method():
    import numpy as np

    from bench.components import Method
    from bench.config import ComponentConfig

    class Bad(Method):
        """Asks numpy's global generator and returns one sample too few."""

        name = "bad"
        Config = ComponentConfig
        representation = "de"

        def fit(self, X, y, *, rng):
            self.X = X
            return self

        def _sample(self, counts, rng):
            n = max(sum(counts.values()) - 1, 0)
            return self.X[:n] + np.random.normal(), np.zeros(n, dtype=np.int64)

    with pytest.raises(AssertionError) as err:
        run_checks(method_checks(Bad))
    text = str(err.value)
    assert "class counts" in text and "global random state" in text
