"""``esc-cnn``: the emotion classifier behind every number of ESC-GAN's reference code."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from bench.classifiers.torch_training import TorchClassifier, TorchConfig, output_shape
from bench.config import check_positive_ints
from bench.registry import CLASSIFIERS

if TYPE_CHECKING:
    from torch import nn


def grid_trunk(in_channels: int, h: int, activation: type[nn.Module], *, kaiming: bool) -> nn.Module:
    """ESC-GAN's conv trunk: ``(in, 9, 9) -> (4h, 3, 3)``.

    Four 3x3 convolutions (padding 1) with strides 1, 2, 1, 2 and widths h, 2h, 2h, 4h, each
    followed by BatchNorm and ``activation``. Shared by the ``esc-cnn`` classifier (SELU) and the
    ESC-GAN generator's encoder and discriminator (LeakyReLU).

    Parameters
    ----------
    kaiming : bool
        Kaiming-normal initialisation of the convolution weights (classifier, discriminator);
        otherwise PyTorch's default (generator).
    """
    from torch import nn

    layers: list[nn.Module] = []
    for c_in, c_out, stride in ((in_channels, h, 1), (h, 2 * h, 2), (2 * h, 2 * h, 1), (2 * h, 4 * h, 2)):
        conv = nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1)
        if kaiming:
            nn.init.kaiming_normal_(conv.weight)
        layers += [conv, nn.BatchNorm2d(c_out), activation()]
    return nn.Sequential(*layers)


def mlp_head(n_features: int, hidden: int, n_out: int, activation: type[nn.Module], dropout: float) -> nn.Module:
    """Flatten, then two ``hidden``-wide layers with ``activation`` and dropout, then ``n_out`` outputs."""
    from torch import nn

    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(n_features, hidden), activation(), nn.Dropout(dropout),
        nn.Linear(hidden, hidden), activation(), nn.Dropout(dropout),
        nn.Linear(hidden, n_out),
    )


@CLASSIFIERS.register("esc-cnn")
class ESCClassifier(TorchClassifier):
    """ESC-GAN's evaluator: a strided SELU CNN on 9x9 band-DE grids (Zhang et al., AAAI 2024).

    Four 3x3 convolutions (padding 1), each followed by BatchNorm and SELU, take the
    ``(bands, 9, 9)`` grid through ``h`` (stride 1), ``2h`` (stride 2), ``2h`` (stride 1) and
    ``4h`` (stride 2) channels to a ``4h x 3 x 3`` map; an MLP with two SELU + dropout hidden
    layers maps its flattened features to the class logits. Convolution weights are
    Kaiming-normal initialised.

    Zhang, Zhong, Liu, "Beyond Mimicking Under-Represented Emotions: Deep Data Augmentation with
    Emotional Subspace Constraints for EEG-Based Emotion Recognition", AAAI 2024. Reference code:
    github.com/tczhangzhi/PyTorch-ESCGAN, ``models/evaluator.py`` (``ESCClassifier``), trained by
    ``train_evaluator.py`` and ``train_augment.py``.

    Input: ``de-grid`` windows, shape (n, n_bands, 9, 9). Output of ``module_``: logits,
    shape (n, n_classes).

    Parameters
    ----------
    config : ESCClassifier.Config
    info : DataInfo
    device : str

    Notes
    -----
    Deviations from the reference code (commit ``f13a724``):

    - Inputs are standardised per feature (band x grid cell) with the mean and standard deviation
      of the training windows; the reference feeds the interpolated DE grid unscaled. Cells outside
      the electrode hull (constant 0) stay 0.
    - Weight decay is one value shared by baseline and augmented runs (default 0, as in
      ``train_augment.py``); the reference baseline ``train_evaluator.py`` uses 1e-4.
    - The MLP width is its own setting ``mlp_hidden`` (reference: ``8 * hid_channels``, 1024 at
      the default width) and the dropout probability is configurable (reference: fixed 0.3).
    - The ``quick`` profile (narrower network, fewer epochs, learning rate 1e-3 so that few
      epochs still converge) is not the paper's; ``paper`` is.
    - Seeds come from the run's derived generators instead of a global ``seed_everything(42)``.
    - No mixup or ESC-GAN online editing here: that is the ``escgan`` method's ``paper`` recipe.
    """

    representation = "de-grid"
    cost_s = 3.0
    norm_axes = (0,)

    @dataclass(frozen=True)
    class Config(TorchConfig):
        """ESC classifier settings; the defaults are the reference code's.

        Parameters
        ----------
        hid_channels : int
            Width ``h`` of the first convolution; the trunk ends with ``4h`` channels.
        mlp_hidden : int
            Width of the MLP's two hidden layers.
        dropout : float
            Dropout after each hidden MLP layer.
        epochs, batch_size, lr, weight_decay
            As in :class:`~bench.classifiers.torch_training.TorchConfig` (reference: 100, 256,
            Adam 1e-4, 0).
        """

        hid_channels: int = 128
        mlp_hidden: int = 1024
        dropout: float = 0.3

        PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
            "quick": {"hid_channels": 16, "mlp_hidden": 128, "epochs": 5, "batch_size": 128, "lr": 1e-3},
            "paper": {},
        }

        def __post_init__(self) -> None:
            super().__post_init__()
            check_positive_ints(self, "hid_channels", "mlp_hidden")

        @classmethod
        def tiny(cls) -> ESCClassifier.Config:
            return cls.for_profile("quick", {"hid_channels": 2, "mlp_hidden": 8, "epochs": 2, "batch_size": 16})

        @staticmethod
        def search_space(trial: Any) -> dict[str, Any]:
            """Learning rate, weight decay, dropout and the number of epochs."""
            return {**TorchConfig.search_space(trial), "epochs": trial.suggest_int("epochs", 20, 100, step=20)}

    def build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        """Conv trunk ``(bands, 9, 9) -> (4h, 3, 3)`` and MLP head to ``n_classes`` logits."""
        from torch import nn

        h, cfg = self.config.hid_channels, self.config
        trunk = grid_trunk(input_shape[0], h, nn.SELU, kaiming=True)
        n_features = output_shape(nn.Sequential(trunk, nn.Flatten()), input_shape)[0]
        head = mlp_head(n_features, cfg.mlp_hidden, n_classes, nn.SELU, cfg.dropout)
        return nn.Sequential(OrderedDict(trunk=trunk, head=head))
