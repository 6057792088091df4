import numpy as np
import pytest

from bench.errors import ConfigError
from bench.policy import Policy, proportional_split


def labels(*counts):
    return np.repeat(np.arange(len(counts)), counts)


def test_balance_tops_every_present_class_up_to_the_largest():
    assert Policy.parse("balance").requests(labels(5, 2, 0, 1), 4) == {0: 0, 1: 3, 2: 0, 3: 4}


def test_none_asks_for_nothing():
    assert Policy.parse("none").requests(labels(5, 2), 3) == {0: 0, 1: 0, 2: 0}


def test_ratio_shares_the_total_in_proportion_with_largest_remainders():
    # 0.5 * 10 = 5 windows; quotas 3.5 and 1.5; the one left over goes to the first tie
    assert Policy.parse("ratio=0.5").requests(labels(7, 3), 2) == {0: 4, 1: 1}
    assert Policy.parse("ratio=1").requests(labels(6, 0, 3), 3) == {0: 6, 1: 0, 2: 3}


@pytest.mark.parametrize("ratio", [0.1, 0.33, 0.5, 1.0, 2.7])
@pytest.mark.parametrize("counts", [(7, 3), (1, 1, 1), (50, 3, 0, 11), (1, 99)])
def test_ratio_total_is_exact_and_never_asks_for_an_unseen_class(ratio, counts):
    req = Policy("ratio", ratio=ratio).requests(labels(*counts), len(counts))
    assert sum(req.values()) == round(ratio * sum(counts))
    assert all(req[k] == 0 for k, c in enumerate(counts) if c == 0)


def test_proportional_split_stays_close_to_the_exact_quota():
    shares = proportional_split(100, np.array([1, 1, 1]))
    assert shares.sum() == 100 and shares.tolist() == [34, 33, 33]


def test_counts_are_explicit_sorted_and_zero_elsewhere():
    policy = Policy.parse("counts=1:50, 0:100")
    assert policy.counts == ((0, 100), (1, 50))
    assert policy.requests(labels(5, 2, 1), 3) == {0: 100, 1: 50, 2: 0}


def test_counts_for_a_class_without_training_windows_are_refused():
    with pytest.raises(ConfigError, match="class 1, which has no training windows"):
        Policy.parse("counts=0:10,1:5").requests(labels(5, 0), 2)
    with pytest.raises(ConfigError, match="asked for class 3, but classes are 0..1"):
        Policy.parse("counts=3:5").requests(labels(5, 5), 2)


@pytest.mark.parametrize("text", ["balance", "none", "ratio=0.5", "ratio=2.0", "ratio=0.125", "counts=0:100,1:50", "counts=2:0"])
def test_parse_round_trips(text):
    policy = Policy.parse(text)
    assert str(policy) == text and Policy.parse(str(policy)) == policy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("balanced", "is not understood; accepted forms: 'balance', 'ratio=R'"),
        ("", "is not understood"),
        ("none=3", "is not understood"),
        ("ratio", "is not understood"),
        ("ratio=abc", "ratio that is not a number"),
        ("ratio=0", "finite number > 0, got 0.0"),
        ("ratio=-1", "finite number > 0"),
        ("ratio=inf", "finite number > 0"),
        ("ratio=nan", "finite number > 0"),
        ("counts=0:a", "item '0:a', which is not class:count"),
        ("counts=0", "item '0', which is not class:count"),
        ("counts=0:1,0:2", "name a class twice"),
        ("counts=-1:3", r"\(-1, 3\) is not a \(class, count\) pair of non-negative integers"),
    ],
)
def test_bad_policies_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        Policy.parse(text)


def test_fields_must_fit_the_kind():
    with pytest.raises(ConfigError, match="ratio is given exactly for kind 'ratio'"):
        Policy("balance", ratio=0.5)
    with pytest.raises(ConfigError, match="counts are given exactly for kind 'counts'"):
        Policy("counts")
    with pytest.raises(ConfigError, match="kind must be one of"):
        Policy("smote")


def test_requests_check_the_training_labels():
    with pytest.raises(ConfigError, match="y_train is empty"):
        Policy.parse("balance").requests(np.array([], np.int64), 2)
    with pytest.raises(ConfigError, match="labels must be in 0..1"):
        Policy.parse("balance").requests(np.array([0, 2]), 2)
