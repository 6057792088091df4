"""How close synthetic EEG windows are to real ones: pure, vectorised metrics.

Every function takes arrays and returns arrays or a float; none fits anything on held-out data
except :func:`tstr_score`, which by definition trains on synthetic windows and tests on real ones.
The runner decides which real windows to compare with (the training fold a method was fitted on,
the held-out test fold) and logs the scalars named in :data:`QUALITY_METRICS`.

- :func:`psd_distance` -- per-class distance between mean log-power spectra of raw windows (dB).
- :func:`mmd` -- squared maximum mean discrepancy, Gaussian RBF kernel, unbiased estimator.
- :func:`frechet_distance` -- the FID formula on feature matrices, e.g. the penultimate-layer
  features of the fold's no-augmentation classifier (ESC-GAN's reference code computes FID/KID
  that way).
- :func:`tstr_score` -- train-on-synthetic, test-on-real balanced accuracy.
- :func:`memorisation_ratio` -- a nearest-neighbour check for copies of training windows.

A metric that is undefined on the data it is given (no class in common, a class missing from the
synthetic set) is NaN rather than an exception, as in :mod:`bench.metrics`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.components import Classifier, check_labels
from bench.errors import ConfigError

QUALITY_METRICS = ("psd_distance", "mmd", "frechet", "tstr_balanced_accuracy", "memorisation_ratio")
"""The scalar quality metrics, in the order tables show them."""

PSD_FMAX = 45.0
"""Upper frequency (Hz) of :func:`psd_distance`, capped at the Nyquist frequency."""

PSD_DYNAMIC_RANGE_DB = 120.0
"""Powers more than this many dB below the loudest real power are floored there in :func:`psd_distance`."""

CHUNK = 2048
"""Windows per Welch call: bounds the segment temporaries on large folds."""


def _windows(X: np.ndarray, name: str, *, ndim: int | None = None, min_n: int = 1) -> np.ndarray:
    """``X`` as an array of at least ``min_n`` windows (and exactly ``ndim`` axes if given)."""
    X = np.asarray(X)
    if (ndim is not None and X.ndim != ndim) or X.ndim < 2 or len(X) < min_n:
        shape = "(n, n_channels, n_times)" if ndim == 3 else "(n, n_features)" if ndim == 2 else "(n, ...)"
        raise ConfigError(f"{name} must have shape {shape} with n >= {min_n}, got {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise ConfigError(f"{name} must be numeric, got dtype {X.dtype}")
    return X


def _flat(X: np.ndarray, name: str, min_n: int = 1) -> np.ndarray:
    """Windows (n, ...) flattened to (n, d) without copying when possible."""
    X = _windows(X, name, min_n=min_n)
    return X.reshape(len(X), -1)


def _same_width(a: np.ndarray, b: np.ndarray, names: str) -> None:
    if a.shape[1:] != b.shape[1:]:
        raise ConfigError(f"{names} must have the same window shape, got {a.shape[1:]} and {b.shape[1:]}; "
                          "convert both to one representation first")


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    """The caller's generator, or a fixed-seed one so that results stay reproducible."""
    return np.random.default_rng(0) if rng is None else rng


def _subsample(X: np.ndarray, max_samples: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``max_samples`` rows of ``X``, drawn without replacement (order kept)."""
    if len(X) <= max_samples:
        return X
    return X[np.sort(rng.choice(len(X), size=max_samples, replace=False))]


def _check_max_samples(max_samples: int) -> None:
    if int(max_samples) != max_samples or max_samples < 2:
        raise ConfigError(f"max_samples must be an integer >= 2, got {max_samples!r}")


def _class_sums(Z: np.ndarray, y: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class sums of ``Z`` (n, ...) as (n_classes, ...) float64, and counts (n_classes,)."""
    onehot = (y[None, :] == np.arange(n_classes)[:, None]).astype(np.float64)
    sums = onehot @ Z.reshape(len(Z), -1).astype(np.float64, copy=False)
    return sums.reshape((n_classes,) + Z.shape[1:]), onehot.sum(axis=1)


def _means(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sums divided by counts along axis 0, NaN where the count is 0."""
    shape = (-1,) + (1,) * (sums.ndim - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts.reshape(shape) > 0, sums / counts.reshape(shape), np.nan)


# --- power spectra ---------------------------------------------------------------------------


def _class_psd_sums(X: np.ndarray, y: np.ndarray, n_classes: int, sfreq: float, fmin: float, fmax: float | None,
                    nperseg: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Welch PSD of every window and channel, summed per class: freqs (f,), sums (K, ch, f), counts (K,)."""
    from scipy.signal import welch

    if not sfreq > 0:
        raise ConfigError(f"sfreq must be > 0 Hz, got {sfreq!r}")
    n_times = X.shape[-1]
    nperseg = min(n_times, int(round(sfreq))) if nperseg is None else int(nperseg)
    if not 2 <= nperseg <= n_times:
        raise ConfigError(f"nperseg must be in 2..n_times = {n_times}, got {nperseg}")
    fmax = sfreq / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= sfreq / 2:
        raise ConfigError(f"need 0 <= fmin < fmax <= Nyquist = {sfreq / 2} Hz, got fmin={fmin}, fmax={fmax}")
    freqs = np.fft.rfftfreq(nperseg, d=1.0 / sfreq)
    keep = (freqs >= fmin) & (freqs <= fmax)
    if not keep.any():
        raise ConfigError(f"no Welch frequency in [{fmin}, {fmax}] Hz at a resolution of {sfreq / nperseg} Hz; "
                          "widen the band or use longer windows")
    sums = np.zeros((n_classes, X.shape[1], int(keep.sum())))
    counts = np.zeros(n_classes)
    for start in range(0, len(X), CHUNK):  # blocks of windows, vectorised inside
        _, psd = welch(X[start:start + CHUNK].astype(np.float64, copy=False), fs=sfreq, nperseg=nperseg, axis=-1)
        block_sums, block_counts = _class_sums(psd[..., keep], y[start:start + CHUNK], n_classes)
        sums += block_sums
        counts += block_counts
    return freqs[keep], sums, counts


def class_psd(X: np.ndarray, y: np.ndarray, n_classes: int, sfreq: float, *, fmin: float = 1.0,
              fmax: float | None = None, nperseg: int | None = None,
              per_channel: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Mean Welch power spectrum of raw windows per class.

    Parameters
    ----------
    X : ndarray, shape (n, n_channels, n_times)
        Raw windows.
    y : ndarray of int, shape (n,)
        Labels in ``0 .. n_classes - 1``.
    n_classes : int
    sfreq : float
        Sampling rate, Hz.
    fmin, fmax : float
        Frequency band kept, Hz (inclusive); ``fmax=None`` is the Nyquist frequency.
    nperseg : int, optional
        Welch segment length in samples; default ``min(n_times, round(sfreq))`` (1 Hz
        resolution, several half-overlapping Hann segments per window when windows are longer
        than a second).
    per_channel : bool
        Keep the channel axis instead of averaging over it.

    Returns
    -------
    freqs : ndarray, shape (f,)
    psd : ndarray, shape (n_classes, f), or (n_classes, n_channels, f) with ``per_channel``
        Power spectral density (units of X squared per Hz, one-sided, :func:`scipy.signal.welch`
        defaults otherwise), averaged over the windows of each class (and over channels). Rows of
        classes absent from ``y`` are NaN.
    """
    X = _windows(X, "X", ndim=3)
    y = check_labels(y, n_classes, "class_psd")
    if len(y) != len(X):
        raise ConfigError(f"class_psd: X has {len(X)} windows but y has {len(y)} labels")
    freqs, sums, counts = _class_psd_sums(X, y, n_classes, sfreq, fmin, fmax, nperseg)
    psd = _means(sums, counts)
    return freqs, psd if per_channel else psd.mean(axis=1)




def psd_distance(real: np.ndarray, synthetic: np.ndarray, y_real: np.ndarray, y_syn: np.ndarray, n_classes: int,
                 sfreq: float, *, fmin: float = 1.0, fmax: float = PSD_FMAX, nperseg: int | None = None) -> float:
    """Per-class distance between the mean log-power spectra of real and synthetic raw windows, in dB.

    For every class ``k`` present in both sets, and every channel ``c``, take the Welch power
    spectra averaged over the class's windows, ``P_real[k, c, f]`` and ``P_syn[k, c, f]``
    (:func:`class_psd` with ``per_channel=True``), over ``fmin .. min(fmax, sfreq / 2)`` Hz.
    The distance is::

        mean over k, c, f of | 10 log10 P_real[k, c, f] - 10 log10 P_syn[k, c, f] |

    i.e. the mean absolute difference of the log spectra in dB, averaged over frequencies,
    channels and the classes present in both sets. 0 means identical class-mean spectra; 3 dB
    means the synthetic power is off by a factor of two on average.

    Parameters
    ----------
    real, synthetic : ndarray, shape (n_real, n_channels, n_times) and (n_syn, n_channels, n_times)
        Raw windows (the window length may differ; the frequency grids must then agree, which
        they do when both are at least ``sfreq`` samples long).
    y_real, y_syn : ndarray of int, shape (n_real,) and (n_syn,)
    n_classes : int
    sfreq : float
        Sampling rate of both sets, Hz.
    fmin, fmax : float
        Frequency band, Hz; ``fmax`` is capped at the Nyquist frequency.
    nperseg : int, optional
        Welch segment length, as in :func:`class_psd`.

    Returns
    -------
    float
        The distance in dB (>= 0); NaN when no class occurs in both sets.

    Notes
    -----
    Powers are floored at :data:`PSD_DYNAMIC_RANGE_DB` below the loudest real class-mean power, so
    that a synthetic channel with no power at all gives a large, finite distance instead of
    infinity. Sampling noise in the class-mean spectra makes two draws of one process differ by a
    fraction of a dB (about 0.4 dB for 40 two-second windows of 4 channels per class), so the
    distance is biased upwards on small sets; compare methods at equal sample sizes.
    """
    real = _windows(real, "real", ndim=3)
    synthetic = _windows(synthetic, "synthetic", ndim=3)
    if real.shape[1] != synthetic.shape[1]:
        raise ConfigError(f"real and synthetic must have the same number of channels, got {real.shape[1]} "
                          f"and {synthetic.shape[1]}")
    band = dict(fmin=fmin, fmax=min(fmax, sfreq / 2), nperseg=nperseg, per_channel=True)
    f_real, p_real = class_psd(real, y_real, n_classes, sfreq, **band)
    f_syn, p_syn = class_psd(synthetic, y_syn, n_classes, sfreq, **band)
    if f_real.shape != f_syn.shape or not np.allclose(f_real, f_syn):
        raise ConfigError(f"real and synthetic windows give different Welch frequency grids ({len(f_real)} vs "
                          f"{len(f_syn)} bins); pass nperseg explicitly or use windows of equal length")
    both = ~np.isnan(p_real[:, 0, 0]) & ~np.isnan(p_syn[:, 0, 0])
    if not both.any():
        return float("nan")
    floor = max(np.max(p_real[both]) * 10 ** (-PSD_DYNAMIC_RANGE_DB / 10), np.finfo(np.float64).tiny)
    db_real = 10 * np.log10(np.maximum(p_real[both], floor))
    db_syn = 10 * np.log10(np.maximum(p_syn[both], floor))
    return float(np.mean(np.abs(db_real - db_syn)))


# --- kernel and feature-space distances ------------------------------------------------------


def _squared_distances(Z: np.ndarray) -> np.ndarray:
    from sklearn.metrics.pairwise import euclidean_distances

    return np.maximum(euclidean_distances(Z, squared=True), 0.0)


def _median_distance(d2: np.ndarray) -> float:
    """Median Euclidean distance over the distinct pairs of a squared-distance matrix."""
    i, j = np.triu_indices(len(d2), k=1)
    return float(np.median(np.sqrt(d2[i, j])))


def median_bandwidth(X: np.ndarray, *, max_samples: int = 1000, rng: np.random.Generator | None = None) -> float:
    """Median heuristic: the median Euclidean distance between distinct windows of ``X``.

    Use it to fix one kernel per fold (e.g. from the real training windows) and pass it to
    :func:`mmd` as ``bandwidth``, so that every method of the fold is scored with the same kernel.

    Parameters
    ----------
    X : ndarray, shape (n, ...)
        Windows, flattened to (n, d); n >= 2.
    max_samples : int
        At most this many windows, drawn without replacement with ``rng``, are used.
    rng : numpy.random.Generator, optional
        Default: a generator seeded with 0.

    Returns
    -------
    float
        The bandwidth sigma (> 0) of the kernel in :func:`mmd`.
    """
    _check_max_samples(max_samples)
    Z = _subsample(_flat(X, "X", min_n=2), max_samples, _rng(rng)).astype(np.float64)
    sigma = _median_distance(_squared_distances(Z))
    if not sigma > 0:
        raise ConfigError("median_bandwidth: the median distance between windows is 0 (more than half the pairs "
                          "are identical); pass an explicit bandwidth")
    return sigma


def mmd(a: np.ndarray, b: np.ndarray, *, bandwidth: float | None = None, max_samples: int = 1000,
        rng: np.random.Generator | None = None) -> float:
    """Squared maximum mean discrepancy between two sets of windows (unbiased estimator).

    Kernel: Gaussian RBF on flattened windows, ``k(x, y) = exp(-||x - y||^2 / (2 sigma^2))``.
    With ``m`` windows ``x_i`` from ``a`` and ``n`` windows ``y_j`` from ``b`` (Gretton et al.,
    2012, "A kernel two-sample test", JMLR 13, eq. 3)::

        MMD_u^2 = sum_{i != i'} k(x_i, x_i') / (m (m - 1)) + sum_{j != j'} k(y_j, y_j') / (n (n - 1))
                  - 2 sum_{i, j} k(x_i, y_j) / (m n)

    Parameters
    ----------
    a, b : ndarray, shape (m, ...) and (n, ...)
        Windows of one representation (same window shape), flattened to (m, d) and (n, d);
        m, n >= 2.
    bandwidth : float, optional
        Kernel width sigma (> 0). Default: the median heuristic, the median Euclidean distance
        between distinct windows of the pooled (subsampled) sample ``a`` and ``b``.
    max_samples : int
        Each set larger than this is subsampled to this many windows without replacement (with
        ``rng``), so the cost stays bounded (two sets of 1000: a 2000 x 2000 kernel matrix).
    rng : numpy.random.Generator, optional
        For the subsampling. Default: a generator seeded with 0.

    Returns
    -------
    float
        The unbiased estimate of the squared MMD. It is 0 in expectation when both sets come
        from the same distribution, so small negative values occur; it grows with the
        difference between the distributions.

    Notes
    -----
    The median heuristic adapts the kernel to each pair of sets, so values computed with the
    default bandwidth are not on one scale across methods; pass one ``bandwidth`` per fold (see
    :func:`median_bandwidth`) to compare methods.
    """
    _check_max_samples(max_samples)
    a, b = _flat(a, "a", min_n=2), _flat(b, "b", min_n=2)
    _same_width(a, b, "a and b")
    rng = _rng(rng)
    a, b = _subsample(a, max_samples, rng), _subsample(b, max_samples, rng)
    m, n = len(a), len(b)
    d2 = _squared_distances(np.concatenate([a, b]).astype(np.float64))
    if bandwidth is None:
        bandwidth = _median_distance(d2)
        if not bandwidth > 0:
            raise ConfigError("mmd: the median distance of the pooled windows is 0; pass an explicit bandwidth")
    elif not bandwidth > 0:
        raise ConfigError(f"mmd: bandwidth must be > 0, got {bandwidth!r}")
    k = np.exp(-d2 / (2.0 * bandwidth**2))
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(xx + yy - 2.0 * kxy.mean())


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula).

    ``d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with the sample means and
    covariances (``ddof=1``) of the rows (Heusel et al., 2017, "GANs trained by a two time-scale
    update rule converge to a local Nash equilibrium", NeurIPS). With the penultimate-layer
    features of the fold's no-augmentation classifier it is ESC-GAN's FID.

    Parameters
    ----------
    features_a, features_b : ndarray, shape (n_a, d) and (n_b, d)
        Feature vectors, one row per window; n_a, n_b >= 2.

    Returns
    -------
    float
        The squared Fréchet distance, >= 0 up to rounding; always finite for finite features,
        including singular covariances (fewer windows than features).

    Notes
    -----
    The trace term is computed without :func:`scipy.linalg.sqrtm`. ``S_a S_b`` is similar to the
    symmetric positive semi-definite ``M = S_a^(1/2) S_b S_a^(1/2)``, so
    ``Tr (S_a S_b)^(1/2) = sum_i sqrt(lambda_i(M))``; ``S_a^(1/2)`` and the eigenvalues of ``M`` come
    from :func:`scipy.linalg.eigh`, and eigenvalues that round-off leaves slightly negative are
    clipped to 0. The reference implementation (``pytorch-fid``, ``calculate_frechet_distance``,
    which ESC-GAN's code follows) takes the general ``sqrtm`` of the non-symmetric product and then
    needs two guards: a ``1e-6`` ridge on both covariances when the root is not finite, and
    discarding an imaginary part (raising when it exceeds 1e-3). The symmetric route gives the same
    value (the tests check it against ``sqrtm``), needs neither guard, and is several times faster
    for 1024-d features. With few windows the estimate is biased upwards (noisy sample
    covariances); compare methods at equal sample sizes.
    """
    from scipy.linalg import eigh, eigvalsh

    a = _windows(features_a, "features_a", ndim=2, min_n=2).astype(np.float64)
    b = _windows(features_b, "features_b", ndim=2, min_n=2).astype(np.float64)
    _same_width(a, b, "features_a and features_b")
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    w, v = eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    trace_root = np.sqrt(np.clip(eigvalsh(root_a @ cov_b @ root_a), 0.0, None)).sum()
    diff = a.mean(axis=0) - b.mean(axis=0)
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root)


def kernel_distance(features_a: np.ndarray, features_b: np.ndarray, *, subsets: int = 100, subset_size: int = 1000,
                    rng: np.random.Generator | None = None) -> float:
    """Kernel distance of two feature sets (the KID formula): unbiased MMD^2, cubic polynomial kernel.

    ``k(x, y) = (x . y / d + 1)^3``; the unbiased MMD^2 estimate is averaged over ``subsets``
    random subsets of ``min(subset_size, n_a, n_b)`` rows of each set (Binkowski et al., 2018,
    "Demystifying MMD GANs", ICLR), as torchmetrics' ``KernelInceptionDistance`` (its defaults:
    100 subsets of 1000) that ESC-GAN's reference code logs as "kernel MMD" (``train_gan.py``).
    Unlike the Frechet distance it is unbiased in the sample size, so small folds compare fairly.

    Parameters
    ----------
    features_a, features_b : ndarray, shape (n_a, d) and (n_b, d)
        n_a, n_b >= 2.
    subsets, subset_size : int
    rng : numpy Generator, optional
        Draws the subsets.

    Returns
    -------
    float
        The mean estimate; can be slightly negative when the sets are alike (unbiased).
    """
    a = _windows(features_a, "features_a", ndim=2, min_n=2).astype(np.float64)
    b = _windows(features_b, "features_b", ndim=2, min_n=2).astype(np.float64)
    _same_width(a, b, "features_a and features_b")
    if subsets < 1 or subset_size < 2:
        raise ConfigError(f"kernel_distance needs subsets >= 1 and subset_size >= 2, got {subsets} and {subset_size}")
    rng, m, d = _rng(rng), min(subset_size, len(a), len(b)), a.shape[1]
    estimates = []
    for _ in range(subsets):
        x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
        within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        estimates.append(within - 2.0 * kxy.mean())
    return float(np.mean(estimates))


# --- usefulness and memorisation -------------------------------------------------------------


def tstr_score(make_classifier: Callable[[], Classifier], X_syn: np.ndarray, y_syn: np.ndarray, X_test: np.ndarray,
               y_test: np.ndarray, n_classes: int, *, rng: np.random.Generator) -> float:
    """Train on synthetic, test on real: balanced accuracy of a classifier fitted on synthetic windows only.

    Parameters
    ----------
    make_classifier : callable
        Returns a new, unfitted bench :class:`~bench.components.Classifier` (``fit(X, y, rng=...)``,
        ``predict_proba(X)``).
    X_syn : ndarray, shape (n_syn, *window)
        Synthetic windows, already in the classifier's representation.
    y_syn : ndarray of int, shape (n_syn,)
    X_test : ndarray, shape (n_test, *window)
        Real held-out windows in the same representation.
    y_test : ndarray of int, shape (n_test,)
    n_classes : int
    rng : numpy.random.Generator
        Passed to the classifier's ``fit``.

    Returns
    -------
    float
        Balanced accuracy on ``(X_test, y_test)`` as :func:`bench.metrics.classification_metrics`
        computes it (mean recall over the classes present in ``y_test``). NaN, without fitting,
        when the synthetic set is empty or lacks one of the ``n_classes`` classes: a classifier
        that never saw a class cannot be compared with one that did.
    """
    from bench.metrics import classification_metrics

    y_syn = check_labels(y_syn, n_classes, "tstr_score: y_syn")
    X_syn = np.asarray(X_syn)
    if len(X_syn) != len(y_syn):
        raise ConfigError(f"tstr_score: X_syn has {len(X_syn)} windows but y_syn has {len(y_syn)} labels")
    if np.unique(y_syn).size < n_classes:
        return float("nan")
    X_test = _windows(X_test, "X_test")
    _same_width(X_syn, X_test, "X_syn and X_test")
    classifier = make_classifier().fit(X_syn, y_syn, rng=rng)
    return classification_metrics(y_test, classifier.predict_proba(X_test), n_classes)["balanced_accuracy"]


def _nn_distances(queries: np.ndarray, reference: np.ndarray, n_neighbors: int = 1) -> np.ndarray:
    """Euclidean distance from each query row to its ``n_neighbors``-th nearest reference row, shape (n_queries,)."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=n_neighbors).fit(reference)
    return nn.kneighbors(queries, return_distance=True)[0][:, -1]


def memorisation_ratio(synthetic: np.ndarray, train: np.ndarray, holdout: np.ndarray, *, max_samples: int = 1000,
                       rng: np.random.Generator | None = None) -> float:
    """How much closer synthetic windows are to the training windows than unseen real windows are.

    ``ratio = median_i d(s_i, train) / median_j d(h_j, train)``, where ``d(x, train)`` is the
    Euclidean distance from a flattened window to its nearest training window, ``s_i`` are the
    synthetic windows and ``h_j`` the held-out real windows (the distance-to-closest-record
    comparison of the synthetic-data privacy literature).

    - ~1: synthetic windows are no closer to the training data than unseen real windows are, as
      expected of fresh draws from the data distribution;
    - << 1: synthetic windows sit on top of training windows (copies, or training windows plus
      small noise): memorisation;
    - > 1: synthetic windows are farther from the data than real ones (e.g. off-distribution).

    Parameters
    ----------
    synthetic : ndarray, shape (n_syn, *window)
        Windows generated by a method fitted on ``train``.
    train : ndarray, shape (n_train, *window)
        The training windows the method was fitted on (all of them: a copy of a window left out of
        the reference would go unnoticed, so ``train`` is never subsampled).
    holdout : ndarray, shape (n_holdout, *window)
        Real windows the method never saw.
    max_samples : int
        ``synthetic`` and ``holdout`` (the queries) are each subsampled to at most this many
        windows with ``rng``; the medians stay unbiased and the cost is
        ``O(2 max_samples n_train d)``.
    rng : numpy.random.Generator, optional
        Default: a generator seeded with 0.

    Returns
    -------
    float
        The ratio; NaN when the median held-out distance is 0.

    Notes
    -----
    Both distances are measured to the same reference set, so the ratio does not depend on the
    relative sizes of ``train`` and ``holdout`` (the distance to the nearest of N windows shrinks
    as N grows, which would bias a ratio of distances to two different sets). The ~1 baseline
    assumes that held-out windows come from the training distribution; when the held-out fold is
    other subjects or trials, unseen real windows are farther from the training set than fresh
    in-distribution samples, and a faithful generator scores below 1. Compare methods within a
    protocol, with ``none`` (no synthetic windows) as the reference.
    """
    _check_max_samples(max_samples)
    train = _flat(train, "train")
    synthetic, holdout = _flat(synthetic, "synthetic"), _flat(holdout, "holdout")
    _same_width(synthetic, train, "synthetic and train")
    _same_width(holdout, train, "holdout and train")
    rng = _rng(rng)
    d_syn = _nn_distances(_subsample(synthetic, max_samples, rng), train)
    d_holdout = _nn_distances(_subsample(holdout, max_samples, rng), train)
    denominator = float(np.median(d_holdout))
    return float(np.median(d_syn)) / denominator if denominator > 0 else float("nan")




def class_grid_means(X: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean window of each class, e.g. DE topomaps from ``de-grid`` windows (n, bands, 9, 9).

    Parameters
    ----------
    X : ndarray, shape (n, *window)
    y : ndarray of int, shape (n,)
    n_classes : int

    Returns
    -------
    ndarray of float64, shape (n_classes, *window)
        Row ``k`` is the mean of the windows of class ``k``; NaN for classes absent from ``y``.
    """
    X = _windows(X, "X")
    y = check_labels(y, n_classes, "class_grid_means")
    if len(y) != len(X):
        raise ConfigError(f"class_grid_means: X has {len(X)} windows but y has {len(y)} labels")
    return _means(*_class_sums(X, y, n_classes))
