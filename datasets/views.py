"""The four input representations and the conversions between them.

========== ======================== ==============================================
name       shape per window         what it is
========== ======================== ==============================================
raw        (n_channels, n_times)    the window as recorded (after baseline mode)
raw-grid   (n_times, 9, 9)          each sample's channels on the 9x9 grid, 0 elsewhere
de         (n_channels, n_bands)    band differential entropy
de-grid    (n_bands, 9, 9)          band DE interpolated over the grid (ESC-GAN's input)
========== ======================== ==============================================

Every conversion the information allows is made (:data:`STEPS`):

- ``raw <-> raw-grid``: channels placed on their grid cells, and read back from them (exact);
- ``raw -> de``: band differential entropy of the window;
- ``de <-> de-grid``: DE interpolated over the grid, and read back at the electrode cells (exact:
  the interpolant passes through every electrode's value).

So a raw-grid generator (DE-3DGAN) feeds every classifier, and a de-grid one (ESC-GAN) every DE
classifier. DE cannot become a waveform: a DE generator cannot feed a raw or raw-grid classifier,
and the runner records such a pair as ``not-applicable`` with the reason :meth:`Views.check`
gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.components import REPRESENTATIONS
from bench.errors import ConfigError, IncompatibleError
from datasets.features import FeatureConfig, differential_entropy, window_normalise
from datasets.grids import from_grid, interpolated_grid, to_grid
from datasets.pipeline import Prepared

STEPS = {"raw": ("raw-grid", "de"), "raw-grid": ("raw",), "de": ("de-grid",), "de-grid": ("de",)}
"""Representation -> those one conversion step reaches. Nothing leads back to ``raw``'s waveform from DE."""
STEPS_TEXT = "raw <-> raw-grid, raw -> de <-> de-grid"
"""How error messages state :data:`STEPS`."""


def conversion_path(src: str, dst: str) -> list[str] | None:
    """The shortest chain of steps from ``src`` to ``dst`` (both included), or None when impossible."""
    for name in (src, dst):
        if name not in REPRESENTATIONS:
            raise ConfigError(f"representation must be one of {REPRESENTATIONS}, got {name!r}")
    paths = {src: [src]}
    frontier = [src]
    while frontier:  # breadth first: the first path found to a representation is a shortest one
        here = frontier.pop(0)
        for step in STEPS[here]:
            if step not in paths:
                paths[step] = paths[here] + [step]
                frontier.append(step)
    return paths.get(dst)


def check_conversion(src: str, dst: str, features: FeatureConfig, baseline: str) -> None:
    """Raise IncompatibleError, with the reason, when synthetic ``src`` windows cannot become ``dst``.

    Needs only the study's settings, no data: ``bench run --dry-run`` plans with it.

    Parameters
    ----------
    src, dst : str
        Representations.
    features : FeatureConfig
        How the real DE is made.
    baseline : str
        The segmentation's baseline mode (``segment.baseline``).
    """
    path = conversion_path(src, dst)
    if path is None:
        raise IncompatibleError(
            f"a {src} generator cannot feed a {dst} classifier: DE cannot become a waveform "
            f"(conversions: {STEPS_TEXT})"
        )
    if ("raw", "de") in zip(path, path[1:]):
        reason = None
        if baseline == "de":
            reason = "the real DE has each trial's baseline DE subtracted (segment.baseline='de'), a synthetic raw window has no trial"
        elif features.source != "computed":
            reason = f"the real DE is the official {features.source}, which cannot be computed from a synthetic window"
        elif features.scope == "trial":
            reason = "the real DE is filtered over whole trials (features.scope='trial'), a synthetic window has no trial"
        if reason:
            raise IncompatibleError(f"synthetic {src} windows cannot become {dst}: {reason}")


@dataclass(frozen=True, eq=False)
class Views:
    """Real windows in any representation, and conversion of synthetic ones.

    Parameters
    ----------
    prepared : Prepared
        Segments (and DE features, needed for the ``de`` views) of one dataset.
    features : FeatureConfig
        How ``prepared.de`` was computed; synthetic raw windows are converted the same way.
    baseline : str
        The segmentation's baseline mode. With ``"de"`` the real DE has each trial's baseline
        DE subtracted, which a synthetic raw window (it has no trial) cannot reproduce.
    """

    prepared: Prepared
    features: FeatureConfig
    baseline: str

    @property
    def ch_names(self) -> tuple[str, ...]:
        return self.prepared.segments.ch_names

    def real(self, representation: str, index: np.ndarray | None = None) -> np.ndarray:
        """Real windows ``index`` (all when None) in ``representation``, float32.

        Returns
        -------
        ndarray, shape (n, *shape of the representation)
        """
        seg = self.prepared.segments
        take = slice(None) if index is None else np.asarray(index)
        if representation in ("raw", "raw-grid"):
            x = np.asarray(seg.X[take], dtype=np.float32)
            return x if representation == "raw" else self._raw_grid(x)
        if representation in ("de", "de-grid"):
            if self.prepared.de is None:
                raise ConfigError("the de and de-grid views need DE features; prepare the dataset with a FeatureConfig")
            de = np.asarray(self.prepared.de[take], dtype=np.float32)
            return de if representation == "de" else self._de_grid(de)
        raise ConfigError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")

    def check(self, src: str, dst: str) -> None:
        """Raise IncompatibleError, with the reason, when synthetic ``src`` cannot become ``dst``."""
        check_conversion(src, dst, self.features, self.baseline)

    def convert(self, x: np.ndarray, src: str, dst: str) -> np.ndarray:
        """Convert windows from ``src`` to ``dst`` along the allowed path.

        Parameters
        ----------
        x : ndarray, shape (n, *shape of src)

        Returns
        -------
        ndarray, shape (n, *shape of dst), float32
        """
        self.check(src, dst)
        path = conversion_path(src, dst)
        for a, b in zip(path, path[1:]):
            if (a, b) == ("raw", "de"):
                x = window_normalise(differential_entropy(np.asarray(x, dtype=np.float32), self.prepared.segments.sfreq,
                                                          self.features), self.features.window_norm)
            elif (a, b) == ("de", "de-grid"):
                x = self._de_grid(x)
            elif (a, b) == ("raw", "raw-grid"):
                x = self._raw_grid(x)
            else:  # raw-grid -> raw, de-grid -> de: the electrode cells
                x = from_grid(np.asarray(x), self.ch_names, self.prepared.grid)
        return np.asarray(x, dtype=np.float32)

    def _de_grid(self, de: np.ndarray) -> np.ndarray:
        return interpolated_grid(de, self.ch_names, self.prepared.grid).astype(np.float32)

    def _raw_grid(self, x: np.ndarray) -> np.ndarray:
        return to_grid(x, self.ch_names, self.prepared.grid)
