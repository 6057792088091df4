"""DGCNN on per-channel band DE with a learnt adjacency."""

import dataclasses
import pickle
import subprocess
import sys

import numpy as np
import optuna
import pytest
import torch
from numpy.polynomial import chebyshev
from scipy.sparse.csgraph import laplacian

from bench.classifiers.dgcnn import DGCNN, ChebGraphConv, chebyshev_terms, scaled_laplacian
from bench.components import DataInfo
from bench.errors import ConfigError
from bench.registry import CLASSIFIERS
from bench.seeding import torch_rng, torch_threads
from datasets import amigos, deap, seed

BANDS = ("delta", "theta", "alpha", "beta", "gamma")


def info(ch_names=deap.CH_NAMES, n_classes=2):
    return DataInfo(sfreq=128.0, ch_names=ch_names, grid="deap", band_names=BANDS,
                    class_names=tuple(f"c{i}" for i in range(n_classes)))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """These networks are tiny: one thread is fastest, and keeps the tests quick on a busy machine."""
    with torch_threads(1):
        yield


def build(config, input_shape=(32, 5), n_classes=2):
    with torch_rng(np.random.default_rng(0)):
        return DGCNN.from_config(config, info=info()).build(input_shape, n_classes)


def n_parameters(module):
    return sum(p.numel() for p in module.parameters())


def random_adjacency(n, seed_=0):
    w = np.random.default_rng(seed_).uniform(size=(n, n))
    return (w + w.T) / 2


def toy(n=200, seed_=0):
    """Band DE (8 channels x 5 bands) of noise; class 1 has more alpha on channels 2-5."""
    rng = np.random.default_rng(seed_)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 8, 5)).astype(np.float32)
    X[:, 2:6, 2] += 1.5 * y[:, None]
    return X, y


def test_registered_on_channel_de_and_differentiable():
    assert CLASSIFIERS.get("dgcnn") is DGCNN and DGCNN.representation == "de" and DGCNN.differentiable
    code = "import sys, bench.classifiers.dgcnn; assert 'torch' not in sys.modules, 'heavy import'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_fitted_classifier_pickles():
    clf = DGCNN.from_config(DGCNN.Config.tiny(), info=info(deap.CH_NAMES[:8])).fit(*toy(n=32), rng=np.random.default_rng(0))
    X = toy(n=8, seed_=1)[0]
    assert np.array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), clf.predict_proba(X))


def test_paper_profile_is_the_default():
    c = DGCNN.Config.for_profile("paper")
    assert c == DGCNN.Config()
    assert (c.order, c.graph_features, c.conv_features, c.dropout, c.lr, c.weight_decay) == (2, 32, 32, 0.0, 1e-3, 1e-4)


def test_scaled_laplacian_is_scipy_s_normalised_laplacian_rescaled_to_eigenvalues_in_minus_1_1():
    w = random_adjacency(6)
    np.fill_diagonal(w, 0)  # scipy ignores self-loops; the network's W may have them
    lap = laplacian(w, normed=True)
    expected = 2 * lap / np.linalg.eigvalsh(lap)[-1] - np.eye(6)
    got = scaled_laplacian(torch.tensor(w)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-10)
    eig = np.linalg.eigvalsh(got)
    assert eig[-1] == pytest.approx(1.0) and eig[0] >= -1 - 1e-10


def test_an_isolated_electrode_gives_finite_values():
    w = random_adjacency(4)
    w[0, :] = w[:, 0] = 0
    assert torch.isfinite(scaled_laplacian(torch.tensor(w))).all()


def test_chebyshev_terms_are_the_chebyshev_polynomials_of_the_laplacian():
    lap = scaled_laplacian(torch.tensor(random_adjacency(5)))
    x = torch.randn(3, 5, 2, dtype=torch.float64)
    terms = chebyshev_terms(lap, x, 4)
    eigvals, vectors = np.linalg.eigh(lap.numpy())
    for k, term in enumerate(terms):
        t_k = vectors @ np.diag(chebyshev.chebval(eigvals, np.eye(4)[k])) @ vectors.T  # T_k(L) by eigen-decomposition
        np.testing.assert_allclose(term.numpy(), t_k @ x.numpy(), atol=1e-10)


def test_graph_convolution_sums_the_chebyshev_terms_times_theta():
    with torch_rng(np.random.default_rng(0)):
        conv = ChebGraphConv(6, 5, 3, order=3)
    x = torch.randn(2, 6, 5)
    with torch.no_grad():
        terms = chebyshev_terms(scaled_laplacian(conv.adjacency), x, 3)
        torch.testing.assert_close(conv(x), sum(t @ conv.theta[k] for k, t in enumerate(terms)))
    assert conv.theta.shape == (3, 5, 3) and conv.adjacency.shape == (6, 6)


def test_paper_size_parameter_count():
    # By hand, SEED: 62 electrodes x 5 bands, 3 classes, K = 2, 32 graph and 32 1x1-conv features:
    #   adjacency W         62 * 62              = 3,844
    #   theta_0, theta_1    2 * 5 * 32           =   320
    #   1x1 conv            32 * 32 + 32         = 1,056
    #   fully connected     (62 * 32) * 3 + 3    = 5,955
    #   total                                     11,175
    assert n_parameters(build(DGCNN.Config(), input_shape=(62, 5), n_classes=3)) == 11_175


@pytest.mark.parametrize("module, n_classes", [(deap, 2), (seed, 3), (amigos, 2)])
def test_logits_for_each_dataset_s_channels(module, n_classes):
    n_channels = len(module.CH_NAMES)
    net = build(DGCNN.Config.for_profile("quick"), input_shape=(n_channels, 5), n_classes=n_classes).eval()
    assert net.graph.adjacency.shape == (n_channels, n_channels)
    with torch.no_grad():
        assert net(torch.randn(3, n_channels, 5)).shape == (3, n_classes)


def test_the_adjacency_is_learnt_and_stays_non_negative_and_symmetric():
    clf = DGCNN.from_config(dataclasses.replace(DGCNN.Config.tiny(), lr=0.2, epochs=4), info=info(deap.CH_NAMES[:8]))
    start = {}

    def keep_initial(x, y):  # runs before the first optimiser step
        start.setdefault("w", clf.module_[1].graph.adjacency.detach().clone())
        return x, y

    clf.on_batch = keep_initial
    clf.fit(*toy(n=64), rng=np.random.default_rng(0))
    w0, w = start["w"], clf.module_[1].graph.adjacency.detach()
    assert torch.equal(w0, w0.T) and w0.min() >= 0
    assert (w - w0).abs().max() > 0.05  # learnt
    assert torch.equal(w, w.T) and w.min() >= 0
    assert (w == 0).any()  # the ReLU projection binds: gradients pushed some weights below 0


def test_learns_a_band_effect_on_held_out_windows():
    config = DGCNN.Config.for_profile("quick", {"epochs": 15, "batch_size": 32})
    clf = DGCNN.from_config(config, info=info(deap.CH_NAMES[:8])).fit(*toy(), rng=np.random.default_rng(0))
    X_test, y_test = toy(seed_=1)
    assert (clf.predict(X_test) == y_test).mean() > 0.85


def test_non_channel_band_windows_are_an_error():
    with pytest.raises(ConfigError, match=r"de windows of shape \(channels, bands\)"):
        build(DGCNN.Config(), input_shape=(5, 9, 9))


@pytest.mark.parametrize("field, value", [("order", 0), ("graph_features", 1.5), ("conv_features", 0),
                                          ("weight_decay", -1.0)])
def test_invalid_settings_name_the_field_and_the_value(field, value):
    with pytest.raises(ConfigError, match=rf"DGCNN.Config.{field} must be .* got {value!r}"):
        DGCNN.Config(**{field: value})


def test_every_point_of_the_search_space_is_a_valid_config():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        DGCNN.Config.for_profile("quick", DGCNN.Config.search_space(study.ask()))
