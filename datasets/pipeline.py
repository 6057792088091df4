"""From a dataset name to cached windows and DE features: the one entry point the harness uses.

``prepare("deap", data_dir=...)`` reads the files one at a time, segments them, computes band
DE and caches both on disk (:mod:`datasets.cache`): segments keyed by the files' identity, the
reader and segmentation parameters; features keyed by the segments' key and every feature
parameter. A second call with the same inputs memory-maps the cache and reads no data file.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.errors import ConfigError, DataFormatError
from bench.registry import DATASETS
from datasets.cache import ArrayCache, cache_key, file_identity
from datasets.features import FeatureConfig, bandpass_trial, de_from_filtered, differential_entropy, window_normalise
from datasets.paths import cache_dir
from datasets.recording import Recording, Segments
from datasets.segment import SegmentConfig, baseline_layout, baseline_window, count_windows, cut_windows, segment

_SEGMENT_ARRAYS = ("X", "ratings", "subject", "session", "trial", "trial_id", "position", "baseline")


@dataclass(frozen=True, eq=False)
class Prepared:
    """Segments of a dataset and, optionally, their band DE features.

    Parameters
    ----------
    segments : Segments
    de : ndarray, shape (n, n_channels, n_bands), float32, or None
        Band DE per window (baseline DE already subtracted when ``segment.baseline == "de"``).
    band_names : tuple of str
    grid : str
        The dataset's 9x9 layout (see :mod:`datasets.grids`).
    notes : tuple of str
        What the reader's policies dropped, to record with results.
    key : str
        Cache key of the features (or of the segments when there are none): identifies the data.
    """

    segments: Segments
    de: np.ndarray | None
    band_names: tuple[str, ...]
    grid: str
    notes: tuple[str, ...] = field(default=())
    key: str = ""


def prepare(
    dataset: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    reader: Any = None,
    segment_config: SegmentConfig | None = None,
    feature_config: FeatureConfig | None = FeatureConfig(),
    cache_root: Path | None = None,
) -> Prepared:
    """Segments and DE features of a registered dataset, through the on-disk cache.

    Parameters
    ----------
    dataset : str
        Registered name: ``synthetic``, ``deap``, ``seed``, ``amigos``.
    data_dir : path, optional
        ``--data-dir``; defaults to ``$BENCH_DATA_DIR``.
    reader : dataclass, optional
        The dataset's reader config (e.g. ``AmigosConfig``); None uses its defaults.
    segment_config : SegmentConfig, optional
    feature_config : FeatureConfig or None
        None skips the features.
    cache_root : Path, optional
        Defaults to :func:`datasets.paths.cache_dir`.

    Returns
    -------
    Prepared
    """
    segment_config = segment_config or SegmentConfig()
    source = DATASETS.get(dataset)(reader)
    if dataset == "synthetic" and cache_root is not None:
        source.root = cache_root
    cache = ArrayCache(cache_dir(cache_root))
    files = source.files(data_dir)
    seg_key = cache_key(dataset=dataset, files=file_identity(files), reader=source.config, segment=segment_config)
    arrays, meta = cache.get_or_build("segments", seg_key, lambda: _build_segments(source, files, segment_config))
    segments = Segments(
        **{name: arrays.get(name) for name in _SEGMENT_ARRAYS},
        rating_names=tuple(meta["rating_names"]), sfreq=meta["sfreq"], ch_names=tuple(meta["ch_names"]),
        dataset=dataset,
    )
    common = dict(grid=source.info.grid, notes=tuple(meta["notes"]))
    if feature_config is None:
        return Prepared(segments=segments, de=None, band_names=(), key=seg_key, **common)
    extra = _precomputed_identity(source, data_dir, feature_config)
    de_key = cache_key(segments=seg_key, features=feature_config, precomputed=extra)
    de_arrays, _ = cache.get_or_build(
        "features", de_key,
        lambda: ({"de": _normalised(_build_features(source, files, segments, segment_config, feature_config, data_dir),
                                    feature_config.window_norm)}, {}),
    )
    return Prepared(segments=segments, de=de_arrays["de"], band_names=feature_config.band_names, key=de_key, **common)


def _build_segments(source: Any, files: list[Path], config: SegmentConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Segment file by file; arrays are returned as per-file parts (joined on disk by the cache)."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in _SEGMENT_ARRAYS}
    notes: list[str] = list(source.dataset_notes())
    offset, first = 0, None
    for path in files:
        recording = source.read_file(path)
        notes.extend(recording.notes)
        if recording.n_trials == 0:
            continue
        seg = segment(recording, config, trial_offset=offset)
        offset += recording.n_trials
        first = first or seg
        for name in _SEGMENT_ARRAYS:
            value = getattr(seg, name)
            if value is not None:
                parts[name].append(value)
    if first is None:
        raise DataFormatError(f"{source.name}: every trial was dropped by the reader's policies: {notes}")
    meta = {"rating_names": list(first.rating_names), "sfreq": first.sfreq, "ch_names": list(first.ch_names),
            "notes": notes}
    return {name: value for name, value in parts.items() if value}, meta


def _subtract_baseline_de(de: np.ndarray, baseline_de: np.ndarray, trial_id: np.ndarray) -> np.ndarray:
    """ESC-GAN's baseline removal: each window's DE minus its trial's baseline DE."""
    return (de - baseline_de[trial_id]).astype(np.float32)


def _normalised(de: np.ndarray | list[np.ndarray], mode: str) -> np.ndarray | list[np.ndarray]:
    """:func:`datasets.features.window_normalise` of the whole array or of each per-file part."""
    return [window_normalise(part, mode) for part in de] if isinstance(de, list) else window_normalise(de, mode)


def _build_features(
    source: Any, files: list[Path], segments: Segments, seg_config: SegmentConfig, config: FeatureConfig,
    data_dir: Any,
) -> np.ndarray | list[np.ndarray]:
    if config.source != "computed":
        return _precomputed_de(source, data_dir, segments, seg_config, config)
    if config.scope == "trial":
        return _trial_scope_de(source, files, seg_config, config)
    de = differential_entropy(segments.X, segments.sfreq, config)
    if seg_config.baseline == "de":
        base = differential_entropy(segments.baseline, segments.sfreq, config)
        de = _subtract_baseline_de(de, base, segments.trial_id)
    return de


def _trial_de(trial: np.ndarray, sfreq: float, window: int, stride: int, n_baseline: int, base_windows: int,
              seg_config: SegmentConfig, config: FeatureConfig) -> np.ndarray:
    """DE of one trial filtered whole, then cut: shape (n_windows, n_channels, n_bands)."""
    filtered = bandpass_trial(trial, sfreq, config)  # (B, C, T)
    n_bands, n_ch, n_samples = filtered.shape
    flat = filtered.reshape(n_bands * n_ch, n_samples)
    windows = cut_windows(flat, n_baseline, window, stride)  # (W, B*C, window)
    if base_windows and seg_config.baseline == "raw":
        windows = windows - baseline_window(flat, n_baseline, window)
    de = de_from_filtered(windows, config.de_of, config.log_base, config.ddof)  # (W, B*C)
    if seg_config.baseline == "de":
        de = de - de_from_filtered(baseline_window(flat, n_baseline, window), config.de_of, config.log_base, config.ddof)
    return de.reshape(-1, n_bands, n_ch).transpose(0, 2, 1).astype(np.float32)


def _trial_scope_de(source: Any, files: list[Path], seg_config: SegmentConfig, config: FeatureConfig) -> list[np.ndarray]:
    """Filter whole trials, then cut: re-reads the files one at a time."""
    parts = []
    for path in files:
        recording: Recording = source.read_file(path)
        if recording.n_trials == 0:
            continue
        count_windows(recording, seg_config)  # same validation as segmentation
        window, stride, n_baseline, base_windows = baseline_layout(recording, seg_config)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            parts.extend(pool.map(
                lambda x: _trial_de(x, recording.sfreq, window, stride, n_baseline, base_windows, seg_config, config),
                recording.trials,
            ))
    return parts


def _precomputed_identity(source: Any, data_dir: Any, config: FeatureConfig) -> Any:
    """Identity of the official feature files (part of the feature cache key), or None."""
    if config.source == "computed":
        return None
    if not hasattr(source, "extracted_files"):
        raise ConfigError(
            f"features.source={config.source!r} is SEED's official ExtractedFeatures; dataset "
            f"{source.name!r} has none. Use features.source='computed'"
        )
    return file_identity(source.extracted_files(data_dir))


def _precomputed_de(source: Any, data_dir: Any, segments: Segments, seg_config: SegmentConfig,
                    config: FeatureConfig) -> np.ndarray:
    """Official per-second DE aligned with the 1-s windows of the raw segments."""
    if (seg_config.window_s, seg_config.stride_s or seg_config.window_s, seg_config.baseline) != (1.0, 1.0, "none"):
        raise ConfigError(
            f"features.source={config.source!r} holds 1-s windows without baseline removal; set "
            "segment.window_s=1, segment.stride_s=None and segment.baseline='none'"
        )
    table = source.load_extracted(data_dir, kind=config.source)
    de = np.empty(segments.X.shape[:2] + (len(config.bands),), dtype=np.float32)
    ids = np.stack([segments.subject, segments.session, segments.trial], axis=1)
    counts = np.bincount(segments.trial_id)
    for start in np.flatnonzero(segments.position == 0):
        key = tuple(int(v) for v in ids[start])
        n = int(counts[segments.trial_id[start]])
        values = table.get(key)
        if values is None or len(values) < n or values.shape[2] != len(config.bands):
            shape = None if values is None else values.shape
            raise DataFormatError(
                f"seed {config.source}: subject {key[0]} session {key[1]} trial {key[2]} needs {n} windows "
                f"x {len(config.bands)} bands, the official features have {shape}"
            )
        de[start : start + n] = values[:n]
    return de
