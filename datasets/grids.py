"""9x9 electrode grids: scatter per-channel values onto the scalp map, plain or interpolated.

The maps are TorchEEG's ``*_CHANNEL_LOCATION_DICT`` layouts (TorchEEG ``torcheeg/datasets/constants``),
also used by GANSER and DE-3DGAN. Channel names match case-insensitively.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.interpolate import CloughTocher2DInterpolator

from bench.errors import ConfigError

GRID = (9, 9)

_ROWS = {
    "deap": (
        "- - - FP1 - FP2 - - -",
        "- - - AF3 - AF4 - - -",
        "F7 - F3 - FZ - F4 - F8",
        "- FC5 - FC1 - FC2 - FC6 -",
        "T7 - C3 - CZ - C4 - T8",
        "- CP5 - CP1 - CP2 - CP6 -",
        "P7 - P3 - PZ - P4 - P8",
        "- - - PO3 - PO4 - - -",
        "- - - O1 OZ O2 - - -",
    ),
    "seed": (
        "- - - FP1 FPZ FP2 - - -",
        "- - - AF3 - AF4 - - -",
        "F7 F5 F3 F1 FZ F2 F4 F6 F8",
        "FT7 FC5 FC3 FC1 FCZ FC2 FC4 FC6 FT8",
        "T7 C5 C3 C1 CZ C2 C4 C6 T8",
        "TP7 CP5 CP3 CP1 CPZ CP2 CP4 CP6 TP8",
        "P7 P5 P3 P1 PZ P2 P4 P6 P8",
        "- PO7 PO5 PO3 POZ PO4 PO6 PO8 -",
        "- - CB1 O1 OZ O2 CB2 - -",
    ),
    "amigos": (
        "- - - - - - - - -",
        "- - - AF3 - AF4 - - -",
        "F7 - F3 - - - F4 - F8",
        "- FC5 - - - - - FC6 -",
        "T7 - - - - - - - T8",
        "- - - - - - - - -",
        "P7 - - - - - - - P8",
        "- - - - - - - - -",
        "- - - O1 - O2 - - -",
    ),
}


def _parse(rows: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    cells = {}
    for r, row in enumerate(rows):
        for c, name in enumerate(row.split()):
            if name != "-":
                cells[name] = (r, c)
    return cells


LAYOUTS: dict[str, dict[str, tuple[int, int]]] = {name: _parse(rows) for name, rows in _ROWS.items()}
"""Layout name -> {channel (upper case): (row, col)}."""


def layout_cells(layout: str) -> dict[str, tuple[int, int]]:
    """The {channel: (row, col)} map of ``layout``, or a ConfigError naming the layouts."""
    if layout not in LAYOUTS:
        raise ConfigError(f"unknown grid layout {layout!r}; available: {', '.join(LAYOUTS)}")
    return LAYOUTS[layout]


def positions(ch_names: tuple[str, ...], layout: str) -> np.ndarray:
    """Grid cell of every channel.

    Returns
    -------
    ndarray of int, shape (n_channels, 2)
        (row, col) per channel.
    """
    cells = layout_cells(layout)
    missing = [ch for ch in ch_names if ch.upper() not in cells]
    if missing:
        raise ConfigError(f"channels {missing} have no cell in the {layout!r} 9x9 grid")
    return np.array([cells[ch.upper()] for ch in ch_names])


def to_grid(x: np.ndarray, ch_names: tuple[str, ...], layout: str) -> np.ndarray:
    """Place channel values on the 9x9 grid; cells without an electrode are 0.

    Parameters
    ----------
    x : ndarray, shape (n, n_channels, *rest)
        E.g. DE features (n, C, B) or raw windows (n, C, T).

    Returns
    -------
    ndarray, shape (n, *rest, 9, 9)
        E.g. (n, B, 9, 9) or (n, T, 9, 9).
    """
    pos = positions(ch_names, layout)
    moved = np.moveaxis(x, 1, -1)  # (n, *rest, C)
    out = np.zeros(moved.shape[:-1] + (GRID[0] * GRID[1],), dtype=x.dtype)
    out[..., pos[:, 0] * GRID[1] + pos[:, 1]] = moved
    return out.reshape(moved.shape[:-1] + GRID)


def from_grid(grid: np.ndarray, ch_names: tuple[str, ...], layout: str) -> np.ndarray:
    """The electrode cells of a grid, back on the channel axis: the inverse of :func:`to_grid`.

    Exact for :func:`to_grid`'s grids, and for :func:`interpolated_grid`'s too, whose interpolant
    passes through every electrode's value.

    Parameters
    ----------
    grid : ndarray, shape (n, *rest, 9, 9)
        E.g. raw-grid frames (n, T, 9, 9) or DE grids (n, B, 9, 9).

    Returns
    -------
    ndarray, shape (n, n_channels, *rest)
        E.g. (n, C, T) or (n, C, B).
    """
    if grid.ndim < 3 or grid.shape[-2:] != GRID:
        raise ConfigError(f"from_grid needs grids of shape (n, ..., {GRID[0]}, {GRID[1]}), got {grid.shape}")
    pos = positions(ch_names, layout)
    cells = grid.reshape(grid.shape[:-2] + (GRID[0] * GRID[1],))[..., pos[:, 0] * GRID[1] + pos[:, 1]]  # (n, *rest, C)
    return np.ascontiguousarray(np.moveaxis(cells, -1, 1))


@lru_cache(maxsize=16)
def _interpolation_weights(ch_names: tuple[str, ...], layout: str) -> np.ndarray:
    """Linear map from channel values to the cubic-interpolated grid, shape (C, 81)."""
    pos = positions(ch_names, layout).astype(float)
    rows, cols = np.mgrid[0 : GRID[0], 0 : GRID[1]]
    # The Clough-Tocher interpolant is linear in the values: interpolating the identity gives it.
    interp = CloughTocher2DInterpolator(pos, np.eye(len(ch_names)), fill_value=0.0)
    return interp(rows.ravel(), cols.ravel()).T  # (C, 81)


def interpolated_grid(
    x: np.ndarray, ch_names: tuple[str, ...], layout: str, transpose: bool = False
) -> np.ndarray:
    """Cubic interpolation of channel values over the grid, 0 outside the electrodes' hull.

    Equivalent to ``scipy.interpolate.griddata(..., method="cubic", fill_value=0)`` per sample
    (TorchEEG's ``ToInterpolatedGrid``), up to the 1e-6 tolerance of Clough-Tocher's gradient
    estimate, but computed for all samples at once as one matrix product.

    Parameters
    ----------
    x : ndarray, shape (n, n_channels, *rest)
    transpose : bool
        Swap rows and columns of the result, as the TorchEEG fork bundled with ESC-GAN does.

    Returns
    -------
    ndarray, shape (n, *rest, 9, 9)

    Notes
    -----
    Cells are the layout's integer (row, col) positions. TorchEEG spans its grid from the
    minimum to the maximum electrode coordinate, which differs for layouts with empty border
    rows (AMIGOS); for DEAP and SEED both agree.
    """
    weights = _interpolation_weights(tuple(ch_names), layout).astype(x.dtype)
    moved = np.moveaxis(x, 1, -1)  # (n, *rest, C)
    out = (moved @ weights).reshape(moved.shape[:-1] + GRID)
    return np.swapaxes(out, -1, -2) if transpose else out


def hull_mask(layout: str) -> np.ndarray:
    """Cells inside the electrodes' interpolation hull (ESC-GAN's generator output mask), (9, 9) bool."""
    names = tuple(layout_cells(layout))
    ones = np.ones((1, len(names)))
    return interpolated_grid(ones, names, layout)[0] != 0
