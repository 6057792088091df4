"""``ccnn``: the continuous CNN on 3-D band-DE cubes (bands x 9 x 9 electrode grid)."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from bench.classifiers.torch_training import TorchClassifier, TorchConfig
from bench.config import check_positive_ints, check_width
from bench.errors import ConfigError
from bench.registry import CLASSIFIERS

if TYPE_CHECKING:
    from torch import nn

WIDTHS = (64, 128, 256, 64)
"""Feature maps of the four convolutions at ``width`` 1."""
KERNEL = 4
"""Kernel size of every convolution (stride 1, 'same' padding)."""


@CLASSIFIERS.register("ccnn")
class CCNN(TorchClassifier):
    """Continuous CNN: four 'same' 4x4 convolutions and a 1024-unit layer on band-DE grids (Yang et al., 2018).

    The DE of every band is placed on the 9x9 electrode grid; the bands are the input channels
    of the "3-D cube". No pooling: every convolution keeps the grid.

    ========= ====================================================== ==============
    name      layer                                                  output
    ========= ====================================================== ==============
    conv1-4   Conv2d 4x4, stride 1, 'same' (zeros: 1 before, 2 after) (64 | 128 | 256 | 64, 9, 9)
              + ReLU, widths 64, 128, 256, 64
    fc        flatten, Linear to 1024, SELU, dropout                 (1024,)
    classify  Linear to the classes (softmax in the loss)            (n_classes,)
    ========= ====================================================== ==============

    With 4 bands (the paper's theta, alpha, beta, gamma) and 2 classes the network has
    6,233,602 parameters.

    Yang, Wu, Fu, Chen, "Continuous Convolutional Neural Network with 3D Input for EEG-Based
    Emotion Recognition", ICONIP 2018, LNCS 11307, 433-443. Authors' code (TensorFlow):
    github.com/ynulonger/DE_CNN, ``cnn.py``; the layer sizes follow TorchEEG's ``CCNN``, which
    cites the paper.

    Input: ``de-grid`` windows, shape (n, n_bands, 9, 9) (any grid size works). Output of
    ``module_``: logits, shape (n, n_classes).

    Parameters
    ----------
    config : CCNN.Config
    info : DataInfo
    device : str

    Notes
    -----
    Deviations from the paper and the reference implementations:

    - The layers are TorchEEG's ``CCNN`` (four 4x4 ReLU convolutions, 64-128-256-64), which
      implements the paper; the paper's text was not available here to check it line by line.
      The authors' ``cnn.py`` differs (three 4x4 convolutions with batch normalisation and
      SELU, no fourth layer).
    - The hidden layer's activation is SELU, as in the authors' code and TorchEEG (TorchEEG
      marks it "not mentioned in paper").
    - The authors' code adds ``0.5 * sum ||w||^2 / 2`` to the loss (an L2 penalty); it is not
      used here (``weight_decay`` 0; set it to 0.5 for the equivalent Adam penalty).
    - Inputs are standardised per feature (band x grid cell) with the training windows' mean and
      standard deviation; the paper feeds baseline-corrected DE unscaled. Empty grid cells
      (constant 0) stay 0.
    - A fixed number of epochs and the model after the last one. Adam 1e-4, batch 200, 80
      epochs and dropout 0.5 are the authors' code's; their learning rate drops when the
      training accuracy passes 0.8 and 0.85, not reproduced here.
    - The ``quick`` profile is a CPU setting, not the paper's: widths divided by 8 (8, 16, 32,
      8), a 128-unit hidden layer, 10 epochs at 1e-3: one fit on the synthetic dataset's first
      trial-kfold fold takes ~12 s on one thread, balanced accuracy 0.90 (5 folds: 0.877 +-
      0.028). ``paper`` is the paper's sizes.
    - Seeds come from the run's derived generators instead of numpy's global seed.
    """

    representation = "de-grid"
    cost_s = 3.0
    norm_axes = (0,)

    @dataclass(frozen=True)
    class Config(TorchConfig):
        """CCNN settings; the defaults are the paper's sizes and the authors' training settings.

        Parameters
        ----------
        width : float
            Multiplier of the convolution widths 64, 128, 256, 64 (each rounded, at least 1).
        fc_hidden : int
            Units of the hidden fully connected layer.
        dropout : float
            Dropout after the hidden layer.
        epochs, batch_size, lr, weight_decay
            As in :class:`~bench.classifiers.torch_training.TorchConfig`.
        """

        width: float = 1.0
        fc_hidden: int = 1024
        dropout: float = 0.5
        epochs: int = 80
        batch_size: int = 200
        lr: float = 1e-4

        PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
            "quick": {"width": 0.125, "fc_hidden": 128, "epochs": 10, "batch_size": 64, "lr": 1e-3},
            "paper": {},
        }

        def __post_init__(self) -> None:
            super().__post_init__()
            check_positive_ints(self, "fc_hidden")
            check_width(self)

        @classmethod
        def tiny(cls) -> CCNN.Config:
            return cls.for_profile("quick", {"width": 0.0625, "fc_hidden": 8, "epochs": 2, "batch_size": 16})

        @staticmethod
        def search_space(trial: Any) -> dict[str, Any]:
            """Learning rate, weight decay, dropout, epochs and the width multiplier."""
            return {**TorchConfig.search_space(trial), "epochs": trial.suggest_int("epochs", 10, 100, step=10),
                    "width": trial.suggest_categorical("width", [0.125, 0.25, 0.5, 1.0])}

    def build(self, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
        """CCNN for windows of shape (n_bands, rows, columns) -> ``n_classes`` logits."""
        from torch import nn

        if len(input_shape) != 3:
            raise ConfigError(f"ccnn needs de-grid windows of shape (bands, rows, columns), got {input_shape}")
        cfg = self.config
        widths = [max(1, round(w * cfg.width)) for w in WIDTHS]
        layers: list[tuple[str, nn.Module]] = []
        before = (KERNEL - 1) // 2  # TensorFlow's 'SAME': the extra zero of an even kernel goes after
        for i, (c_in, c_out) in enumerate(zip([input_shape[0], *widths], widths), start=1):
            layers += [(f"pad{i}", nn.ZeroPad2d((before, KERNEL - 1 - before) * 2)),
                       (f"conv{i}", nn.Conv2d(c_in, c_out, KERNEL)), (f"act{i}", nn.ReLU())]
        n_features = widths[-1] * math.prod(input_shape[1:])
        layers += [("flatten", nn.Flatten()), ("fc", nn.Linear(n_features, cfg.fc_hidden)), ("fc_act", nn.SELU()),
                   ("drop", nn.Dropout(cfg.dropout)), ("classify", nn.Linear(cfg.fc_hidden, n_classes))]
        return nn.Sequential(OrderedDict(layers))
