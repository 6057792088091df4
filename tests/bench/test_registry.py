import pytest

from bench.errors import ConfigError, UnknownNameError
from bench.registry import DATASETS, Registry


def test_datasets_are_registered_with_descriptions():
    assert DATASETS.names() == ["amigos", "deap", "seed", "synthetic"]
    assert DATASETS.describe()["deap"].startswith("DEAP: 32 subjects")


def test_unknown_name_lists_what_exists_and_suggests_the_closest():
    with pytest.raises(UnknownNameError) as e:
        DATASETS.get("deep")
    assert "Did you mean 'deap'?" in str(e.value) and "amigos, deap, seed, synthetic" in str(e.value)


def test_duplicate_names_are_errors_and_names_are_kebab_case():
    reg = Registry("widget")

    @reg.register("a-b")
    class A:
        """An A."""

    with pytest.raises(ConfigError, match="registered twice"):
        @reg.register("a-b")
        class B:
            pass

    with pytest.raises(ConfigError, match="kebab-case"):
        reg.register("Bad_Name")
    assert reg.get("a-b") is A and A.name == "a-b" and "a-b" in reg


def test_the_five_registries_hold_their_components():
    from bench.registry import ATTACKS, CLASSIFIERS, DATASETS, METHODS, PROTOCOLS

    assert {"synthetic", "deap", "seed", "amigos"} <= set(DATASETS.names())
    assert {"none", "smote", "mixup"} <= set(METHODS.names())
    assert {"svm", "esc-cnn", "eegnet"} <= set(CLASSIFIERS.names())
    assert {"trial-kfold", "loso", "paper-escgan"} <= set(PROTOCOLS.names())
    assert "none" in ATTACKS.names()


def test_temporarily_registered_components_disappear_afterwards():
    from bench.registry import METHODS

    class Extra:
        """A plug-in."""

    with METHODS.temporarily("extra", Extra):
        assert METHODS.get("extra") is Extra
    assert "extra" not in METHODS
