"""The shared blocks of the baseline generators: geometry, conditional backbones and the training loop."""

from __future__ import annotations

import pytest
import torch

from methods.gan.backbones import (ConditionalDecoder, ConditionalEncoder, ConditionalUNet, timestep_embedding,
                                   window_geometry)
from methods.gan.training import train_epochs

WINDOWS = {  # name: window shape
    "deap raw (32 ch, 128 Hz)": (32, 128),
    "seed raw (62 ch, 200 Hz)": (62, 200),
    "amigos raw (14 ch, 128 Hz)": (14, 128),
    "odd length (5 ch, 37 samples)": (5, 37),
    "de-grid (5 bands)": (5, 9, 9),
    "de-grid (4 bands)": (4, 9, 9),
}


def test_geometry_follows_the_window_shape():
    raw = window_geometry((32, 128), depth=2, time_kernel=9)
    assert (raw.dim, raw.channels, raw.sizes, raw.kernel) == (1, 32, ((128,), (64,), (32,)), 9)
    grid = window_geometry((5, 9, 9), depth=2, time_kernel=9)
    assert (grid.dim, grid.channels, grid.sizes, grid.kernel) == (2, 5, ((9, 9), (5, 5), (3, 3)), 3)
    assert window_geometry((62, 200), depth=3, time_kernel=7).sizes == ((200,), (100,), (50,), (25,))
    assert [grid.width_at(8, level) for level in range(4)] == [8, 8, 16, 32]
    with pytest.raises(ValueError, match="expected"):
        window_geometry((2, 3, 4, 5), depth=2, time_kernel=9)


@pytest.mark.parametrize("shape", WINDOWS.values(), ids=WINDOWS.keys())
def test_encoder_decoder_and_unet_map_windows_of_every_dataset_to_the_right_shapes(shape):
    torch.manual_seed(0)
    geometry = window_geometry(shape, depth=2, time_kernel=9)
    x, y = torch.randn(3, *shape), torch.tensor([0, 1, 2])
    encoder = ConditionalEncoder(geometry, width=4, n_classes=3, embed_dim=2, out_features=6)
    assert encoder(x, y).shape == (3, 6)
    decoder = ConditionalDecoder(geometry, width=4, n_classes=3, embed_dim=2, latent_dim=5)
    assert decoder(torch.randn(3, 5), y).shape == (3, *shape)
    unet = ConditionalUNet(geometry, width=4, n_labels=4, embed_dim=8)
    assert unet(x, torch.tensor([0, 10, 999]), y).shape == (3, *shape)


def test_the_label_changes_every_network_output_and_gets_gradients():
    torch.manual_seed(0)
    geometry = window_geometry((4, 16), depth=2, time_kernel=5)
    x, z = torch.randn(2, 4, 16), torch.randn(2, 3)
    zeros, ones = torch.zeros(2, dtype=torch.long), torch.ones(2, dtype=torch.long)
    nets = [
        (ConditionalEncoder(geometry, 4, 2, 2, 1), lambda net, y: net(x, y), "embed"),
        (ConditionalDecoder(geometry, 4, 2, 2, 3).eval(), lambda net, y: net(z, y), "embed"),
        (ConditionalUNet(geometry, 4, 3, 8), lambda net, y: net(x, torch.tensor([5, 5]), y), "label"),
    ]
    for net, call, table in nets:
        assert not torch.allclose(call(net, zeros), call(net, ones))
        call(net, ones).sum().backward()
        assert getattr(net, table).weight.grad[1].abs().sum() > 0 and getattr(net, table).weight.grad[0].abs().sum() == 0


def test_timestep_embedding_is_sinusoidal():
    emb = timestep_embedding(torch.tensor([0, 7]), 6)
    assert emb.shape == (2, 6)
    assert torch.equal(emb[0], torch.tensor([1.0, 1, 1, 0, 0, 0]))
    freqs = 10_000.0 ** (-torch.arange(3) / 3)
    assert torch.allclose(emb[1], torch.cat([torch.cos(7 * freqs), torch.sin(7 * freqs)]))


def test_train_epochs_visits_every_window_once_per_epoch_in_a_shuffled_order_and_averages_losses():
    X, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    seen = []

    def step(xb, yb, gen):
        seen.append(yb.tolist())
        return {"sum": xb.sum() / len(xb), "one": torch.tensor(1.0)}

    history = train_epochs(step, X, y, epochs=3, batch_size=4, gen=torch.Generator().manual_seed(0), device="cpu")
    assert [len(b) for b in seen] == [4, 4, 2] * 3
    epochs = [sum(seen[3 * e : 3 * e + 3], []) for e in range(3)]
    assert all(sorted(e) == list(range(10)) for e in epochs) and epochs[0] != epochs[1]
    assert history == [{"sum": pytest.approx(4.5), "one": pytest.approx(1.0)}] * 3
    again = []
    train_epochs(lambda xb, yb, gen: again.append(yb.tolist()) or {}, X, y, epochs=3, batch_size=4,
                 gen=torch.Generator().manual_seed(0), device="cpu")
    assert again == seen
