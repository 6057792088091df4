from dataclasses import dataclass, field

import pytest
import yaml

from bench.config import (ComponentConfig, apply_sets, config_hash, flatten, from_dict, load_yaml, parse_set, to_dict,
                          to_yaml)
from bench.errors import ConfigError
from datasets.segment import SegmentConfig


@dataclass(frozen=True)
class Inner:
    rate: float = 0.1
    names: tuple[str, ...] = ("a", "b")


@dataclass(frozen=True)
class Outer(ComponentConfig):
    epochs: int = 10
    inner: Inner = field(default_factory=Inner)
    window: float | None = None
    PROFILES = {"quick": {"epochs": 2}}


def test_from_dict_builds_nested_configs_and_tuples():
    c = from_dict(Outer, {"epochs": 3, "inner": {"names": ["x"], "rate": 1}, "window": 2})
    assert c == Outer(epochs=3, inner=Inner(rate=1.0, names=("x",)), window=2.0)


def test_round_trip_through_yaml():
    c = Outer(epochs=7, inner=Inner(rate=0.5, names=("p", "q")))
    assert from_dict(Outer, yaml.safe_load(to_yaml(c))) == c
    assert from_dict(SegmentConfig, to_dict(SegmentConfig(window_s=2.0, baseline="de"))) == SegmentConfig(2.0, None, "de")


def test_unknown_key_names_the_key_and_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"unknown key 'epoch'.*Did you mean 'epochs'"):
        from_dict(Outer, {"epoch": 3})
    with pytest.raises(ConfigError, match=r"Outer.inner: unknown key 'rat'"):
        from_dict(Outer, {"inner": {"rat": 3}})


@pytest.mark.parametrize("data, where", [({"epochs": "ten"}, "Outer.epochs"), ({"epochs": 1.5}, "Outer.epochs"),
                                         ({"inner": {"names": "x"}}, "Outer.inner.names"), ({"inner": 3}, "Outer.inner")])
def test_wrong_types_are_errors_that_name_the_field(data, where):
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        from_dict(Outer, data)


def test_dataclass_validation_errors_surface_as_config_errors():
    with pytest.raises(ConfigError, match="baseline"):
        from_dict(SegmentConfig, {"baseline": "sideways"})


def test_profiles_and_overrides():
    assert Outer.for_profile("paper").epochs == 10
    assert Outer.for_profile("quick").epochs == 2
    assert Outer.for_profile("quick", {"epochs": 5}).epochs == 5
    assert Outer.tiny() == Outer.for_profile("quick")
    with pytest.raises(ConfigError, match="profile"):
        Outer.for_profile("huge")


def test_parse_set_reads_yaml_values():
    assert parse_set("folds=3") == (["folds"], 3)
    assert parse_set("method.smote.k_neighbors=5") == (["method", "smote", "k_neighbors"], 5)
    assert parse_set("seeds=[0, 1]") == (["seeds"], [0, 1])
    assert parse_set("data_dir=null") == (["data_dir"], None)
    assert parse_set("policy=ratio=0.5") == (["policy"], "ratio=0.5")


@pytest.mark.parametrize("bad", ["folds", "=3", "a..b=1", ""])
def test_parse_set_rejects_malformed_items(bad):
    with pytest.raises(ConfigError, match="key=value"):
        parse_set(bad)


def test_apply_sets_nests_and_does_not_mutate():
    base = {"folds": 5, "method": {"smote": {"k_neighbors": 5}}}
    out = apply_sets(base, ["method.smote.k_neighbors=3", "classifier.svm.C=2.0"])
    assert out == {"folds": 5, "method": {"smote": {"k_neighbors": 3}}, "classifier": {"svm": {"C": 2.0}}}
    assert base["method"]["smote"]["k_neighbors"] == 5
    with pytest.raises(ConfigError, match="holds a value"):
        apply_sets(base, ["folds.x=1"])


def test_config_hash_is_stable_and_sensitive():
    a = {"x": 1, "y": [1, 2]}
    assert config_hash(a) == config_hash({"y": [1, 2], "x": 1})
    assert config_hash(a) != config_hash({"x": 2, "y": [1, 2]})
    assert config_hash(Outer()) == config_hash(to_dict(Outer()))


def test_flatten():
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": [1]}) == {"a.b": 1, "a.c.d": 2, "e": [1]}


def test_load_yaml_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1,\n")
    with pytest.raises(ConfigError, match="bad.yaml is not valid YAML"):
        load_yaml(bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_yaml(listing)
