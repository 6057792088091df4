"""Speed of the data layer on a DEAP-size dataset (run by hand, never by the tests).

Builds a synthetic dataset with DEAP's real size and format (32 subjects x 40 trials x 40
channels x 8064 samples, Python-2 pickles), then times:

* cold: reading every file, cutting 76,800 one-second windows, 5-band DE, writing the cache;
* warm: the same call again, served from the cache;
* DE alone, vectorised, against two straightforward loops over scipy filters, timed on a sample
  of windows and extrapolated: per window and band with the channels in one ``lfilter`` call,
  and per window, channel and band designing the filter on every call (TorchEEG's
  ``BandDifferentialEntropy`` way).

Usage::

    python benchmarks/datasets_speed.py [--subjects 32] [--reference-windows 200] [--out benchmarks/out]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import signal

from datasets.features import FeatureConfig, differential_entropy
from datasets.pipeline import prepare
from datasets.synthetic import Synthetic, SyntheticConfig


def loop_per_band(x: np.ndarray, sfreq: float, config: FeatureConfig) -> np.ndarray:
    """Per window and band, channels filtered together, filters designed once."""
    filters = [signal.butter(config.order, [lo, hi], btype="bandpass", fs=sfreq) for _, lo, hi in config.bands]
    out = np.empty(x.shape[:2] + (len(filters),))
    for i in range(x.shape[0]):
        for b, (num, den) in enumerate(filters):
            out[i, :, b] = 0.5 * np.log(2 * np.pi * np.e * signal.lfilter(num, den, x[i], axis=-1).var(axis=-1))
    return out


def loop_per_channel(x: np.ndarray, sfreq: float, config: FeatureConfig) -> np.ndarray:
    """Per window, channel and band, designing the filter on every call (TorchEEG's way)."""
    out = np.empty(x.shape[:2] + (len(config.bands),))
    for i in range(x.shape[0]):
        for c in range(x.shape[1]):
            for b, (_, lo, hi) in enumerate(config.bands):
                num, den = signal.butter(config.order, [lo, hi], btype="bandpass", fs=sfreq)
                out[i, c, b] = 0.5 * np.log(2 * np.pi * np.e * signal.lfilter(num, den, x[i, c]).var())
    return out


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=32)
    parser.add_argument("--reference-windows", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()

    data_root = args.out / "data"
    synthetic = Synthetic(SyntheticConfig(n_subjects=args.subjects, n_trials=40, trial_s=60.0), root=data_root)
    _, t_generate = timed(synthetic.files)
    data_dir = synthetic.folder()  # holds data_preprocessed_python/ like a real DEAP download

    cache = Path(tempfile.mkdtemp(prefix="bench-speed-"))
    try:
        cold, t_cold = timed(prepare, "deap", data_dir=data_dir, cache_root=cache)
        warm, t_warm = timed(prepare, "deap", data_dir=data_dir, cache_root=cache)
        n = len(cold.segments)
        assert np.array_equal(cold.de, warm.de), "warm cache returned different features"

        windows = np.asarray(cold.segments.X)
        _, t_fast = timed(differential_entropy, windows, 128.0, FeatureConfig())
        sample = windows[: args.reference_windows]
        rates = {}
        for loop in (loop_per_band, loop_per_channel):
            ref, t_ref = timed(loop, sample, 128.0, FeatureConfig())
            np.testing.assert_allclose(ref, cold.de[: len(sample)], atol=2e-3)  # same numbers, other filter form
            rates[loop.__name__] = len(sample) / t_ref
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    fast_rate = n / t_fast
    results = {
        "windows": n,
        "generate_s": round(t_generate, 1),
        "cold_s": round(t_cold, 2),
        "warm_s": round(t_warm, 3),
        "de_vectorised_s": round(t_fast, 2),
        "de_vectorised_windows_per_s": round(fast_rate),
        **{f"{name}_windows_per_s": round(rate, 1) for name, rate in rates.items()},
        **{f"speed_up_vs_{name}": round(fast_rate / rate, 1) for name, rate in rates.items()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "datasets_speed.json").write_text(json.dumps(results, indent=1))
    for key, value in results.items():
        print(f"{key:<32}{value}")


if __name__ == "__main__":
    main()
