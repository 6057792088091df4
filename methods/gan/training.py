"""The one training loop of the baseline generators: epochs of shuffled mini-batches, one update per batch.

After every epoch a callback (the generator's :class:`~methods.gan.monitor.FitMonitor`) may stop it.

What an update does (a discriminator and a generator step, a VAE step, a denoising step) is the
method's; the loop only shuffles, batches, moves data to the device and averages the losses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

Step = Callable[["torch.Tensor", "torch.Tensor", "torch.Generator"], dict[str, "torch.Tensor"]]


def train_epochs(step: Step, X: torch.Tensor, y: torch.Tensor, *, epochs: int, batch_size: int,
                 gen: torch.Generator, device: str,
                 after_epoch: Callable[[int, int], bool] | None = None) -> list[dict[str, float]]:
    """Run ``step`` on every mini-batch of ``epochs`` shuffled passes over ``(X, y)``.

    Parameters
    ----------
    step : callable (x, y, gen) -> dict of str to Tensor
        One update on a batch ``x`` (b, *window shape) with labels ``y`` (b,), both on ``device``;
        returns its losses as scalar tensors (detached or not; they are only read).
    X : Tensor, shape (n, *window shape)
    y : Tensor of int64, shape (n,)
    epochs, batch_size : int
        The last batch of an epoch may be smaller.
    gen : torch.Generator
        Shuffles the windows; passed on to ``step`` for its own draws (noise, time steps).
    device : str
        Where batches go.
    after_epoch : callable (epoch, updates) -> bool, optional
        Called after every epoch (1-based) with the updates made so far; True stops the training
        (:meth:`methods.gan.monitor.FitMonitor.after_epoch`).

    Returns
    -------
    list of dict of str to float
        Per epoch, each loss averaged over the windows.
    """
    import torch

    history, updates = [], 0
    for epoch in range(1, epochs + 1):
        sums: dict[str, torch.Tensor] = {}
        for batch in torch.randperm(len(X), generator=gen).split(batch_size):
            losses = step(X[batch].to(device), y[batch].to(device), gen)
            for name, value in losses.items():  # summed on the device: no sync per batch
                sums[name] = sums.get(name, 0.0) + value.detach() * len(batch)
            updates += 1
        history.append({name: total.item() / len(X) for name, total in sums.items()})
        if after_epoch is not None and after_epoch(epoch, updates):
            break
    return history
