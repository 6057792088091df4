"""DE-3DGAN's stage-1 generator and robust_norm (reference: 3D-UNet_GAN_Valence.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench.errors import ConfigError
from datasets.grids import layout_cells
from methods.gan.de3dgan_nets import ResidualConv3d, UNet3DGenerator, robust_norm

ELECTRODES = torch.zeros(9, 9, dtype=torch.bool)
for _row, _col in layout_cells("deap").values():
    ELECTRODES[_row, _col] = True


def _de(seconds: int, n: int = 2, seed: int = 0) -> torch.Tensor:
    """Random DE videos (n, 4, 2T, 9, 9), non-zero in every cell."""
    return torch.randn(n, 4, 2 * seconds, 9, 9, generator=torch.Generator().manual_seed(seed))


def _small_generator(seed: int = 0) -> UNet3DGenerator:
    torch.manual_seed(seed)
    return UNet3DGenerator(in_bands=4, base=4, samples_per_second=128)


def test_residual_block_keeps_sizes_and_has_biasless_convolutions_and_a_projected_skip():
    block = ResidualConv3d(3, 5)
    assert block(torch.randn(2, 3, 10, 9, 9)).shape == (2, 5, 10, 9, 9)
    convs = [m for m in block.modules() if isinstance(m, nn.Conv3d)]
    assert [c.kernel_size for c in convs] == [(3, 3, 3), (3, 3, 3), (1, 1, 1)]
    assert all(c.bias is None for c in convs)
    n_params = 27 * 3 * 5 + 27 * 5 * 5 + 3 * 5 + 2 * (2 * 5)  # two 3x3x3 convs, the skip, two affine BNs
    assert sum(p.numel() for p in block.parameters()) == n_params


@pytest.mark.parametrize("seconds", [60, 185, 47, 8])
def test_generator_turns_2t_windows_into_t_one_second_frames_for_any_trial_length(seconds):
    out = _small_generator()(_de(seconds))
    assert out.shape == (2, seconds, 128, 9, 9)
    assert torch.isfinite(out).all()


def test_intermediate_sizes_for_a_deap_trial_are_the_references():
    maps = _small_generator().features(_de(60))
    sizes = {name: tuple(m.shape[1:]) for name, m in maps.items()}
    assert sizes == {
        "enc1": (4, 120, 9, 9), "enc2": (8, 60, 4, 4), "enc3": (16, 30, 2, 2), "enc4": (32, 15, 1, 1),
        "dec3": (16, 30, 2, 2), "dec2": (8, 60, 4, 4), "dec1": (4, 120, 9, 9),
    }


def _reference_forward(g: UNet3DGenerator, x: torch.Tensor) -> torch.Tensor:
    """The reference ``Generator3D_UNet.forward`` at 442b7e2, on g's weights: fixed up1 padding, 60 s."""
    up1 = nn.ConvTranspose3d(8, 4, kernel_size=2, stride=2, output_padding=(0, 1, 1))
    up1.load_state_dict(g.up1.state_dict())
    mask = (x.abs().sum(dim=(1, 2), keepdim=True) > 0).float()
    e1 = g.enc1(x)
    e2 = g.enc2(g.pool(e1))
    e3 = g.enc3(g.pool(e2))
    e4 = g.enc4(g.pool(e3))
    d3 = g.dec3(torch.cat([g.up3(e4), e3], dim=1))
    d2 = g.dec2(torch.cat([g.up2(d3), e2], dim=1))
    d1 = g.dec1(torch.cat([up1(d2), e1], dim=1))
    out = F.interpolate(g.out(d1), size=(60, 9, 9), mode="trilinear", align_corners=False)
    return out.permute(0, 2, 1, 3, 4).contiguous() * g.alpha * mask


def test_output_size_reproduces_the_references_fixed_output_padding_on_deap():
    g = _small_generator().eval()
    x = _de(60)
    x[:, :, :, 0, 0] = 0  # a zero cell, so the input-derived mask is not all ones
    with torch.no_grad():
        torch.testing.assert_close(g(x), _reference_forward(g, x), rtol=0, atol=0)


def test_the_head_averages_the_two_half_second_windows_of_each_second():
    g = _small_generator().eval()
    x = _de(8)
    with torch.no_grad():
        video = g.out(g.features(x)["dec1"])  # (n, S, 2T, 9, 9)
        expected = 0.5 * (video[:, :, 0::2] + video[:, :, 1::2])
        torch.testing.assert_close(g(x), expected.permute(0, 2, 1, 3, 4))


def test_gradients_reach_every_parameter():
    g = _small_generator()
    g(_de(8)).square().mean().backward()
    missing = [name for name, p in g.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_alpha_is_a_learnable_scalar_initialised_to_one_that_scales_the_output():
    g = _small_generator().eval()
    assert isinstance(g.alpha, nn.Parameter) and g.alpha.requires_grad and g.alpha.shape == ()
    assert g.alpha.item() == 1.0
    x = _de(8)
    with torch.no_grad():
        before = g(x)
        g.alpha.fill_(2.5)
        torch.testing.assert_close(g(x), 2.5 * before)
    g.alpha.data.fill_(1.0)
    optimiser = torch.optim.SGD([g.alpha], lr=0.1)
    g(x).square().mean().backward()
    optimiser.step()
    assert g.alpha.item() < 1.0  # the loss shrinks with alpha


def test_an_explicit_mask_zeroes_exactly_the_cells_outside_it():
    out = _small_generator()(_de(8), mask=ELECTRODES)
    assert (out[..., ~ELECTRODES] == 0).all()
    assert (out[..., ELECTRODES] != 0).float().mean() > 0.99
    float_mask = _small_generator()(_de(8), mask=ELECTRODES.float())
    torch.testing.assert_close(float_mask, out)


def test_the_reference_input_mask_is_a_no_op_after_robust_norm():
    # Unnormalised DE, zero outside the electrodes as on the grid: the input-derived mask is the
    # 32 electrode cells. After robust_norm the empty cells hold -mean/std != 0, so it keeps all
    # 81 cells.
    g = _small_generator()
    de = _de(8) * ELECTRODES
    out = g(de)
    assert (out[..., ~ELECTRODES] == 0).all()
    assert (out[..., ELECTRODES] != 0).float().mean() > 0.99
    normalised, _, _ = robust_norm(de + 0.5 * ELECTRODES)  # shift so the clipped mean is not zero
    out = g(normalised)
    assert (out != 0).any(dim=(1, 2)).all()


@pytest.mark.parametrize("shape", [(2, 4, 15, 9, 9), (2, 4, 6, 9, 9), (4, 16, 9, 9), (2, 4, 16, 9, 6)])
def test_inputs_the_generator_cannot_handle_are_rejected(shape):
    with pytest.raises(ConfigError, match="2T"):
        _small_generator()(torch.randn(shape))


def test_a_mask_of_the_wrong_shape_is_rejected():
    with pytest.raises(ConfigError, match="mask"):
        _small_generator()(_de(8), mask=torch.ones(8, 9))


def test_reference_width_has_the_references_parameter_count():
    g = UNet3DGenerator(in_bands=4, base=32, samples_per_second=128)
    assert sum(p.numel() for p in g.parameters()) == 5_694_049


def test_robust_norm_z_scores_the_tensor():
    x = 3.0 + 7.0 * torch.randn(4, 60, 128, generator=torch.Generator().manual_seed(0))
    z, mean, std = robust_norm(x)
    assert z.shape == x.shape and mean.shape == () and std.shape == ()
    assert abs(z.mean().item()) < 1e-5
    assert z.std().item() == pytest.approx(1.0, rel=1e-4)


def test_robust_norm_clips_at_the_percentiles_so_an_outlier_does_not_inflate_the_std():
    x = torch.randn(10_000, generator=torch.Generator().manual_seed(0))
    x[17] = 1e6
    z, mean, std = robust_norm(x)
    assert std.item() < 1.0  # the clipped tensor's std; unclipped it would be about 1e4
    low, high = x.quantile(0.01), x.quantile(0.99)
    clipped = x.clamp(low, high)
    torch.testing.assert_close(z, (clipped - clipped.mean()) / (clipped.std() + 1e-6))
    assert z.max().item() == pytest.approx(((high - mean) / std).item(), rel=1e-6)
    assert z[17] == z.max()


def test_robust_norm_statistics_de_normalise_in_range_values_exactly():
    x = torch.randn(2, 40, 9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 5 + 2
    z, mean, std = robust_norm(x, low=5.0, high=95.0)
    low, high = x.quantile(0.05), x.quantile(0.95)
    restored = z * std + mean
    inside = (x >= low) & (x <= high)
    assert 0.85 < inside.double().mean() < 0.95
    torch.testing.assert_close(restored[inside], x[inside], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(restored[x < low], low.expand(int((x < low).sum())), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(restored[x > high], high.expand(int((x > high).sum())), rtol=1e-12, atol=1e-12)


def test_robust_norm_handles_tensors_too_large_for_torch_quantile():
    # torch.quantile refuses more than 2**24 elements; a batch of 8 SEED trials has about 2.2e7.
    x = torch.rand(2 ** 24 + 1, generator=torch.Generator().manual_seed(2))
    z, mean, std = robust_norm(x)
    restored = z * std + mean
    assert restored.min().item() == pytest.approx(np.percentile(x.numpy(), 1.0), abs=1e-6)
    assert restored.max().item() == pytest.approx(np.percentile(x.numpy(), 99.0), abs=1e-6)
    assert abs(z.mean().item()) < 1e-4


@pytest.mark.parametrize("low, high", [(-1.0, 99.0), (1.0, 101.0), (60.0, 40.0)])
def test_robust_norm_rejects_percentiles_out_of_order_or_range(low, high):
    with pytest.raises(ConfigError, match="percentiles"):
        robust_norm(torch.randn(10), low=low, high=high)
