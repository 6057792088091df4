import numpy as np
import pytest
from scipy.interpolate import griddata

from bench.errors import ConfigError
from datasets import amigos, deap, seed
from datasets.grids import hull_mask, interpolated_grid, positions, to_grid

# Written out from TorchEEG's channel-location dictionaries, in each dataset's channel order.
DEAP_CELLS = [(0, 3), (1, 3), (2, 2), (2, 0), (3, 1), (3, 3), (4, 2), (4, 0), (5, 1), (5, 3), (6, 2), (6, 0),
              (7, 3), (8, 3), (8, 4), (6, 4), (0, 5), (1, 5), (2, 4), (2, 6), (2, 8), (3, 7), (3, 5), (4, 4),
              (4, 6), (4, 8), (5, 7), (5, 5), (6, 6), (6, 8), (7, 5), (8, 5)]
AMIGOS_CELLS = [(1, 3), (2, 0), (2, 2), (3, 1), (4, 0), (6, 0), (8, 3), (8, 5), (6, 8), (4, 8), (3, 7), (2, 6),
                (2, 8), (1, 5)]
SEED_SOME = {"FP1": (0, 3), "FPZ": (0, 4), "AF4": (1, 5), "FT7": (3, 0), "TP8": (5, 8), "PO7": (7, 1),
             "CB1": (8, 2), "OZ": (8, 4), "CB2": (8, 6), "CZ": (4, 4), "F8": (2, 8)}


def test_every_deap_and_amigos_channel_is_placed_as_in_the_spec():
    assert positions(deap.CH_NAMES, "deap").tolist() == [list(c) for c in DEAP_CELLS]
    assert positions(amigos.CH_NAMES, "amigos").tolist() == [list(c) for c in AMIGOS_CELLS]


def test_seed_grid_places_all_62_channels_in_distinct_cells():
    pos = positions(seed.CH_NAMES, "seed")
    assert len({tuple(p) for p in pos.tolist()}) == 62
    for name, cell in SEED_SOME.items():
        assert tuple(pos[seed.CH_NAMES.index(name)]) == cell


def test_names_match_case_insensitively_and_unknown_channels_are_named():
    assert positions(("Fp1", "oz"), "deap").tolist() == [[0, 3], [8, 4]]
    with pytest.raises(ConfigError, match="EXG1"):
        positions(("FP1", "EXG1"), "deap")
    with pytest.raises(ConfigError, match="available"):
        positions(("FP1",), "dreamer")


def test_to_grid_scatters_values_and_zero_fills():
    x = np.arange(32 * 5, dtype=np.float32).reshape(1, 32, 5) + 1
    g = to_grid(x, deap.CH_NAMES, "deap")
    assert g.shape == (1, 5, 9, 9) and g.dtype == np.float32
    assert g[0, 2, 8, 4] == x[0, deap.CH_NAMES.index("OZ"), 2]
    assert (g[0] != 0).sum() == 32 * 5
    raw = to_grid(np.ones((3, 32, 128)), deap.CH_NAMES, "deap")
    assert raw.shape == (3, 128, 9, 9)


def test_interpolated_grid_matches_griddata_cubic():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 32, 5))
    g = interpolated_grid(x, deap.CH_NAMES, "deap")
    rows, cols = np.mgrid[0:9, 0:9]
    ref = griddata(positions(deap.CH_NAMES, "deap"), x[1, :, 3], (rows, cols), method="cubic", fill_value=0)
    np.testing.assert_allclose(g[1, 3], ref, atol=1e-5)
    for ch, (r, c) in zip(deap.CH_NAMES, DEAP_CELLS):  # exact at the electrodes
        assert g[0, 0, r, c] == pytest.approx(x[0, deap.CH_NAMES.index(ch), 0], abs=1e-6)
    np.testing.assert_array_equal(interpolated_grid(x, deap.CH_NAMES, "deap", transpose=True), g.swapaxes(-1, -2))


def test_deap_hull_mask_has_61_cells():
    mask = hull_mask("deap")
    assert mask.sum() == 61 and mask[4].all() and not mask[0, 0]
