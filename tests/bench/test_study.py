import pytest

from bench.errors import ConfigError, UnknownNameError
from bench.registry import METHODS
from bench.study import DEFAULT_METHODS, DEFAULT_TRACKING_URI, StudyConfig, build_study, resolve_tracking_uri, with_runtime


def test_defaults_are_the_documented_quick_run_with_ten_matched_pairs_and_both_paper_methods():
    c = StudyConfig()
    assert c.datasets == ("synthetic",) and c.tasks == ("valence",) and c.protocols == ("trial-kfold",)
    assert c.methods == DEFAULT_METHODS and {"none", "escgan", "de3dgan"} <= set(DEFAULT_METHODS)
    assert c.classifiers == ("svm", "esc-cnn", "sa-st-net")
    assert (c.folds, c.seeds, str(c.policy), c.profile) == (5, (0, 1), "balance", "quick")
    assert c.folds * len(c.seeds) >= 10
    reader = c.reader_config("synthetic")
    assert (reader.n_subjects, reader.n_trials, reader.trial_s) == (3, 20, 20.0)
    # the study's own overrides go on top of the default size, field by field
    assert StudyConfig(dataset={"synthetic": {"trial_s": 8}}).reader_config("synthetic").n_subjects == 3


def test_a_paper_method_brings_its_own_classifier_unless_classifiers_are_named():
    assert StudyConfig(methods=("none", "escgan")).classifiers == ("svm", "esc-cnn")
    assert StudyConfig(methods=("de3dgan",)).classifiers == ("svm", "esc-cnn", "sa-st-net")
    assert StudyConfig(methods=("de3dgan",), classifiers=("svm",)).classifiers == ("svm",)
    assert build_study(None, [], {"methods": ["escgan", "de3dgan"], "classifiers": None}).classifiers == (
        "svm", "esc-cnn", "sa-st-net")


def test_yaml_then_cli_then_set(tmp_path):
    f = tmp_path / "study.yaml"
    f.write_text("folds: 4\nmethods: [none, smote]\nmethod: {smote: {k_neighbors: 2}}\n")
    c = build_study(f, ["method.smote.k_neighbors=3"], {"folds": 3, "jobs": None})
    assert c.folds == 3 and c.methods == ("none", "smote")
    assert c.method_config("smote").k_neighbors == 3


def test_overrides_of_components_outside_the_grid_are_still_checked():
    with pytest.raises(ConfigError, match="k_neighbors"):
        build_study(None, ["method.smote.k_neigbors=3"], {"methods": ["none"]})
    with pytest.raises(UnknownNameError, match="Did you mean 'smote'"):
        build_study(None, ["method.smoat.k_neighbors=3"], {})


@pytest.mark.parametrize("cli, message", [
    ({"tasks": ["valance"]}, "unknown task 'valance'"), ({"folds": 1}, "folds must be at least 2"),
    ({"profile": "huge"}, "profile"), ({"device": "tpu"}, "device"), ({"jobs": -1}, "jobs and threads must be >= 0"),
    ({"methods": ["none", "none"]}, "lists a name twice"), ({"policy": "ratio=-1"}, "ratio"),
])
def test_bad_values_fail_before_any_work(cli, message):
    with pytest.raises(ConfigError, match=message):
        build_study(None, [], cli)


def test_runtime_fields_do_not_change_what_is_computed():
    c = StudyConfig(methods=("none",))
    d = with_runtime(c, jobs=2, out="elsewhere", experiment="x", force=True)
    assert c.computed() == d.computed()
    assert StudyConfig(methods=("none",), folds=3).computed() != c.computed()
    with pytest.raises(ConfigError, match="runtime fields"):
        with_runtime(c, folds=3)


def test_the_paper_recipe_applies_only_to_methods_that_have_one():
    config = build_study(None, [], {"methods": ["none", "smote", "escgan"], "recipe": "paper"})
    assert [config.recipe_of(m) for m in config.methods] == ["default", "default", "paper"]
    assert StudyConfig(methods=("escgan",)).recipe_of("escgan") == "default"
    with pytest.raises(ConfigError, match="recipe must be one of"):
        StudyConfig(recipe="online")


def test_the_tracking_uri_is_the_setting_else_the_environment_else_mlflow_db_here(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracker:5000")
    assert resolve_tracking_uri("sqlite:///x.db") == "sqlite:///x.db"
    assert resolve_tracking_uri(None) == "http://tracker:5000"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert resolve_tracking_uri(None) == DEFAULT_TRACKING_URI == "sqlite:///mlflow.db"
    assert build_study(None, [], {}).resolved_tracking_uri == DEFAULT_TRACKING_URI


def test_the_policy_is_parsed_once_and_written_back_as_text():
    from bench.config import to_dict
    from bench.policy import Policy

    config = build_study(None, ["policy=ratio=0.5"])
    assert config.policy == Policy("ratio", ratio=0.5)
    assert to_dict(config)["policy"] == "ratio=0.5"
    assert build_study(None, [], to_dict(config)) == config
