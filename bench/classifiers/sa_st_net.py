"""``sa-st-net``: DE-3DGAN's classifier, an attention-gated STNet on raw 1-s frames over the 9x9 grid.

The network is assembled from module-level builders so that DE-3DGAN's critic reuses the same
body: :func:`sa_st_body` (convolutions and attention), :func:`sa_st_features` (the 1024-d
penultimate features), :func:`sa_st_network` (body, features and a linear output) and
:func:`sa_st_critic` (the dropout-free network with one score). :func:`logits_and_features` runs
a network once and returns both its logits and its features.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bench.classifiers.torch_training import TorchClassifier, TorchConfig
from bench.config import check_positive_ints, check_width
from bench.errors import ConfigError
from bench.lazy import lazy_attributes
from bench.registry import CLASSIFIERS

if TYPE_CHECKING:
    import torch
    from torch import nn

WIDTHS = (256, 128, 64, 32, 16)
"""Output channels of L1, L2, L3, L4 and the inception layer L5 at ``width`` 1."""
SE_REDUCTION = 4
"""Channel reduction of the squeeze-and-excitation block."""
ATTENTION_KERNEL = 7
"""Kernel size of the spatial attention's convolution."""
GRID = (9, 9)
"""Electrode grid of DE-3DGAN's frames, which the critic assumes."""


def scaled_widths(width: float) -> tuple[int, ...]:
    """Channels of L1-L5 at ``width`` times :data:`WIDTHS`, rounded and at least 1."""
    return tuple(max(1, round(c * width)) for c in WIDTHS)


@functools.cache
def _attention_classes() -> dict[str, type[nn.Module]]:
    import torch
    from torch import nn

    class SummedInception(nn.Module):
        """Three parallel same-padded convolutions (1x1, 3x3, 5x5) whose outputs are summed.

        Parameters
        ----------
        in_channels, out_channels : int

        Shapes: (n, in_channels, H, W) -> (n, out_channels, H, W).
        """

        def __init__(self, in_channels: int, out_channels: int) -> None:
            super().__init__()
            self.conv1x1 = nn.Conv2d(in_channels, out_channels, 1)
            self.conv3x3 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
            self.conv5x5 = nn.Conv2d(in_channels, out_channels, 5, padding=2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv1x1(x) + self.conv3x3(x) + self.conv5x5(x)

    class SEBlock(nn.Module):
        """Squeeze-and-excitation: scale each channel by a gate in (0, 1) computed from all channels.

        Global average pool -> 1x1 conv to ``max(1, channels // reduction)`` -> SELU -> 1x1 conv
        back to ``channels`` -> sigmoid; the input is multiplied by the gate.

        Parameters
        ----------
        channels, reduction : int

        Shapes: (n, channels, H, W) -> (n, channels, H, W); the gate is (n, channels, 1, 1).
        """

        def __init__(self, channels: int, reduction: int) -> None:
            super().__init__()
            hidden = max(1, channels // reduction)
            self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, hidden, 1), nn.SELU(),
                                      nn.Conv2d(hidden, channels, 1), nn.Sigmoid())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.gate(x)

    class SpatialAttention(nn.Module):
        """CBAM spatial attention: scale each grid cell by a gate in (0, 1).

        The channel-wise maximum and mean maps go through one same-padded ``kernel x kernel``
        convolution (2 -> 1 channels, no bias) and a sigmoid; the input is multiplied by the gate.

        Parameters
        ----------
        kernel : int
            Odd kernel size.

        Shapes: (n, C, H, W) -> (n, C, H, W); the gate is (n, 1, H, W).
        """

        def __init__(self, kernel: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 1, kernel, padding=kernel // 2, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            maps = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
            return x * torch.sigmoid(self.conv(maps))

    classes = {"SummedInception": SummedInception, "SEBlock": SEBlock, "SpatialAttention": SpatialAttention}
    for name, cls in classes.items():
        cls.__module__, cls.__qualname__ = __name__, name
    return classes


__getattr__ = lazy_attributes(__name__, {name: (lambda n=name: _attention_classes()[n])
                                         for name in ("SummedInception", "SEBlock", "SpatialAttention")})


def _drop_selu(dropout: float, suffix: str) -> list[tuple[str, nn.Module]]:
    """Named Dropout (left out at probability 0) and SELU layers, ``drop<suffix>`` and ``act<suffix>``."""
    from torch import nn

    return ([(f"drop{suffix}", nn.Dropout(dropout))] if dropout > 0 else []) + [(f"act{suffix}", nn.SELU())]


def sa_st_body(in_channels: int, width: float = 1.0, dropout: float = 0.5) -> nn.Sequential:
    """SA-ST-Net's convolutional body: ``(n, in_channels, H, W) -> (n, c5, H, W)``, c5 = 16 at width 1.

    All convolutions have stride 1, "same" padding and biases; no pooling, no normalisation.
    With ``c = scaled_widths(width)`` (``(256, 128, 64, 32, 16)`` at width 1):

    ========= ================================================================ ==============
    name      layer                                                            output
    ========= ================================================================ ==============
    conv1     Conv2d in -> c1, 3x3; then Dropout + SELU (``drop1``, ``act1``)  (c1, H, W)
    conv2     Conv2d c1 -> c2, 5x5; Dropout + SELU                             (c2, H, W)
    conv3     Conv2d c2 -> c3, 5x5; Dropout + SELU                             (c3, H, W)
    depthwise Conv2d c3 -> c3, 5x5, groups c3 (L4, first half)                 (c3, H, W)
    pointwise Conv2d c3 -> c4, 1x1 (L4, second half); Dropout + SELU           (c4, H, W)
    inception 1x1, 3x3 and 5x5 convolutions c4 -> c5, summed                   (c5, H, W)
    se        squeeze-and-excitation channel gate, reduction 4                 (c5, H, W)
    attention spatial gate from channel max and mean maps, 7x7 conv            (c5, H, W)
    ========= ================================================================ ==============

    Parameters
    ----------
    in_channels : int
        Input channels: the time samples of a frame (128 for a 1-s frame at 128 Hz).
    width : float
        Multiplier of every layer's channels.
    dropout : float
        Dropout probability before each SELU; at 0 the dropout layers are left out (DE-3DGAN's
        critic, whose "drop" is just SELU).

    Returns
    -------
    nn.Sequential
        Named layers as in the table (``drop*`` absent when ``dropout`` is 0).
    """
    from torch import nn

    classes = _attention_classes()
    c1, c2, c3, c4, c5 = scaled_widths(width)
    stages = [
        [("conv1", nn.Conv2d(in_channels, c1, 3, padding=1))],
        [("conv2", nn.Conv2d(c1, c2, 5, padding=2))],
        [("conv3", nn.Conv2d(c2, c3, 5, padding=2))],
        [("depthwise", nn.Conv2d(c3, c3, 5, padding=2, groups=c3)), ("pointwise", nn.Conv2d(c3, c4, 1))],
    ]
    layers: list[tuple[str, nn.Module]] = []
    for i, convs in enumerate(stages, start=1):
        layers += convs + _drop_selu(dropout, str(i))
    layers += [("inception", classes["SummedInception"](c4, c5)), ("se", classes["SEBlock"](c5, SE_REDUCTION)),
               ("attention", classes["SpatialAttention"](ATTENTION_KERNEL))]
    return nn.Sequential(OrderedDict(layers))


def sa_st_features(n_inputs: int, hidden: int = 1024, dropout: float = 0.5) -> nn.Sequential:
    """Head up to the features: ``(n, C, H, W) -> (n, hidden)``.

    Dropout + SELU (``drop``, ``act``; no dropout at 0), flatten, ``fc1`` Linear to ``hidden``,
    SELU (``fc1_act``). Its output is the "feature" that DE-3DGAN's stage 3 matches between
    real and synthetic frames.

    Parameters
    ----------
    n_inputs : int
        ``C H W``, the flattened size of the body's output.
    hidden : int
        Width of ``fc1``, the features.
    dropout : float
        Dropout probability before the SELU; at 0 the dropout layer is left out.
    """
    from torch import nn

    layers = _drop_selu(dropout, "") + [("flatten", nn.Flatten()), ("fc1", nn.Linear(n_inputs, hidden)),
                                        ("fc1_act", nn.SELU())]
    return nn.Sequential(OrderedDict(layers))


def sa_st_network(input_shape: tuple[int, ...], n_out: int, width: float = 1.0, fc_hidden: int = 1024,
                  dropout: float = 0.5) -> nn.Sequential:
    """SA-ST-Net: frames ``(n, channels, H, W) -> (n, n_out)``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, H, W)`` of one frame, e.g. (128, 9, 9).
    n_out : int
        Outputs: the number of classes, or 1 for a critic's score.
    width, dropout
        As in :func:`sa_st_body`.
    fc_hidden : int
        Width of the features, as ``hidden`` in :func:`sa_st_features`.

    Returns
    -------
    nn.Sequential
        Three named parts: ``body`` (:func:`sa_st_body`), ``features`` (:func:`sa_st_features`,
        output (n, fc_hidden)) and ``classify`` (Linear ``fc_hidden -> n_out``, no activation).
        Use :func:`logits_and_features` to get the outputs and the features in one pass.
    """
    from torch import nn

    n_inputs = scaled_widths(width)[-1] * math.prod(input_shape[1:])  # the body keeps the grid
    return nn.Sequential(OrderedDict(body=sa_st_body(input_shape[0], width, dropout),
                                     features=sa_st_features(n_inputs, fc_hidden, dropout),
                                     classify=nn.Linear(fc_hidden, n_out)))


def sa_st_critic(in_channels: int, width: float = 1.0, fc_hidden: int = 1024) -> nn.Sequential:
    """DE-3DGAN's WGAN critic: the dropout-free SA-ST-Net with one linear score per frame.

    At ``width`` 1, ``fc_hidden`` 1024 and 128 input channels it is the reference
    ``Discriminator(num_classes=1, in_channels=128)`` (2,670,471 parameters).

    Parameters
    ----------
    in_channels : int
        Time samples of a frame (128 for DE-3DGAN's 1-s frames).
    width, fc_hidden
        As in :func:`sa_st_network`.

    Returns
    -------
    nn.Sequential
        An :func:`sa_st_network` without dropout layers mapping frames (n, in_channels, 9, 9) to
        scores (n, 1), no sigmoid (WGAN).
    """
    return sa_st_network((in_channels, *GRID), 1, width, fc_hidden, dropout=0.0)


def logits_and_features(network: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One forward pass of an :func:`sa_st_network` returning its outputs and its features.

    Parameters
    ----------
    network : nn.Sequential
        From :func:`sa_st_network`, e.g. a fitted classifier's ``module_[1]``.
    x : Tensor, shape (n, channels, H, W)
        Input of the network: for a fitted :class:`SASTNet`, windows already standardised by
        ``module_[0]``.

    Returns
    -------
    logits : Tensor, shape (n, n_out)
    features : Tensor, shape (n, fc_hidden)
        The post-SELU output of ``fc1``.
    """
    features = network.features(network.body(x))
    return network.classify(features), features


@dataclass(frozen=True)
class SASTNetConfig(TorchConfig):
    """SA-ST-Net settings; the defaults are the reference code's (DE-3DGAN stage 2).

    Parameters
    ----------
    width : float
        Multiplier of the convolution widths 256, 128, 64, 32, 16 (each rounded, at least 1).
    fc_hidden : int
        Width of the feature layer ``fc1``.
    dropout : float
        Dropout before each SELU of L1-L4 and before the head.
    epochs, batch_size, lr, weight_decay
        As in :class:`~bench.classifiers.torch_training.TorchConfig` (reference: 300, 64, Adam
        1e-4, 5e-4).
    """

    width: float = 1.0
    fc_hidden: int = 1024
    dropout: float = 0.5
    epochs: int = 300
    batch_size: int = 64
    lr: float = 1e-4
    weight_decay: float = 5e-4

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        "quick": {"width": 0.125, "fc_hidden": 128, "epochs": 10, "lr": 3e-3},
        "paper": {},
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive_ints(self, "fc_hidden")
        check_width(self)

    @classmethod
    def tiny(cls) -> SASTNetConfig:
        return cls.for_profile("quick", {"width": 0.0625, "fc_hidden": 8, "epochs": 1, "batch_size": 16})

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        """Learning rate, weight decay, dropout and the width multiplier."""
        return {**TorchConfig.search_space(trial),
                "width": trial.suggest_categorical("width", [0.125, 0.25, 0.5, 1.0])}


@CLASSIFIERS.register("sa-st-net")
class SASTNet(TorchClassifier):
    """SA-ST-Net: DE-3DGAN's STNet with SE and spatial attention on raw 1-s frames over the 9x9 grid.

    The 128 time samples of a 1-s frame are the input channels of a 2-D CNN over the electrode
    grid. Four convolutions (3x3, 5x5, 5x5 and a depthwise-separable 5x5) take them to 256, 128,
    64 and 32 channels, each followed by dropout and SELU; a summed 1x1/3x3/5x5 "inception"
    layer to 16 channels, a squeeze-and-excitation channel gate and a CBAM spatial gate follow.
    The head is dropout + SELU, a 1024-unit SELU layer (the features matched by DE-3DGAN's
    stage 3) and a linear layer to the class logits. All convolutions keep the 9x9 grid (stride
    1, same padding); there is no pooling and no normalisation layer. 2,671,496 parameters for
    2 classes at the paper's size. See :func:`sa_st_body` for the layer table.

    "DE-3DGAN: A Differential Entropy-Driven 3D Generative Framework for EEG-Based Emotion
    Recognition", IEEE NER 2025. Reference code: github.com/K1os2U/DE-3DGAN at ``442b7e2``,
    ``SA-ST_Net_Classifier_Valence.py`` (``Classifier``). The
    backbone is GANSER's STNet (Zhang, Zhong, Liu, "GANSER: A Self-supervised Data Augmentation
    Framework for EEG-based Emotion Recognition", IEEE TAC 2022; github.com/tczhangzhi/PyTorch-GANSER,
    ``train_backbone.py``), also TorchEEG's ``torcheeg.models.STNet``.

    Input: ``raw-grid`` windows, shape (n, n_samples, 9, 9) (n_samples = 128 for DEAP's 1-s
    frames). Output of ``module_``: logits, shape (n, n_classes).

    Features: :meth:`features` (the shared torch one: the input of the last linear layer)
    returns the post-SELU ``fc1`` output of windows, shape (n, fc_hidden). For a torch pass that gives
    logits and features together (stage 3's loss), the declared hook :meth:`logits_and_features`.

    Parameters
    ----------
    config : SASTNetConfig
    info : DataInfo
    device : str

    Notes
    -----
    Deviations from the reference code (``442b7e2``):

    - Inputs are standardised per grid cell (mean and standard deviation over the training
      windows and the time samples, as ``eegnet`` does per channel); the reference feeds
      baseline-removed microvolts unscaled. Empty grid cells (constant 0) stay 0.
    - ``module_`` returns the logits only, as attacks need; the reference's ``forward`` returns
      (logits, features). :func:`logits_and_features` gives both.
    - The channel widths scale with ``width`` and the feature layer with ``fc_hidden``; at 1 and
      1024 (``paper``) the network is the reference's, parameter for parameter. The flattened
      size follows the input's grid instead of the hard-coded 9 x 9 x 16.
    - The dropout probability is a setting (reference: ``nn.Dropout()``, 0.5). The reference
      reuses one Dropout + SELU module at every position; having no parameters, separate
      modules are equivalent.
    - No per-epoch evaluation on the test fold: the model after the last epoch is kept, as the
      reference's final number does.
    - The ``quick`` profile is a CPU setting, not the paper's: width 1/8 (32, 16, 8, 4, 2
      channels), a 128-unit feature layer, 10 epochs at learning rate 3e-3. Fitting 1,000
      frames of (128, 9, 9) takes ~9 s on one thread (two threads are no faster). On the
      synthetic dataset's first two trial-kfold folds it reaches a balanced accuracy of 0.81
      and 0.70 (8 epochs at 1e-3 stay at chance). ``paper`` is the reference setting.
    - Seeds come from the run's derived generators; the reference sets none.
    """

    representation = "raw-grid"
    cost_s = 25.0
    norm_axes = (0, 1)
    hooks: ClassVar[frozenset[str]] = TorchClassifier.hooks | {"logits_and_features"}
    Config: ClassVar[type[SASTNetConfig]] = SASTNetConfig
    config: SASTNetConfig

    def logits_and_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (n, n_classes) and ``fc1`` features (n, fc_hidden) of windows ``x`` (n, n_samples, H, W)
        in their own units, with gradients (the fitted ``module_``'s standardisation applied first)."""
        standardize, network = self.module_
        return logits_and_features(network, standardize(x))

    def build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        """SA-ST-Net for windows of shape (n_samples, H, W) -> ``n_classes`` logits."""
        if len(input_shape) != 3:
            raise ConfigError(f"sa-st-net needs raw-grid windows of shape (samples, rows, columns), got {input_shape}")
        cfg = self.config
        return sa_st_network(input_shape, n_classes, cfg.width, cfg.fc_hidden, cfg.dropout)

